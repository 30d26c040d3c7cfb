// A thread's own scheduling priority. Work on untrusted or bulky input (verification, signature
// recovery) runs in worker threads that ask for a higher nice value, so that where they share a
// CPU with the node's main thread the OS runs the main thread at once.
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Lowers the calling thread's priority only. On Linux a thread has its own id and nice value;
 * /proc/thread-self names it ("<pid>/task/<tid>").
 */
export function lowerThisThreadPriority(niceness: number): void {
  if (niceness <= 0 || process.platform !== "linux") return;
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").at(-1));
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, niceness);
  } catch {
    // No procfs, or the OS refused: normal priority, not a failure.
  }
}
