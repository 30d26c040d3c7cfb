// The durable relay: an attestation this node holds is relayed until it is recorded, final, on
// every configured chain, or a chain's registry refuses it for good (a newer decision for the
// target supersedes it, it expired). The pending work lives in the database, written in the same
// atomic batch as the attestation itself, so neither an RPC outage of any length, nor a chain
// restart, nor a restart of this node loses it: a failed relay is dispatched again after a capped
// backoff, and a restarted node dispatches everything still pending.
//
// The per-chain relayer (chains/relayer.ts) owns one relay attempt's safety (simulate, sign once,
// never replace a transaction); this part owns "until done". A chain is done when the digest is
// recorded at the chain's head minus its confirmations: a record a reorg removed is relayed again.
import type { Logger } from "pino";
import type { Hex } from "viem";
import type { RelayJob, RelayResult } from "../chains/relayer.ts";
import type { BatchOperation, Database, Sublevel } from "../db/database.ts";
import { toJson, type Json } from "../util/json.ts";
import type { EventSink } from "../events/eventLog.ts";
import { backoff } from "../util/backoff.ts";
import type { Clock, Timer } from "../util/clock.ts";
import { faultPoint } from "../util/faultPoints.ts";

export interface RelayDispatcherOptions {
  /** Backoff before dispatch n + 1 after n failed ones: min(maxMs, initialMs * 2^(n-1)). */
  retry: { initialMs: number; maxMs: number };
  /** How often a recorded but not yet final digest is checked again. */
  confirmCheckMs: number;
  /** Pending entries dispatched at once; the rest wait their turn (an outage backlog must not flood the RPC). */
  maxConcurrent: number;
}

export const DEFAULT_RELAY_DISPATCHER: RelayDispatcherOptions = {
  // An RPC outage is usually seconds to minutes: retry soon, then every 30 s, forever (one relay
  // attempt per 30 s per pending attestation costs a chain nothing; the verdict is never dropped).
  retry: { initialMs: 2_000, maxMs: 30_000 },
  confirmCheckMs: 2_000,
  maxConcurrent: 64,
};

/** Where a digest stands on one chain, read at the chain's head and at its confirmed head. */
export type RecordState = "final" | "unconfirmed" | "absent";

/** One configured chain, as the dispatcher uses it. */
export interface RelayChain {
  chainId: number;
  /** Blocks a record must be under before it counts as done. */
  confirmations: number;
  relay(job: RelayJob): Promise<RelayResult>;
  recordState(digest: Hex): Promise<RecordState>;
  /** The relayer must not answer from its memory that the digest is recorded (a reorg removed it). */
  forget(digest: Hex): void;
  /** When the relayer's last job for the candidate started, broadcast and ended (ms since the epoch), for the status API. */
  timesOf?(candidateId: Hex): { startedAt: number; sentAt?: number; finishedAt: number } | undefined;
}

export interface RelayDispatcherModules {
  db: Database;
  chains: readonly RelayChain[];
  /** This node's place in the candidate's relay order (0 = primary). */
  rankOf(candidateId: Hex): number;
  events?: EventSink;
  clock: Clock;
  logger: Logger;
}

/** What is relayed: one attestation. */
export interface RelayWork {
  candidateId: Hex;
  digest: Hex;
  /** The encoded attestation, as submitAttestation takes it. */
  encoded: Hex;
}

export interface PendingRelay {
  [key: string]: Json;
  candidateId: string;
  digest: string;
  encoded: string;
  chainId: number;
  /**
   * Aggregated here a moment ago: nobody can have recorded it yet, so the primary relayer may
   * send its first attempt without a simulation. False for anything learned from a peer or a
   * chain, or dispatched again: those always simulate first, and send nothing if recorded.
   */
  fresh: boolean;
  /** "relaying" until the relayer reports it recorded; then "confirming" until it is final. */
  state: "relaying" | "confirming";
  dispatches: number;
  lastError: string | null;
  /** Not before this time (ms since the epoch). */
  nextAt: number;
  createdAt: number;
}

export interface RelayDispatcherStats {
  dispatched: number;
  redispatched: number;
  done: number;
  refused: number;
  /** Records that were gone from the chain after the relayer saw them (reorgs). */
  reorged: number;
}

/** Relay failures that retrying cannot change: the registry refused this attestation for good. */
const FINAL_FAILURES = new Set(["RELAY_INVALID_JOB", "RELAY_REVERTED"]);

export class RelayDispatcher {
  readonly #options: RelayDispatcherOptions;
  readonly #db: Database;
  readonly #pending: Sublevel<PendingRelay>;
  readonly #results: Sublevel<Json>;
  readonly #chains: Map<number, RelayChain>;
  readonly #rankOf: (candidateId: Hex) => number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #events: EventSink | undefined;
  /** Keys being worked on right now: one dispatch per (candidate, chain) at a time. */
  readonly #running = new Set<string>();
  readonly #timers = new Map<string, Timer>();
  /** Keys due but over maxConcurrent: dispatched as running ones finish. */
  readonly #waiting: string[] = [];
  readonly #idle = new Set<() => void>();
  #stopped = false;
  readonly stats: RelayDispatcherStats = { dispatched: 0, redispatched: 0, done: 0, refused: 0, reorged: 0 };

