// The main thread's side of the verification worker (pipelineWorkerThread.ts): starts it on first use,
// answers its enrollment questions, and restarts it after a crash. A crash fails only the
// verifications it was running; the node tries those candidates again later.
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import { SentinelError } from "../../errors.ts";
import type { Enrollment } from "../context.ts";
import type { PipelineResult } from "../pipeline.ts";
import type { FromPipelineWorker, ToPipelineWorker, PipelineWorkerInit, VerifyJob } from "./pipelineWorkerThread.ts";

export type { VerifyJob } from "./pipelineWorkerThread.ts";

const WORKER_URL = new URL("./pipelineWorkerThread.ts", import.meta.url);
/** How long close() lets the worker close its compilers before terminating it. */
const CLOSE_TIMEOUT_MS = 5_000;

export type PipelineWorkerErrorCode =
  /** close() was called: before the verification, or while it ran. */
  | "WORKER_CLOSED"
  /** The worker thread died (a crash); the next verification starts a new one. */
  | "WORKER_DIED"
  /** The pipeline threw instead of returning findings: a bug, not a finding. */
  | "PIPELINE_THREW";

export class PipelineWorkerError extends SentinelError<PipelineWorkerErrorCode> {
  override name = "PipelineWorkerError";
  constructor(code: PipelineWorkerErrorCode, message: string) {
    super(code, message);
  }
}

export interface PipelineWorkerModules {
  /** The node's (cached) enrollment read, for the origin check. */
  enrollment(job: VerifyJob): Promise<Enrollment>;
  logger: Logger;
}

interface Pending {
  job: VerifyJob;
  /** The thread it was sent to: a retiring thread's exit fails only its own. */
  worker: Worker;
  resolve(result: PipelineResult): void;
  reject(error: Error): void;
}

export class PipelineWorker {
  readonly #init: PipelineWorkerInit;
  readonly #modules: PipelineWorkerModules;
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closed = false;

  constructor(init: PipelineWorkerInit, modules: PipelineWorkerModules) {
    this.#init = init;
    this.#modules = modules;
  }

  verify(job: VerifyJob): Promise<PipelineResult> {
    if (this.#closed) return Promise.reject(new PipelineWorkerError("WORKER_CLOSED", "the pipeline worker is closed"));
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { job, worker, resolve, reject });
      worker.postMessage({ type: "verify", id, job } satisfies ToPipelineWorker);
    });
  }

  /** Lets the worker close its compiler threads, then ends it; pending verifications fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      worker.on("message", (message: FromPipelineWorker) => {
        if (message.type === "closed") {
          clearTimeout(timer);
          resolve();
        }
      });
      worker.postMessage({ type: "close" } satisfies ToPipelineWorker);
    });
    this.#worker = undefined;
    await worker.terminate();
    this.#failAll(new PipelineWorkerError("WORKER_CLOSED", "the pipeline worker was closed"));
  }

  #start(): Worker {
    const worker = new Worker(WORKER_URL, { workerData: this.#init satisfies PipelineWorkerInit });
    this.#worker = worker;
    let lastError: Error | undefined;
    worker.on("error", (error: Error) => (lastError = error));
    worker.on("message", (message: FromPipelineWorker) => {
      switch (message.type) {
        case "result":
          this.#settle(message.id)?.resolve(message.result);
          return;
        case "failed":
          this.#settle(message.id)?.reject(new PipelineWorkerError("PIPELINE_THREW", `the pipeline threw: ${message.message}`));
          return;
        case "retiring":
          // Its z3 failed (capabilities/solver.ts): the next verification starts a new thread.
          if (this.#worker === worker) this.#worker = undefined;
          this.#modules.logger.warn("the verification worker's solver failed; the worker ends and the next verification starts a new one");
          return;
        case "enrollment": {
          const pending = this.#pending.get(message.id);
          if (!pending) return;
          this.#modules.enrollment(pending.job).then(
            (answer) => worker.postMessage({ type: "enrollment", id: message.id, answer } satisfies ToPipelineWorker),
            (error: unknown) => worker.postMessage({ type: "enrollment", id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies ToPipelineWorker),
          );
          return;
        }
      }
    });
    worker.on("exit", (code) => {
      if (this.#worker !== worker) {
        // Closed on purpose (close() fails what is pending), or retired: what was sent to it after
        // it retired is tried again.
        if (!this.#closed) this.#failAll(new PipelineWorkerError("WORKER_DIED", "the verification worker retired before it could verify"), worker);
        return;
      }
      this.#worker = undefined;
      const why = lastError ? lastError.message : `exit code ${code}`;
      this.#modules.logger.error({ err: lastError, code }, "verification worker died; the next verification starts a new one");
      this.#failAll(new PipelineWorkerError("WORKER_DIED", `the verification worker died (${why})`));
    });
    return worker;
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    return pending;
  }

  #failAll(error: Error, of?: Worker): void {
    for (const [id, pending] of this.#pending) {
      if (of !== undefined && pending.worker !== of) continue;
      this.#pending.delete(id);
      pending.reject(error);
    }
  }
}
