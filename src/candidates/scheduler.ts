// The verification queue: admitted candidates wait here for one of `concurrency` verification
// slots. The queue is bounded; a candidate that does not fit is counted as dropped and is not
// lost: it is in the candidate store, and once the queue has room again the scheduler refills it
// from there. A verification this node could not carry out (no peer served the bundle yet, the
// pipeline worker died) is retried with a capped backoff until the candidate expires.
import type { Logger } from "pino";
import type { Hex } from "viem";
import type { AdmittedCandidate } from "../admission/admission.ts";
import { SentinelError } from "../errors.ts";
import { backoff } from "../util/backoff.ts";
import type { Clock, Timer } from "../util/clock.ts";

export interface SchedulerOptions {
  /** Verifications at once: each is mostly waiting on RPC or on the worker thread. */
  concurrency: number;
  /** Candidates waiting beyond the running ones; more are dropped and refilled later. */
  maxQueue: number;
  /** Backoff before retry n: min(maxMs, initialMs * 2^(n-1)). */
  retry: { initialMs: number; maxMs: number };
}

export const DEFAULT_SCHEDULER: SchedulerOptions = {
  concurrency: 4,
  maxQueue: 1024,
  retry: { initialMs: 3_000, maxMs: 30_000 },
};

/** Thrown by `run` when this node could not verify the candidate now; the scheduler retries. */
export class VerifyLaterError extends SentinelError<"VERIFY_LATER", { candidateId: Hex }> {
  override name = "VerifyLaterError";
}

export interface SchedulerModules {
  /** Verifies and signs one candidate. Throws VerifyLaterError to be retried. */
  run(admitted: AdmittedCandidate): Promise<void>;
  /** Stored candidates still owed a verification, oldest first: where drops are refilled from. */
  backlog(): AsyncIterable<AdmittedCandidate>;
  clock: Clock;
  logger: Logger;
}

export interface SchedulerStats {
  dropped: number;
  retries: number;
  refilled: number;
  /** Gave up: the candidate expired before this node could verify it. */
  expired: number;
  failed: number;
}

export class VerificationScheduler {
  readonly #options: SchedulerOptions;
  readonly #m: SchedulerModules;
  readonly #queue: AdmittedCandidate[] = [];
  /** Queued, running or waiting for a retry: never twice at once. */
  readonly #known = new Set<Hex>();
  readonly #attempts = new Map<Hex, number>();
  readonly #timers = new Map<Hex, Timer>();
  #running = 0;
  /** Something was dropped since the last complete refill. */
  #overflowed = false;
  #refilling = false;
  #stopped = false;
  readonly #idle = new Set<() => void>();
  readonly stats: SchedulerStats = { dropped: 0, retries: 0, refilled: 0, expired: 0, failed: 0 };

  constructor(options: Partial<SchedulerOptions>, modules: SchedulerModules) {
    this.#options = { ...DEFAULT_SCHEDULER, ...options };
    this.#m = modules;
  }

  get queued(): number {
    return this.#queue.length;
  }

  get running(): number {
    return this.#running;
  }

  /** Queues a candidate; false when it was already known or did not fit (then counted and refilled later). */
  enqueue(admitted: AdmittedCandidate): boolean {
    if (this.#stopped || this.#known.has(admitted.id)) return false;
    if (this.#queue.length >= this.#options.maxQueue) {
      this.stats.dropped++;
      this.#overflowed = true;
      this.#m.logger.warn({ candidate: admitted.id }, "verification queue full; the candidate waits in the store");
      return false;
    }
    this.#known.add(admitted.id);
    this.#queue.push(admitted);
    this.#drain();
    return true;
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
    this.#queue.length = 0;
  }

  /** Resolves when nothing is queued or running (retry timers may be set). For tests. */
  whenIdle(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0 && !this.#refilling) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  #drain(): void {
    while (!this.#stopped && this.#running < this.#options.concurrency && this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      this.#running++;
      void this.#runOne(next).finally(() => {
        this.#running--;
        this.#drain();
        this.#maybeRefill();
        this.#notifyIdle();
      });
    }
  }

  async #runOne(admitted: AdmittedCandidate): Promise<void> {
    try {
      await this.#m.run(admitted);
      this.#attempts.delete(admitted.id);
      this.#known.delete(admitted.id);
    } catch (error) {
      if (error instanceof VerifyLaterError) return this.#retryLater(admitted, error);
      this.stats.failed++;
      this.#attempts.delete(admitted.id);
      this.#known.delete(admitted.id);
      this.#m.logger.error({ err: error, candidate: admitted.id }, "verification failed");
    }
  }

  #retryLater(admitted: AdmittedCandidate, error: VerifyLaterError): void {
    const attempts = (this.#attempts.get(admitted.id) ?? 0) + 1;
    const expiresAt = Number(admitted.signed.candidate.expiresAt) * 1000;
    const delay = backoff(attempts, { initial: this.#options.retry.initialMs, max: this.#options.retry.maxMs });
    if (this.#stopped || this.#m.clock.now() + delay >= expiresAt) {
      this.#attempts.delete(admitted.id);
      this.#known.delete(admitted.id);
      if (!this.#stopped) {
        this.stats.expired++;
        this.#m.logger.warn({ candidate: admitted.id, attempts, reason: error.message }, "not verified: the candidate expires before this node could verify it");
      }
      return;
    }
    this.stats.retries++;
    this.#attempts.set(admitted.id, attempts);
    this.#m.logger.info({ candidate: admitted.id, attempt: attempts, retryInMs: delay, reason: error.message }, "not verified yet; retrying");
    this.#timers.set(
      admitted.id,
      this.#m.clock.setTimeout(() => {
        this.#timers.delete(admitted.id);
        if (this.#stopped) return;
        this.#queue.push(admitted);
        this.#drain();
      }, delay),
    );
  }

  /** After drops, once the queue is half empty: take the owed candidates from the store again. */
  #maybeRefill(): void {
    if (!this.#overflowed || this.#refilling || this.#stopped || this.#queue.length > this.#options.maxQueue / 2) return;
    this.#refilling = true;
    this.#overflowed = false;
    void (async () => {
      try {
        for await (const admitted of this.#m.backlog()) {
          if (this.#stopped) break;
          if (this.#known.has(admitted.id)) continue;
          if (this.#queue.length >= this.#options.maxQueue) {
            this.#overflowed = true;
            break;
          }
          this.#known.add(admitted.id);
          this.#queue.push(admitted);
          this.stats.refilled++;
        }
      } catch (error) {
        this.#overflowed = true;
        this.#m.logger.error({ err: error }, "could not refill the verification queue from the store");
      } finally {
        this.#refilling = false;
        this.#drain();
        this.#notifyIdle();
      }
    })();
  }

  #notifyIdle(): void {
    if (this.#running > 0 || this.#queue.length > 0 || this.#refilling) return;
    for (const resolve of this.#idle) resolve();
    this.#idle.clear();
  }
}
