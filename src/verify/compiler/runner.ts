// One compiler's worker thread: starts it, waits for it to load soljson, runs its queue one
// request at a time, and restarts it after a timeout or a crash. Workers are long-lived because
// loading soljson is the slow part (a warm worker compiles about twice as fast as a cold one) and
// a compile blocks its thread; each version has a small pool of them (compilers.ts).
import { Worker } from "node:worker_threads";
import {
  commitMismatch,
  CompilerBusyError,
  CompilerCrashedError,
  CompilerUnavailableError,
  CompileTimeoutError,
} from "./errors.ts";
import type { InstalledCompiler } from "./installed.ts";
import type { CompilerStats } from "./stats.ts";
import type { CompileRequest, WorkerInit, WorkerMessage } from "./worker.ts";

interface Job {
  id: number;
  expected: string;
  input: string;
  timeoutMs: number;
  resolve(result: SolcRun): void;
  reject(error: Error): void;
}

interface SolcRun {
  /** solc's standard-JSON output. */
  output: string;
  ms: number;
  cpuMs: number;
}

interface RunnerModules {
  /** Shared with the SolcCompilers that owns the runner. */
  stats: CompilerStats;
  now: () => number;
  /** Installed versions, for error messages. */
  installed: () => string[];
}

const WORKER_URL = new URL("./worker.ts", import.meta.url);

export class CompilerRunner {
  readonly compiler: InstalledCompiler;
  /** The full version the package reported; undefined until it has been loaded once. */
  version: string | undefined;
  loadMs: number | undefined;
  loadCpuMs: number | undefined;
  lastUsed = 0;
  readonly #options: { loadTimeoutMs: number; maxQueued: number };
  readonly #modules: RunnerModules;
  #worker: Worker | undefined;
  #ready = false;
  #loadTimer: NodeJS.Timeout | undefined;
  readonly #queue: Job[] = [];
  #running: { job: Job; timer: NodeJS.Timeout } | undefined;
  readonly #loadWaiters: { resolve(version: string): void; reject(error: Error): void }[] = [];
  #nextId = 1;

  constructor(compiler: InstalledCompiler, options: { loadTimeoutMs: number; maxQueued: number }, modules: RunnerModules) {
    this.compiler = compiler;
    this.#options = options;
    this.#modules = modules;
  }

  get alive(): boolean {
    return this.#worker !== undefined;
  }

  get idle(): boolean {
    return this.#running === undefined && this.#queue.length === 0 && this.#loadWaiters.length === 0;
  }

  /** Requests running or queued: a version's pool sends the next one to the least loaded worker. */
  get pending(): number {
    return this.#queue.length + (this.#running === undefined ? 0 : 1);
  }

