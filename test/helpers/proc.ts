import { readFileSync } from "node:fs";

/**
 * Whether a process is running (Linux: /proc). A zombie, one that exited and has not been reaped
 * yet, is not; neither is a pid with no /proc entry.
 */
export function isAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[0] !== "Z";
  } catch {
    return false;
  }
}
