// When each stage of a recent candidate happened on this node (ms since the epoch): where a
// candidate's time went, for the status API and the network benchmark. In memory, bounded, not
// kept across restarts.
import type { Hex } from "viem";

export interface CandidateTimeline {
  [key: string]: number | undefined;
  /** A gossiped candidate's arrival, before admission's checks (absent for one sent to the API). */
  received?: number;
  admitted?: number;
  bundleLoaded?: number;
  verified?: number;
  /** The signing record was fsync'd: the signature may leave the process. */
  signed?: number;
  /** The verdict was handed to gossip. */
  published?: number;
  attestation?: number;
}

export type Stage = keyof CandidateTimeline & string;

export class CandidateTimelines {
  readonly #max: number;
  readonly #timelines = new Map<Hex, CandidateTimeline>();

  constructor(options: { max: number } = { max: 4096 }) {
    this.#max = options.max;
  }

  /** Records the first time `stage` happened for the candidate. */
  mark(candidateId: Hex, stage: Stage, at: number): void {
    let timeline = this.#timelines.get(candidateId);
    if (!timeline) {
      if (this.#timelines.size >= this.#max) this.#timelines.delete(this.#timelines.keys().next().value!);
      timeline = {};
      this.#timelines.set(candidateId, timeline);
    }
    timeline[stage] ??= at;
  }

  get(candidateId: Hex): CandidateTimeline {
    return this.#timelines.get(candidateId) ?? {};
  }
}
