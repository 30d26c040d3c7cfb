// Who does what for one candidate, derived from its id and the validator set, so that every
// node agrees without talking: its aggregators (who collect the verdicts), the nodes that gossip
// its attestation, and each node's place in its relay order.
import type { Hex } from "viem";
import { relayOrder, relayRank } from "./relayOrder.ts";

export interface DutiesOptions {
  setSize: number;
  /** This node's index in the set; undefined for an observer. */
  validatorIndex: number | undefined;
  /**
   * A verdict goes to the candidate's aggregators, not to every node: the first this many
   * validators of its relay order that the signer reaches (itself included). Sent to every node,
   * a verdict's copies were most of a committee's messages (n - 1 per verdict, n(n - 1) per
   * candidate). Three, so one aggregator crashing mid-candidate still leaves a primary and a
   * fallback relayer holding every verdict.
   */
  aggregators: number;
  /**
   * Only the first aggregators gossip the attestation they built; the other nodes learn it
   * from them or from the chain. Sixteen copies of one attestation were a third of a 16-node
   * network's gossip.
   */
  attestationPublishers: number;
}

export const DEFAULT_DUTIES = { aggregators: 3, attestationPublishers: 2 } as const;

export interface DutiesModules {
  /** Whether a connected peer reads validator `index`'s verdict inbox. */
  reachesInbox(index: number): boolean;
}

export class CandidateDuties {
  readonly #options: DutiesOptions;
  readonly #m: DutiesModules;

  constructor(options: DutiesOptions, modules: DutiesModules) {
    this.#options = options;
    this.#m = modules;
  }

  /** How many aggregators a verdict should reach (fewer reachable: it is broadcast). */
  get aggregatorsWanted(): number {
    return this.#options.aggregators;
  }

  get validatorIndex(): number | undefined {
    return this.#options.validatorIndex;
  }

  /**
   * The candidate's aggregators as this node sees them: the first validators of its relay order
   * whose inbox a connected peer reads, this node always counting. Nodes that see the same
   * peers agree; one that does not just sends to a different node.
   */
  aggregatorsOf(candidateId: Hex): number[] {
    const chosen: number[] = [];
    for (const index of relayOrder(candidateId, this.#options.setSize)) {
      if (chosen.length === this.#options.aggregators) break;
      if (index === this.#options.validatorIndex || this.#m.reachesInbox(index)) chosen.push(index);
    }
    return chosen;
  }

  /** Whether this node gossips the attestation it aggregated for the candidate. */
  publishesAttestation(candidateId: Hex): boolean {
    if (this.#options.validatorIndex === undefined) return false;
    const place = this.aggregatorsOf(candidateId).indexOf(this.#options.validatorIndex);
    return place >= 0 && place < this.#options.attestationPublishers;
  }

  /** This node's place in the candidate's relay order; an observer goes last. */
  relayRank(candidateId: Hex): number {
    const size = this.#options.setSize;
    return relayRank(candidateId, this.#options.validatorIndex ?? size - 1, size);
  }
}