  constructor(options: Partial<RelayDispatcherOptions>, modules: RelayDispatcherModules) {
    this.#options = { ...DEFAULT_RELAY_DISPATCHER, ...options };
    this.#db = modules.db;
    this.#pending = modules.db.sublevel<PendingRelay>("relayPending");
    this.#results = modules.db.sublevel<Json>("relay");
    this.#chains = new Map(modules.chains.map((chain) => [chain.chainId, chain]));
    this.#rankOf = modules.rankOf;
    this.#clock = modules.clock;
    this.#log = modules.logger;
    this.#events = modules.events;
  }

  /**
   * The database operations that make `work` pending on every chain but those in `recordedOn`
   * (where the node saw it recorded): written in the attestation's own batch.
   */
  plan(work: RelayWork, options: { fresh: boolean; recordedOn?: readonly number[] }): BatchOperation[] {
    const now = this.#clock.now();
    const ops: BatchOperation[] = [];
    for (const chain of this.#chains.values()) {
      const recorded = options.recordedOn?.includes(chain.chainId) === true;
      // Recorded where it was found, but maybe not final there yet: confirm it like our own.
      if (recorded && chain.confirmations === 0) continue;
      const entry: PendingRelay = {
        candidateId: work.candidateId,
        digest: work.digest,
        encoded: work.encoded,
        chainId: chain.chainId,
        fresh: options.fresh && !recorded,
        state: recorded ? "confirming" : "relaying",
        dispatches: 0,
        lastError: null,
        nextAt: now,
        createdAt: now,
      };
      ops.push({ sublevel: "relayPending", key: keyOf(work.candidateId, chain.chainId), value: entry });
    }
    return ops;
  }

  /**
   * Starts the planned work at once (before its batch is on disk: the primary's first
   * transaction is the latency that counts). `persisted` resolves when the batch is written;
   * nothing is marked done before it, so the batch cannot resurrect a finished entry.
   */
  begin(ops: readonly BatchOperation[], persisted: Promise<void>): void {
    for (const op of ops) {
      if (op.sublevel !== "relayPending" || "del" in op) continue;
      void this.#dispatch(op.key, op.value as PendingRelay, persisted);
    }
  }

  /** After a restart: everything still pending is dispatched again (never fresh). */
  async start(): Promise<number> {
    let count = 0;
    for await (const [key, entry] of this.#pending.entries()) {
      if (!this.#chains.has(entry.chainId)) {
        this.#log.warn({ candidate: entry.candidateId, chainId: entry.chainId }, "pending relay for a chain no longer configured; left in the database");
        continue;
      }
      count++;
      this.#schedule(key, { ...entry, fresh: false }, Math.max(0, entry.nextAt - this.#clock.now()));
    }
    if (count > 0) this.#log.info({ pending: count }, "resuming pending relays");
    return count;
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
    this.#waiting.length = 0;
  }

  /** Pending entries of a candidate, by chain id (for the status API). */
  async pendingOf(candidateId: Hex): Promise<Map<number, PendingRelay>> {
    const out = new Map<number, PendingRelay>();
    for (const chainId of this.#chains.keys()) {
      const entry = await this.#pending.get(keyOf(candidateId, chainId));
      if (entry) out.set(chainId, entry);
    }
    return out;
  }

  /** The final result of a candidate's relay to a chain, once it has one. */
  resultOf(candidateId: Hex, chainId: number): Promise<Json | undefined> {
    return this.#results.get(keyOf(candidateId, chainId));
  }

  /** How many entries are pending in the database (a scan: for metrics and tests). */
  async pendingCount(): Promise<number> {
    let count = 0;
    for await (const _ of this.#pending.entries()) count++;
    return count;
  }

  /** Resolves when no dispatch is running or waiting (timers may still be set). For tests. */
  whenIdle(): Promise<void> {
    if (this.#running.size === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  #schedule(key: string, entry: PendingRelay, delayMs: number): void {
    if (this.#stopped) return;
    this.#timers.get(key)?.cancel();
    this.#timers.set(
      key,
      this.#clock.setTimeout(() => {
        this.#timers.delete(key);
        void this.#dispatch(key, entry, Promise.resolve());
      }, delayMs),
    );
  }

