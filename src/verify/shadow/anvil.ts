// The anvil processes Sentinel starts: a shadow deployment's fork (run.ts), a devnet's or a
// test's chain. The launcher, the owner of a set of running ones (AnvilProcesses), and the
// records that let the next process kill what a crash left running (killOrphanedAnvils).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

export interface AnvilOptions {
  chainId: number;
  /** 0 lets the OS pick a free port; anvil prints the one it bound. */
  port?: number;
  /** Seconds between blocks; omitted = a block per transaction (automine). */
  blockTimeSeconds?: number;
  /** Fork this RPC URL (shadow deployments). */
  forkUrl?: string;
  forkBlockNumber?: bigint;
  /** Extra argv, for options not modelled here. */
  extraArgs?: string[];
  /** Aborting while anvil starts kills it and rejects; once started, stop() is the caller's. */
  signal?: AbortSignal;
}

export interface AnvilInstance {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Set in each recorded anvil's environment to its record directory. The record is written just
 * after the spawn, and an owner SIGKILLed in between (a worker thread at nice 19 on a busy
 * machine can be descheduled right there) left an anvil no record names: the crash campaign of
 * `npm run test:adversarial` found such orphans. The environment is there from the exec on.
 */
const RECORD_ENV = "SENTINEL_ANVIL_RECORD_DIR";

/** How long anvil may take to print its listening address before we call it failed. */
const START_TIMEOUT_MS = 20_000;

export interface AnvilProcessesOptions {
  /**
   * A directory where each anvil is also written down while it runs (a file named by its pid,
   * holding its start time), for what no close covers: a SIGKILL or a crash. The next process on
   * the same directory kills what the last one left with killOrphanedAnvils. Linux only: the start
   * time, which tells a reused pid apart, comes from /proc.
   */
  recordDir?: string;
}

/**
 * The anvils one owner started and that have not exited: the shadow forks of a pipeline worker
 * thread, a devnet's chains. An owner that ends while a run's own stop() is still ahead (a worker
 * closed mid-verification, a process exiting) calls killAll: otherwise they would outlive it,
 * since anvil does not notice its parent going. The owner creates it and closes it; nothing here
 * registers an exit hook.
 */
export class AnvilProcesses {
  readonly #running = new Set<ChildProcess>();
  readonly #recordDir: string | undefined;

  constructor(options: AnvilProcessesOptions = {}) {
    if (options.recordDir !== undefined && process.platform === "linux") {
      mkdirSync(options.recordDir, { recursive: true });
      this.#recordDir = resolve(options.recordDir);
    }
  }

