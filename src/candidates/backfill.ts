// No candidate lost across a restart or a reconnection: gossip is never replayed, so a node
// that was down, or connected but not yet in a peer's view of the topic, when a candidate was
// published would never verify it. Shortly after each new connection this node asks the peer
// for its recent candidates and admits each exactly as a gossiped one (Intake.fromGossip: the
// same admission rules, the peer recorded as where the bundle is). Asking waits `delayMs` so
// that what was published while the peers were still exchanging subscriptions is included.
// Bounded: one request per peer per `minIntervalMs`, `maxConcurrent` at once (the others wait
// their turn: a node restarting connects to all its peers at once).
import type { Logger } from "pino";
import type { Clock } from "../util/clock.ts";

export interface BackfillOptions {
  /** After a connection opens, before asking: subscriptions are exchanged by then. */
  delayMs: number;
  /** A peer is asked at most once in this interval, however often it reconnects. */
  minIntervalMs: number;
  /** Requests in flight at once; the peers beyond wait their turn. */
  maxConcurrent: number;
  /** Peers whose last request time is remembered. */
  maxPeers: number;
}

export const DEFAULT_BACKFILL: BackfillOptions = { delayMs: 2_000, minIntervalMs: 30_000, maxConcurrent: 2, maxPeers: 1024 };

export interface BackfillModules {
  fetch(peer: string): Promise<Uint8Array[]>;
  /** The gossip path's admission: its action for the payload. */
  admit(payload: Uint8Array, from: string): Promise<"accept" | "reject" | "ignore">;
  clock: Clock;
  logger: Logger;
}

export class CandidateBackfill {
  readonly #options: BackfillOptions;
  readonly #m: BackfillModules;
  readonly #asked = new Map<string, number>();
  #running = 0;
  /** Peers waiting for a free slot, in connection order. */
  readonly #waiting = new Set<string>();
  #stopped = false;
  readonly #inFlight = new Set<Promise<void>>();
  readonly stats = { requests: 0, failures: 0, skipped: 0, received: 0, admitted: 0, refused: 0 };

  constructor(options: Partial<BackfillOptions>, modules: BackfillModules) {
    this.#options = { ...DEFAULT_BACKFILL, ...options };
    this.#m = modules;
  }

  /** A connection to `peer` opened. */
  connected(peer: string): void {
    if (this.#stopped) return;
    this.#m.clock.setTimeout(() => {
      if (this.#stopped) return;
      const last = this.#asked.get(peer);
      if (last !== undefined && this.#m.clock.now() - last < this.#options.minIntervalMs) {
        this.stats.skipped++;
        return;
      }
      if (this.#running >= this.#options.maxConcurrent) {
        if (this.#waiting.size < this.#options.maxPeers) this.#waiting.add(peer);
        else this.stats.skipped++;
        return;
      }
      this.#start(peer);
    }, this.#options.delayMs);
  }

  #start(peer: string): void {
    this.#asked.delete(peer);
    this.#asked.set(peer, this.#m.clock.now());
    if (this.#asked.size > this.#options.maxPeers) this.#asked.delete(this.#asked.keys().next().value!);
    const run = this.#ask(peer).finally(() => {
      this.#inFlight.delete(run);
      const next = this.#waiting.values().next();
      if (!next.done && !this.#stopped) {
        this.#waiting.delete(next.value);
        this.#start(next.value);
      }
    });
    this.#inFlight.add(run);
  }

  /** Stops asking; resolves once the requests in flight are done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#waiting.clear();
    await Promise.all([...this.#inFlight]);
  }

  async #ask(peer: string): Promise<void> {
    this.#running++;
    this.stats.requests++;
    try {
      let payloads: Uint8Array[];
      try {
        payloads = await this.#m.fetch(peer);
      } catch (error) {
        this.stats.failures++;
        this.#m.logger.debug({ err: error, peer }, "could not ask a peer for its recent candidates");
        return;
      }
      this.stats.received += payloads.length;
      let admitted = 0;
      for (const payload of payloads) {
        if (this.#stopped) return;
        const action = await this.#m.admit(payload, peer).catch(() => "ignore" as const);
        if (action === "accept") admitted++;
        else if (action === "reject") this.stats.refused++;
      }
      this.stats.admitted += admitted;
      if (admitted > 0) this.#m.logger.info({ peer, admitted, received: payloads.length }, "admitted candidates a peer had and gossip had not brought");
    } finally {
      this.#running--;
    }
  }
}
