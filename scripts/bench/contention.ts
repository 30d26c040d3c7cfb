// What a benchmark needs to say about the machine it ran on, so that a slow figure can be told
// from a busy machine: CPU time next to wall time (the process's own, its worker threads
// included, and its reaped children's: the shadow forks' anvil, a spawned CLI), a fixed reference
// workload timed in the same sitting, the load and the other processes' CPU at the start, and
// whether a test run is going on (a benchmark must not be timed next to one).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux almost everywhere). */
const TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface CpuMark {
  wall: number;
  /** This process, all threads (process.cpuUsage is getrusage(RUSAGE_SELF): worker threads count). */
  self: NodeJS.CpuUsage;
  /** Children that exited and were reaped (cutime + cstime of /proc/self/stat), in ms. */
  childrenMs: number;
}

export interface CpuSpent {
  wallMs: number;
  /** CPU time of this process (main thread and every worker thread: the compilers, the pipeline). */
  cpuMs: number;
  /** CPU time of child processes that ended meanwhile (shadow forks' anvil, a spawned CLI and its children). */
  childCpuMs: number;
}

/** CPU time of reaped children, from /proc/self/stat; 0 where there is no /proc. */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    // Fields after the parenthesised command name, which may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // cutime and cstime are fields 16 and 17 of the whole line, 14 and 15 after the name and state.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS;
  } catch {
    return 0;
  }
}

export function cpuMark(): CpuMark {
  return { wall: performance.now(), self: process.cpuUsage(), childrenMs: childrenCpuMs() };
}

export function cpuSince(mark: CpuMark): CpuSpent {
  const self = process.cpuUsage(mark.self);
  return {
    wallMs: performance.now() - mark.wall,
    cpuMs: (self.user + self.system) / 1000,
    childCpuMs: childrenCpuMs() - mark.childrenMs,
  };
}

/**
 * A fixed amount of work (sha256 over 256 MiB, in 64 KiB pieces, on this thread): its wall time
 * on a quiet machine is stable, so a sitting whose reference is slower than usual was contended,
 * and its wall time above its CPU time says by how much.
 */
export function referenceWorkload(): { wallMs: number; cpuMs: number } {
  const piece = Buffer.alloc(64 * 1024, 0x5a);
  const mark = cpuMark();
  let digest = Buffer.alloc(32);
  for (let i = 0; i < 4096; i++) digest = createHash("sha256").update(digest).update(piece).digest();
  const spent = cpuSince(mark);
  if (digest.length !== 32) throw new Error("unreachable");
  return { wallMs: spent.wallMs, cpuMs: spent.cpuMs };
}

export interface MachineState {
  cores: number;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: number[];
  /** CPU the other processes used over the sample, in cores (0 to `cores`); undefined without /proc. */
  otherProcessesCores: number | undefined;
  /** Processes running node's test runner (`--test`): figures taken next to them are not comparable. */
  testRunners: number;
}

function busyTicks(): number | undefined {
  try {
    const [, ...times] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const [user, nice, system, , , irq, softirq, steal] = times.map(Number);
    return user! + nice! + system! + irq! + softirq! + (steal ?? 0);
  } catch {
    return undefined;
  }
}

function ownTicks(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return 0;
  }
}

function testRunners(): number {
  let count = 0;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (argv.some((arg) => arg === "--test" || arg.startsWith("--test="))) count++;
    } catch {
      // gone, or not ours to read
    }
  }
  return count;
}

/** The machine over `sampleMs` of this process sleeping: load, other processes' CPU, test runs. */
export async function machineState(sampleMs = 1000): Promise<MachineState> {
  const busy = busyTicks();
  const own = ownTicks();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const busyAfter = busyTicks();
  const seconds = (performance.now() - started) / 1000;
  const other = busy === undefined || busyAfter === undefined ? undefined : (busyAfter - busy - (ownTicks() - own)) / TICKS / seconds;
  return {
    cores: availableParallelism(),
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
    otherProcessesCores: other === undefined ? undefined : Math.max(0, Math.round(other * 100) / 100),
    testRunners: testRunners(),
  };
}