  /** Starts anvil as startAnvil does, kept until it exits. Always `stop()` what you start. */
  start(options: AnvilOptions): Promise<AnvilInstance> {
    const env = this.#recordDir === undefined ? undefined : { [RECORD_ENV]: this.#recordDir };
    return launch(options, (child) => {
      this.#running.add(child);
      child.once("exit", () => this.#running.delete(child));
      if (this.#recordDir !== undefined) record(this.#recordDir, child);
    }, env);
  }

  /** How many still run. */
  get size(): number {
    return this.#running.size;
  }

  /** SIGKILLs every anvil started here that is still running. Synchronous: safe at exit. */
  killAll(): number {
    const killed = this.#running.size;
    for (const child of this.#running) child.kill("SIGKILL");
    this.#running.clear();
    return killed;
  }
}

/**
 * SIGKILLs the anvils recorded in `dir` that still run (the same pid and start time), and any
 * anvil whose environment names `dir` (spawned, not yet recorded, when its owner died); clears it.
 */
export function killOrphanedAnvils(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0; // nothing was ever recorded here
  }
  const marked = markedWith(`${RECORD_ENV}=${resolve(dir)}`);
  let killed = 0;
  for (const name of names) {
    const file = join(dir, name);
    const pid = Number(name);
    const recorded = readRecord(file);
    if (Number.isSafeInteger(pid) && pid > 0 && recorded !== undefined && recorded === startTimeOf(pid)) {
      try {
        process.kill(pid, "SIGKILL");
        killed++;
      } catch {
        // exited meanwhile
      }
    }
    marked.delete(pid);
    rmSync(file, { force: true, recursive: true });
  }
  for (const pid of marked) {
    try {
      process.kill(pid, "SIGKILL");
      killed++;
    } catch {
      // exited meanwhile
    }
  }
  return killed;
}

/** Pids whose environment holds `entry` (Linux /proc; another user's processes cannot be read, and are skipped). */
function markedWith(entry: string): Set<number> {
  const pids = new Set<number>();
  let all: string[];
  try {
    all = readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const name of all) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "utf8").split("\0").includes(entry)) pids.add(Number(name));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

/** A record's start time; a file that cannot be read (removed meanwhile, not a file) has none. */
function readRecord(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
function startTimeOf(pid: number): string | undefined {
  try {
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[19];
  } catch {
    return undefined;
  }
}

function record(dir: string, child: ChildProcess): void {
  const pid = child.pid;
  const startTime = pid === undefined ? undefined : startTimeOf(pid);
  if (startTime === undefined) return;
  const file = join(dir, String(pid));
  writeFileSync(file, startTime);
  child.once("exit", () => rmSync(file, { force: true }));
}

/**
 * The anvil binary: the one shipped in the @foundry-rs/anvil-<platform> npm package when it is
 * installed (linux-x64 here, an optional dependency), otherwise `anvil` from PATH (foundryup).
 * Spawning the binary itself, not a node wrapper, means a kill reaches anvil directly.
 */
export function anvilBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  try {
    const manifest = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`);
    return join(dirname(manifest), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
  } catch {
    return "anvil";
  }
}

/**
 * Starts anvil on loopback and resolves once it accepts RPC. Always `stop()` what you start: no
 * one else will (AnvilProcesses.start keeps it for an owner that can kill it at its end).
 */
export function startAnvil(options: AnvilOptions): Promise<AnvilInstance> {
  return launch(options, undefined);
}

async function launch(options: AnvilOptions, spawned: ((child: ChildProcess) => void) | undefined, env?: Record<string, string>): Promise<AnvilInstance> {
  options.signal?.throwIfAborted();
  const args = ["--host", "127.0.0.1", "--port", String(options.port ?? 0), "--chain-id", String(options.chainId)];
  if (options.blockTimeSeconds !== undefined) args.push("--block-time", String(options.blockTimeSeconds));
  if (options.forkUrl !== undefined) args.push("--fork-url", options.forkUrl);
  if (options.forkBlockNumber !== undefined) args.push("--fork-block-number", options.forkBlockNumber.toString());
  args.push(...(options.extraArgs ?? []));

  const child = spawn(anvilBinaryPath(), args, { stdio: ["ignore", "pipe", "pipe"], ...(env !== undefined && { env: { ...process.env, ...env } }) });
  spawned?.(child);
  const port = await waitForListening(child, options.signal);
  const rpcUrl = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    rpcUrl,
    chainId: options.chainId,
    port,
    pid: child.pid ?? -1,
    stop() {
      stopped ??= stopProcess(child);
      return stopped;
    },
  };
}

function waitForListening(child: ChildProcess, signal: AbortSignal | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`anvil did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    // Aborted: kill it and reject once it has exited, so nothing outlives the caller's deadline.
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      child.kill("SIGKILL");
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on [\d.]+:(\d+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        child.stdout?.off("data", onData);
        // Keep draining so a full pipe never blocks anvil.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(Number(match[1]));
      }
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      child.kill("SIGKILL");
      reject(error);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", (error: NodeJS.ErrnoException) =>
      fail(
        error.code === "ENOENT"
          ? new Error("anvil not found: install Foundry (foundryup) or run on linux-x64, where npm ci installs it")
          : error,
      ),
    );
    child.once("exit", (code) =>
      fail(aborted ? new Error("anvil start aborted", { cause: signal?.reason }) : new Error(`anvil exited with code ${code} before listening:\n${output}`)),
    );
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
