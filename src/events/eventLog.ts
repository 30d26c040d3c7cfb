// The node's event log: every state change a user follows (candidate admitted, verdict signed,
// attestation formed, relay result per chain) as an event with a monotonic id, kept in the
// database with bounded retention, so a client that lost its connection, or a node that
// restarted, resumes from the last id it saw and misses nothing. Emitting never throws and never
// waits for a reader: events are written in order by one queue, and live subscribers are told
// after the write.
import type { Logger } from "pino";
import type { Hex } from "viem";
import type { BatchOperation, Database, Sublevel } from "../db/database.ts";
import type { Clock } from "../util/clock.ts";
import type { Json } from "../util/json.ts";

/** The kinds of event, in the order a candidate meets them. */
export const EVENT_TYPES = ["candidate.admitted", "verification.deferred", "verdict.signed", "attestation.formed", "relay.result", "equivocation.detected", "revocation.alert", "revocation.signed"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface NodeEvent {
  [key: string]: Json;
  /** Monotonic per node, from 1; the SSE `id`. */
  id: number;
  type: EventType;
  /** When it happened here (ms since the epoch). */
  at: number;
  candidateId: string;
  data: Json;
}

export interface EventLogOptions {
  /** Events kept; older ones are pruned (a client further behind starts again from the oldest kept). */
  maxEvents: number;
  /** Pending writes at most: beyond it, events are dropped and counted (the database is stuck). */
  maxPending: number;
}

export const DEFAULT_EVENT_LOG: EventLogOptions = { maxEvents: 100_000, maxPending: 10_000 };

export interface EventLogModules {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** Records written in the same batch as each event (the webhook outbox), so neither exists without the other. */
  recorders?: readonly EventRecorder[];
}

/** A part that keeps its own record of some events, atomically with the event itself. */
export interface EventRecorder {
  /** The writes for this event (none: not recorded); called in write order, before the batch. */
  opsFor(event: NodeEvent): BatchOperation[];
  /** The batch holding `ops` was written. */
  recorded(event: NodeEvent, ops: BatchOperation[]): void;
  /** The batch holding `ops` failed: nothing of it exists. */
  failed?(event: NodeEvent, ops: BatchOperation[]): void;
}

/**
 * The chain and contract an event is about, when it names one: candidate.admitted,
 * verification.deferred, verdict.signed, attestation.formed, revocation.alert and
 * revocation.signed do (the `chainId` and `target` of their data). relay.result's chainId is
 * the chain relayed to, not the target's, so it has none.
 */
export function subjectOf(event: NodeEvent): { chainId: string; target: string } | undefined {
  if (event.type === "relay.result" || event.data === null || typeof event.data !== "object" || Array.isArray(event.data)) return undefined;
  const { chainId, target } = event.data as Record<string, Json>;
  if (typeof target !== "string" || (typeof chainId !== "string" && typeof chainId !== "number")) return undefined;
  return { chainId: String(chainId), target: target.toLowerCase() };
}

export type EventListener = (event: NodeEvent) => void;

/** What a part needs to report an event: the log, or nothing in a test. */
export interface EventSink {
  emit(type: EventType, candidateId: Hex, data?: Json): void;
}

/** Events read back for the status page's recent candidates: a few per candidate, so a few hundred. */
const RECENT_EVENTS = 500;

/** Keys sort as numbers: ids zero-padded to 16 digits. */
const keyOf = (id: number): string => id.toString().padStart(16, "0");
const NEXT_ID_KEY = "events.nextId";

export class EventLog implements EventSink {
  readonly #options: EventLogOptions;
  readonly #m: EventLogModules;
  readonly #events: Sublevel<NodeEvent>;
  readonly #meta: Sublevel<Json>;
  readonly #listeners = new Set<EventListener>();
  #nextId = 1;
  #oldestId = 1;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  readonly stats = { emitted: 0, dropped: 0, failures: 0, pruned: 0 };

  constructor(options: Partial<EventLogOptions>, modules: EventLogModules) {
    this.#options = { ...DEFAULT_EVENT_LOG, ...options };
    this.#m = modules;
    this.#events = modules.db.sublevel<NodeEvent>("events");
    this.#meta = modules.db.sublevel<Json>("meta");
  }

  /** Reads where the log stands; call once before emitting. */
  async open(): Promise<void> {
    const next = await this.#meta.get(NEXT_ID_KEY);
    if (typeof next === "number" && next >= 1) this.#nextId = next;
    for await (const [key] of this.#events.entries({ limit: 1 })) this.#oldestId = Number(key);
    if (this.#oldestId > this.#nextId) this.#oldestId = this.#nextId;
  }

  /** The id the next event will get; events with smaller ids exist or were pruned. */
  get lastId(): number {
    return this.#nextId - 1;
  }

  get oldestId(): number {
    return this.#oldestId;
  }

  emit(type: EventType, candidateId: Hex, data: Json = {}): void {
    if (this.#pending >= this.#options.maxPending) {
      this.stats.dropped++;
      return;
    }
    const event: NodeEvent = { id: this.#nextId++, type, at: this.#m.clock.now(), candidateId: candidateId.toLowerCase(), data };
    this.#pending++;
    this.#tail = this.#tail.then(async () => {
      let recorded: { recorder: EventRecorder; ops: BatchOperation[] }[] = [];
      let written = false;
      try {
        recorded = (this.#m.recorders ?? []).map((recorder) => ({ recorder, ops: recorder.opsFor(event) }));
        await this.#m.db.batch(
          [
            { sublevel: "events", key: keyOf(event.id), value: event },
            { sublevel: "meta", key: NEXT_ID_KEY, value: event.id + 1 },
            ...recorded.flatMap(({ ops }) => ops),
          ],
          { sync: false },
        );
        written = true;
        for (const { recorder, ops } of recorded) if (ops.length > 0) recorder.recorded(event, ops);
        this.stats.emitted++;
        for (const listener of this.#listeners) listener(event);
        if (event.id - this.#oldestId >= this.#options.maxEvents + this.#options.maxEvents / 10) await this.#prune(event.id);
      } catch (error) {
        this.stats.failures++;
        if (!written) for (const { recorder, ops } of recorded) if (ops.length > 0) recorder.failed?.(event, ops);
        this.#m.logger.error({ err: error, type }, "could not write an event");
      } finally {
        this.#pending--;
      }
    });
  }

  /** Events after `afterId`, oldest first, at most `limit`. */
  async read(afterId: number, limit: number): Promise<NodeEvent[]> {
    const out: NodeEvent[] = [];
    for await (const [, event] of this.#events.entries({ gte: keyOf(Math.max(afterId + 1, 0)), limit })) out.push(event);
    return out;
  }

  /** Called with every event written from now on; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves when every event emitted so far is written. */
  flush(): Promise<void> {
    return this.#tail;
  }

  /** Deletes what is older than the newest maxEvents written (up to `newest`). */
  async #prune(newest: number): Promise<void> {
    const keepFrom = newest + 1 - this.#options.maxEvents;
    const ops = [];
    for await (const [key] of this.#events.entries({ lt: keyOf(keepFrom) })) ops.push({ sublevel: "events" as const, key, del: true as const });
    if (ops.length > 0) await this.#m.db.batch(ops, { sync: false });
    this.stats.pruned += ops.length;
    this.#oldestId = Math.max(this.#oldestId, keepFrom);
  }

  /** The candidates of the newest events (the status page's), newest first, each once; and the newest event's id. */
  async recentCandidates(limit: number): Promise<{ candidates: Hex[]; lastEventId: number }> {
    const lastEventId = this.lastId;
    const newest = await this.read(Math.max(0, lastEventId - RECENT_EVENTS), RECENT_EVENTS);
    const ids = new Set<Hex>();
    for (let i = newest.length - 1; i >= 0 && ids.size < limit; i--) ids.add(newest[i]!.candidateId as Hex);
    return { candidates: [...ids], lastEventId };
  }
}