  /** solc's output JSON for `input` and solc's time, compiled by this package if it is `expected`. */
  run(expected: string, input: string, timeoutMs: number): Promise<SolcRun> {
    if (this.#queue.length >= this.#options.maxQueued) {
      this.#modules.stats.busy++;
      return Promise.reject(new CompilerBusyError(expected, this.#queue.length));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, expected, input, timeoutMs, resolve, reject });
      this.#kick();
    });
  }

  /** The full version, loading the compiler if it never was (or, with `running`, if it is not loaded now). */
  load(options: { running?: boolean } = {}): Promise<string> {
    const loaded = this.version !== undefined && (!options.running || (this.#worker !== undefined && this.#ready));
    if (loaded) return Promise.resolve(this.version!);
    return new Promise((resolve, reject) => {
      this.#loadWaiters.push({ resolve, reject });
      (this.#worker ?? this.#start()).ref();
    });
  }

  /** Fails the running and queued requests with `reason` and terminates the worker. */
  async terminate(reason: Error): Promise<void> {
    const worker = this.#discardWorker();
    for (const waiter of this.#loadWaiters.splice(0)) waiter.reject(reason);
    if (this.#running) {
      clearTimeout(this.#running.timer);
      this.#running.job.reject(reason);
      this.#running = undefined;
    }
    for (const job of this.#queue.splice(0)) job.reject(reason);
    await worker?.terminate();
  }

  #kick(): void {
    while (this.#running === undefined) {
      const job = this.#queue[0];
      if (!job) {
        this.#worker?.unref(); // an idle worker must not keep the process alive
        return;
      }
      const worker = this.#worker ?? this.#start();
      worker.ref();
      if (!this.#ready) return; // "loaded" kicks again
      this.#queue.shift();
      if (this.version !== job.expected) {
        job.reject(commitMismatch(job.expected, this, this.#modules.installed()));
        continue;
      }
      const timer = setTimeout(() => this.#timeout(), job.timeoutMs);
      this.#running = { job, timer };
      worker.postMessage({ id: job.id, input: job.input } satisfies CompileRequest);
    }
  }

  #start(): Worker {
    const started = this.#modules.now();
    const worker = new Worker(WORKER_URL, { workerData: { entry: this.compiler.entry } satisfies WorkerInit });
    this.#modules.stats.workerStarts++;
    this.#worker = worker;
    this.#ready = false;
    this.#loadTimer = setTimeout(
      () => this.#loadFailed(worker, `did not load within ${this.#options.loadTimeoutMs} ms`),
      this.#options.loadTimeoutMs,
    );
    let lastError: Error | undefined;
    worker.on("error", (error: Error) => (lastError = error));
    worker.on("message", (message: WorkerMessage) => {
      if (this.#worker !== worker) return;
      switch (message.type) {
        case "loaded":
          clearTimeout(this.#loadTimer);
          this.#ready = true;
          this.version = message.version;
          this.loadMs = this.#modules.now() - started;
          this.loadCpuMs = message.cpuMs;
          for (const waiter of this.#loadWaiters.splice(0)) waiter.resolve(message.version);
          this.#kick();
          return;
        case "loadFailed":
          this.#loadFailed(worker, message.message);
          return;
        case "result":
        case "failed":
          this.#settle(message);
          return;
      }
    });
    worker.on("exit", (code) => {
      if (this.#worker !== worker) return; // terminated on purpose
      const wasReady = this.#ready;
      this.#discardWorker();
      const why = lastError ? `: ${lastError.message}` : ` with code ${code}`;
      if (!wasReady) {
        this.#failQueue(new CompilerUnavailableError(this.compiler.release, `solc ${this.compiler.release} (${this.compiler.packageName}) exited while loading${why}`, this.#modules.installed(), { cause: lastError }));
        return;
      }
      const running = this.#running;
      if (running) {
        clearTimeout(running.timer);
        this.#running = undefined;
        this.#modules.stats.crashes++;
        running.job.reject(new CompilerCrashedError(running.job.expected, `solc ${running.job.expected} worker died${why}`, { cause: lastError }));
      }
      this.#kick(); // a new worker for what is still queued
    });
    return worker;
  }

  #settle(message: Extract<WorkerMessage, { type: "result" | "failed" }>): void {
    const running = this.#running;
    if (!running || running.job.id !== message.id) return;
    clearTimeout(running.timer);
    this.#running = undefined;
    if (message.type === "result") running.job.resolve({ output: message.output, ms: message.ms, cpuMs: message.cpuMs });
    else {
      this.#modules.stats.crashes++;
      running.job.reject(new CompilerCrashedError(running.job.expected, `solc ${running.job.expected} threw: ${message.message}`));
    }
    this.#kick();
  }

  #timeout(): void {
    const running = this.#running;
    if (!running) return;
    this.#running = undefined;
    this.#modules.stats.timeouts++;
    void this.#discardWorker()?.terminate();
    running.job.reject(new CompileTimeoutError(running.job.expected, running.job.timeoutMs));
    this.#kick(); // the next request gets a fresh worker
  }

  /** The worker could not load soljson: every waiting request fails; the next one tries again. */
  #loadFailed(worker: Worker, why: string): void {
    if (this.#worker !== worker) return;
    void this.#discardWorker()?.terminate();
    this.#failQueue(new CompilerUnavailableError(this.compiler.release, `solc ${this.compiler.release} (${this.compiler.packageName}) could not be loaded: ${why}`, this.#modules.installed()));
  }

  #failQueue(error: Error): void {
    for (const waiter of this.#loadWaiters.splice(0)) waiter.reject(error);
    for (const job of this.#queue.splice(0)) job.reject(error);
  }

  #discardWorker(): Worker | undefined {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = false;
    clearTimeout(this.#loadTimer);
    return worker;
  }
}
