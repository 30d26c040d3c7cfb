// SolcCompilers: compiles a bundle's standard-JSON input with exactly the solc version it names.
// It owns a small pool of runners (workers) per installed release, started as requests need them,
// sends each compile to the least loaded one, keeps at most maxWorkers of them alive,
// and answers from the cache when it can: the memory LRU, then the disk, then a request already
// in flight for the same key; only then does a worker compile. An output whose messages include
// an error fails the call with COMPILATION_FAILED, from the cache as from solc.
import type { Logger } from "pino";
import type { Hex } from "viem";
import type { SolcInput } from "../../codec/bundle.ts";
import { canonicalJson } from "../../codec/canonicalJson.ts";
import { keyOf } from "./cacheKey.ts";
import { DiskCache } from "./diskCache.ts";
import { CompilationFailedError, CompilerClosedError, CompilerUnavailableError, commitMismatch, notInstalled } from "./errors.ts";
import { compareReleases, findInstalledCompilers, releaseOf, type InstalledCompiler } from "./installed.ts";
import { MemoryCache } from "./memoryCache.ts";
import { withDefaults, type ResolvedCompilersOptions, type SolcCompilersOptions } from "./options.ts";
import { parseOutput } from "./parseOutput.ts";
import { CompilerRunner } from "./runner.ts";
import { emptyStats, type CompilerStats } from "./stats.ts";
import type { SolcOutput } from "./types.ts";
import { WARM_INPUT, WARM_MAX_ROUNDS, WARM_SETTLED } from "./warmUp.ts";

export interface SolcCompilersModules {
  logger?: Logger;
  /** Milliseconds, for `ms` and LRU order; default performance.now. */
  now?: () => number;
}

export interface CompileResult {
  output: SolcOutput;
  /** True when this call did not run a compile of its own (memory, disk or a shared request). */
  cached: boolean;
  from: "compiled" | "memory" | "disk" | "shared";
  /** Wall time of this call. */
  ms: number;
  /** When from is "compiled": solc's own wall time and its thread's CPU time (less contention). */
  solc?: { ms: number; cpuMs: number };
}

export interface CompileOptions {
  timeoutMs?: number;
}

export interface WarmResult {
  /** Wall time of warm(), load included. */
  ms: number;
  /** Each worker of the version: its last load's wall time and solc's wall and CPU time per warm-up compile. */
  workers: { loadMs: number | undefined; rounds: { ms: number; cpuMs: number }[] }[];
}

export interface InstalledCompilerStatus extends InstalledCompiler {
  /** The full version, once the compiler has been loaded. */
  version: string | undefined;
  /** Wall time of its last load (worker start to soljson loaded). */
  loadMs: number | undefined;
  /** The worker thread's CPU time loading soljson (the load less contention). */
  loadCpuMs: number | undefined;
  /** Whether its worker is live. */
  running: boolean;
}

interface Produced {
  output: SolcOutput;
  from: "compiled" | "disk";
  solc?: { ms: number; cpuMs: number };
}

export class SolcCompilers {
  readonly #options: ResolvedCompilersOptions;
  readonly #now: () => number;
  /** By release ("0.8.28"): workersPerVersion runners each, started when a request needs them. */
  readonly #pools = new Map<string, CompilerRunner[]>();
  readonly #memory: MemoryCache;
  readonly #disk: DiskCache;
  readonly #inflight = new Map<Hex, Promise<Produced>>();
  readonly #pendingIo = new Set<Promise<unknown>>();
  #closed = false;
  readonly #stats: CompilerStats = emptyStats();