  async #dispatch(key: string, entry: PendingRelay, persisted: Promise<void>): Promise<void> {
    if (this.#stopped || this.#running.has(key)) return;
    if (this.#running.size >= this.#options.maxConcurrent) {
      // Re-read from the database when its turn comes: the entry may have moved on meanwhile.
      if (!this.#waiting.includes(key)) this.#waiting.push(key);
      return;
    }
    this.#running.add(key);
    try {
      await this.#step(key, entry, persisted);
    } catch (error) {
      // A database failure or a bug: the entry stays pending and is tried again later.
      this.#log.error({ err: error, candidate: entry.candidateId, chainId: entry.chainId }, "relay dispatch failed; retrying later");
      this.#schedule(key, entry, this.#options.retry.maxMs);
    } finally {
      this.#running.delete(key);
      this.#next();
    }
  }

  #next(): void {
    while (!this.#stopped && this.#waiting.length > 0 && this.#running.size < this.#options.maxConcurrent) {
      const key = this.#waiting.shift()!;
      void this.#pending.get(key).then(
        (entry) => entry && this.#dispatch(key, entry, Promise.resolve()),
        (error: unknown) => this.#log.error({ err: error }, "could not read a pending relay"),
      );
    }
    if (this.#running.size === 0 && this.#waiting.length === 0) {
      for (const resolve of this.#idle) resolve();
      this.#idle.clear();
    }
  }

  async #step(key: string, entry: PendingRelay, persisted: Promise<void>): Promise<void> {
    const chain = this.#chains.get(entry.chainId)!;
    const digest = entry.digest as Hex;
    if (entry.state === "confirming") {
      const state = await chain.recordState(digest);
      await persisted;
      if (state === "final") return this.#finish(key, entry, null);
      if (state === "unconfirmed") return this.#schedule(key, entry, this.#options.confirmCheckMs);
      // Gone from the chain: a reorg took the record. Relay it again.
      this.stats.reorged++;
      chain.forget(digest);
      this.#log.warn({ candidate: entry.candidateId, chainId: entry.chainId }, "attestation no longer recorded (reorg); relaying it again");
      const again: PendingRelay = { ...entry, state: "relaying", fresh: false, nextAt: this.#clock.now() };
      await this.#pending.put(key, again);
      return this.#schedule(key, again, 0);
    }

    if (entry.dispatches === 0) this.stats.dispatched++;
    else this.stats.redispatched++;
    const result = await chain.relay({
      candidateId: entry.candidateId as Hex,
      digest,
      attestation: entry.encoded as Hex,
      rank: this.#rankOf(entry.candidateId as Hex),
      fresh: entry.fresh,
    });
    await persisted;
    if (result.status !== "failed") faultPoint("relay.afterReceipt");
    if (this.#stopped && result.status === "failed" && result.code === "RELAY_STOPPED") return;

    if (result.status === "failed" && FINAL_FAILURES.has(result.code)) {
      this.stats.refused++;
      return this.#finish(key, entry, result);
    }
    if (result.status === "failed") {
      const dispatches = entry.dispatches + 1;
      const delay = backoff(dispatches, { initial: this.#options.retry.initialMs, max: this.#options.retry.maxMs });
      const next: PendingRelay = { ...entry, fresh: false, dispatches, lastError: `${result.code}: ${result.error}`, nextAt: this.#clock.now() + delay };
      await this.#pending.put(key, next);
      this.#log.warn({ candidate: entry.candidateId, chainId: entry.chainId, code: result.code, dispatches, retryInMs: delay }, "relay not done; dispatching again later");
      return this.#schedule(key, next, delay);
    }
    if (chain.confirmations === 0) return this.#finish(key, entry, result);
    const confirming: PendingRelay = { ...entry, state: "confirming", fresh: false, dispatches: entry.dispatches + 1, lastError: null, nextAt: this.#clock.now() };
    await this.#db.batch(
      [
        { sublevel: "relayPending", key, value: confirming },
        { sublevel: "relay", key, value: toJson({ ...result, ...chain.timesOf?.(entry.candidateId as Hex), final: false }) },
      ],
      { sync: false },
    );
    this.#schedule(key, confirming, this.#options.confirmCheckMs);
  }

  async #finish(key: string, entry: PendingRelay, result: RelayResult | null): Promise<void> {
    const previous = await this.#results.get(key);
    const times = result === null ? {} : this.#chains.get(entry.chainId)?.timesOf?.(entry.candidateId as Hex);
    const value =
      result === null
        ? { ...(isObject(previous) ? previous : { status: "already-recorded" }), final: true }
        : { ...(toJson(result) as object), ...times, final: result.status !== "failed" };
    await this.#db.batch(
      [
        { sublevel: "relayPending", key, del: true },
        { sublevel: "relay", key, value: toJson({ finishedAt: this.#clock.now(), ...value }) },
      ],
      { sync: false },
    );
    this.stats.done++;
    this.#events?.emit("relay.result", entry.candidateId as Hex, toJson({ ...value, chainId: entry.chainId, digest: entry.digest }));
    this.#log.info({ candidate: entry.candidateId, chainId: entry.chainId, status: result?.status ?? "final" }, "relay done");
  }
}

function keyOf(candidateId: string, chainId: number): string {
  return `${candidateId.toLowerCase()}:${chainId}`;
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

