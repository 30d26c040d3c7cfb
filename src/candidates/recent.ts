// The candidates this node admitted most recently, as their gossip payloads: what it answers a
// peer that (re)connects and asks (network/recentCandidates.ts). In memory, bounded, seeded from
// the store at start so a node restarted too can fill a peer's gap; an expired candidate is
// never handed out (admission would refuse it anyway).
import type { AdmittedCandidate } from "../admission/admission.ts";
import { signedCandidateToJson } from "../codec/candidate.ts";
import type { Clock } from "../util/clock.ts";
import type { CandidateStore } from "./candidateStore.ts";

export interface RecentCandidatesOptions {
  /** Candidates kept (the oldest admitted forgotten first). */
  max: number;
}

export const DEFAULT_RECENT_CANDIDATES: RecentCandidatesOptions = { max: 256 };

interface Entry {
  payload: Uint8Array;
  expiresAtMs: number;
}

export class RecentCandidates {
  readonly #options: RecentCandidatesOptions;
  readonly #clock: Clock;
  /** By id, in admission order (Map keeps insertion order). */
  readonly #entries = new Map<string, Entry>();

  constructor(options: Partial<RecentCandidatesOptions>, modules: { clock: Clock }) {
    this.#options = { ...DEFAULT_RECENT_CANDIDATES, ...options };
    this.#clock = modules.clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  add(admitted: AdmittedCandidate): void {
    const payload = new TextEncoder().encode(JSON.stringify(signedCandidateToJson(admitted.signed)));
    this.#entries.delete(admitted.id);
    this.#entries.set(admitted.id, { payload, expiresAtMs: Number(admitted.signed.candidate.expiresAt) * 1000 });
    while (this.#entries.size > this.#options.max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** The store's unexpired candidates, oldest admitted first, so the newest are the ones kept. */
  async seed(store: CandidateStore): Promise<void> {
    const found: { admitted: AdmittedCandidate; at: string }[] = [];
    for await (const { admitted, record } of store.entries()) {
      if (Number(admitted.signed.candidate.expiresAt) * 1000 <= this.#clock.now()) continue;
      found.push({ admitted, at: record.admittedAt });
      // Bounded memory while walking: keep the newest twice the bound, then trim.
      if (found.length >= 2 * this.#options.max) {
        found.sort((a, b) => a.at.localeCompare(b.at));
        found.splice(0, found.length - this.#options.max);
      }
    }
    found.sort((a, b) => a.at.localeCompare(b.at));
    for (const { admitted } of found) this.add(admitted);
  }

  /** Payloads of the unexpired ones, newest first, at most `limit`. */
  async recent(limit: number): Promise<Uint8Array[]> {
    const now = this.#clock.now();
    const out: Uint8Array[] = [];
    for (const [id, entry] of [...this.#entries].reverse()) {
      if (out.length >= limit) break;
      if (entry.expiresAtMs <= now) this.#entries.delete(id);
      else out.push(entry.payload);
    }
    return out;
  }
}