  constructor(options: SolcCompilersOptions, modules: SolcCompilersModules = {}) {
    this.#options = withDefaults(options);
    this.#now = modules.now ?? (() => performance.now());
    this.#memory = new MemoryCache({ maxEntries: this.#options.memoryEntries, maxBytes: this.#options.memoryBytes });
    this.#disk = new DiskCache(
      { dir: this.#options.cacheDir, maxEntries: this.#options.diskEntries },
      { stats: this.#stats, logger: modules.logger, track: (promise) => this.#track(promise) },
    );
    for (const compiler of options.compilers ?? findInstalledCompilers()) {
      if (this.#pools.has(compiler.release)) continue;
      const runner = () =>
        new CompilerRunner(
          compiler,
          { loadTimeoutMs: this.#options.loadTimeoutMs, maxQueued: this.#options.maxQueued },
          { stats: this.#stats, now: this.#now, installed: () => this.#installedNames() },
        );
      this.#pools.set(compiler.release, Array.from({ length: this.#options.workersPerVersion }, runner));
    }
  }

  /** The installed compilers, oldest release first. */
  installed(): InstalledCompilerStatus[] {
    return [...this.#pools.values()]
      .map((pool) => {
        const loaded = pool.find((p) => p.version !== undefined);
        return { ...pool[0]!.compiler, version: loaded?.version, loadMs: loaded?.loadMs, loadCpuMs: loaded?.loadCpuMs, running: pool.some((p) => p.alive) };
      })
      .sort((a, b) => compareReleases(a.release, b.release));
  }

  stats(): Readonly<CompilerStats> {
    return { ...this.#stats };
  }

  /**
   * Compiles `input` with solc `version` ("0.8.28+commit.7893614a"), from the cache if it can.
   * Throws a CompilerError: COMPILER_UNAVAILABLE, COMPILATION_FAILED (the output has errors),
   * COMPILE_TIMEOUT, COMPILER_CRASHED, COMPILER_BUSY or COMPILER_CLOSED. A request identical to
   * one in flight waits for that one (and its timeout).
   */
  async compile(version: string, input: SolcInput, options: CompileOptions = {}): Promise<CompileResult> {
    const started = this.#now();
    const pool = this.#poolFor(version);
    const text = canonicalJson(input);
    const key = keyOf(version, text);

    let output: SolcOutput;
    let from: CompileResult["from"];
    let solc: Produced["solc"];
    const remembered = this.#memory.get(key);
    const inflight = this.#inflight.get(key);
    if (remembered) {
      this.#stats.memoryHits++;
      ({ output } = remembered);
      from = "memory";
    } else if (inflight) {
      this.#stats.shared++;
      ({ output } = await inflight);
      from = "shared";
    } else {
      const produced: Promise<Produced> = this.#produce(pool, version, key, text, options.timeoutMs ?? this.#options.timeoutMs).finally(() => {
        if (this.#inflight.get(key) === produced) this.#inflight.delete(key);
      });
      this.#inflight.set(key, produced);
      ({ output, from, solc } = await produced);
    }

    const errors = output.errors.filter((e) => e.severity === "error");
    if (errors.length > 0) throw new CompilationFailedError(version, errors);
    const result: CompileResult = { output, cached: from !== "compiled", from, ms: this.#now() - started };
    if (solc) result.solc = solc;
    return result;
  }

  /**
   * The full version ("0.8.28+commit.7893614a") of the installed `release` ("0.8.28"), loading
   * the compiler if it has not been loaded yet. What a bundle author puts in BuildSpec.compiler.
   */
  async fullVersion(release: string): Promise<string> {
    if (this.#closed) throw new CompilerClosedError(release);
    const pool = this.#pools.get(release);
    if (!pool) throw notInstalled(release, release, this.#installedNames());
    const runner = pool.find((p) => p.version !== undefined) ?? pool.find((p) => p.alive) ?? pool[0]!;
    this.#makeRoomFor(runner);
    return runner.load();
  }

  /**
   * Loads every worker of `version`'s pool (those not running) and compiles a small contract with
   * each (maxRounds times, default WARM_MAX_ROUNDS, stopping once a round is not much faster), so
   * that the next real compiles neither wait for soljson nor run cold. Bypasses the cache. Meant
   * for start-up, for the versions a node or a `sentinel check` expects to need.
   */
  async warm(version: string, options: CompileOptions & { maxRounds?: number } = {}): Promise<WarmResult> {
    const started = this.#now();
    const pool = this.#poolFor(version);
    const text = canonicalJson(WARM_INPUT);
    const warmOne = async (runner: CompilerRunner): Promise<WarmResult["workers"][number]> => {
      const rounds: WarmResult["workers"][number]["rounds"] = [];
      for (let previous = Infinity; rounds.length < (options.maxRounds ?? WARM_MAX_ROUNDS); ) {
        this.#makeRoomFor(runner);
        const { output: json, ms, cpuMs } = await runner.run(version, text, options.timeoutMs ?? this.#options.timeoutMs);
        const errors = parseOutput(json).errors.filter((e) => e.severity === "error");
        if (errors.length > 0) throw new CompilationFailedError(version, errors);
        rounds.push({ ms, cpuMs });
        // CPU time, not wall time: on a busy machine wall time says more about the neighbours.
        if (cpuMs > previous * WARM_SETTLED) break;
        previous = cpuMs;
      }
      return { loadMs: runner.loadMs, rounds };
    };
    const workers = await Promise.all(pool.map(warmOne));
    return { ms: this.#now() - started, workers };
  }

  /**
   * An entry stored under a caller's own key (BuildCompiler's per-file code cache), from disk
   * only: a build looks up every source file, and dozens of small entries would push whole
   * compiles out of the small memory LRU.
   */
  async lookup(key: Hex, version: string): Promise<SolcOutput | undefined> {
    return (await this.#disk.get(key, version))?.output;
  }

  /** Counts what BuildCompiler's per-file code cache did, with the compilers' other counts. */
  countFileCode(hits: number, refused: number): void {
    this.#stats.fileCodeHits += hits;
    this.#stats.fileCodeRefused += refused;
  }

  /** Stores a solc-shaped output under a caller's own key, on disk (see lookup). */
  store(key: Hex, version: string, output: Pick<SolcOutput, "contracts">): void {
    this.#track(this.#disk.put(key, version, JSON.stringify({ contracts: output.contracts, sources: {}, errors: [] })));
  }

  /**
   * Starts loading every worker of `version`'s pool, without compiling anything, and resolves once
   * they are loaded. For a process that knows which version it will need before it has its input
   * ready (`sentinel check`, between reading the bundle and reading the chain): the ~0.6 s of
   * soljson load each then overlaps that work instead of preceding the first compile.
   */
  async preload(version: string): Promise<void> {
    const pool = this.#poolFor(version);
    await Promise.all(
      pool.map((runner) => {
        this.#makeRoomFor(runner);
        return runner.load({ running: true });
      }),
    );
  }

  /** Waits for the cache writes in progress: what is compiled is then on disk for another process. */
  async flush(): Promise<void> {
    while (this.#pendingIo.size > 0) await Promise.allSettled([...this.#pendingIo]);
  }

  /** Terminates every worker and fails what is queued; waits for cache writes in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#runners().map((p) => p.terminate(new CompilerClosedError(p.version ?? p.compiler.release))));
    while (this.#pendingIo.size > 0) await Promise.allSettled([...this.#pendingIo]);
  }

  #runners(): CompilerRunner[] {
    return [...this.#pools.values()].flat();
  }

  #poolFor(version: string): CompilerRunner[] {
    if (this.#closed) throw new CompilerClosedError(version);
    const installed = this.#installedNames();
    const release = releaseOf(version);
    if (release === undefined) {
      throw new CompilerUnavailableError(
        version,
        `"${version}" is not a full solc version such as "0.8.28+commit.7893614a"; installed: ${installed.join(", ") || "none"}`,
        installed,
      );
    }
    const pool = this.#pools.get(release);
    if (!pool) throw notInstalled(version, release, installed);
    const loaded = pool.find((p) => p.version !== undefined);
    if (loaded && loaded.version !== version) throw commitMismatch(version, loaded, installed);
    return pool;
  }

  /**
   * The worker with the fewest requests; of equals, a running one (no load to wait for). A busy
   * pool thus starts its next worker rather than queue behind a long compile.
   */
  #pick(pool: readonly CompilerRunner[]): CompilerRunner {
    return [...pool].sort((a, b) => a.pending - b.pending || Number(b.alive) - Number(a.alive) || a.lastUsed - b.lastUsed)[0]!;
  }

  #installedNames(): string[] {
    return this.installed().map((c) => c.version ?? `${c.release} (${c.packageName}, commit known once loaded)`);
  }

  async #produce(pool: readonly CompilerRunner[], version: string, key: Hex, text: string, timeoutMs: number): Promise<Produced> {
    const fromDisk = await this.#disk.get(key, version);
    if (fromDisk) {
      this.#stats.diskHits++;
      this.#memory.set(key, fromDisk);
      return { output: fromDisk.output, from: "disk" };
    }
    if (this.#closed) throw new CompilerClosedError(version);
    const runner = this.#pick(pool);
    this.#makeRoomFor(runner);
    const { output: json, ms, cpuMs } = await runner.run(version, text, timeoutMs);
    this.#stats.compiles++;
    const output = parseOutput(json);
    this.#memory.set(key, { output, bytes: json.length });
    this.#track(this.#disk.put(key, version, json));
    return { output, from: "compiled", solc: { ms, cpuMs } };
  }

  /** Keeps live workers within maxWorkers by terminating the least recently used idle one. */
  #makeRoomFor(runner: CompilerRunner): void {
    runner.lastUsed = this.#now();
    if (runner.alive) return;
    const alive = this.#runners().filter((p) => p.alive);
    const idle = alive.filter((p) => p.idle).sort((a, b) => a.lastUsed - b.lastUsed);
    // When every live worker is busy the bound is exceeded rather than a request refused.
    for (let excess = alive.length + 1 - this.#options.maxWorkers; excess > 0; excess--) {
      const victim = idle.shift();
      if (!victim) break;
      this.#stats.workerEvictions++;
      this.#track(victim.terminate(new CompilerClosedError(victim.version ?? victim.compiler.release)));
    }
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => undefined).finally(() => this.#pendingIo.delete(tracked));
    this.#pendingIo.add(tracked);
  }
}
