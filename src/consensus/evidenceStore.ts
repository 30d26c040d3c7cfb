// Equivocation evidence: a validator that signed two different verdicts for one candidate. The
// aggregator never counts the second; this store keeps the proof (both signatures, both digests,
// the verdicts where known) so that operators, relayers and — later — a slashing contract can
// check it without trusting this node, and says so: a warning, an `equivocation.detected` event
// on the stream, a count. One proof per (candidate, validator): a validator that keeps
// equivocating on one candidate adds nothing, so the store's size is bounded by what the
// aggregator already bounds.
import type { Logger } from "pino";
import type { Hex } from "viem";
import type { Database, Sublevel } from "../db/database.ts";
import type { EventSink } from "../events/eventLog.ts";
import { toJson, type Json } from "../util/json.ts";
import type { Evidence } from "./aggregator.ts";

export interface EvidenceStoreModules {
  db: Database;
  events?: EventSink;
  logger: Logger;
}

/** At most this many proofs in one answer. */
export const MAX_EVIDENCE_LISTED = 100;

export class EvidenceStore {
  readonly #m: EvidenceStoreModules;
  readonly #proofs: Sublevel<Json>;
  /** Proofs first seen by this process, and writes that failed: for metrics. */
  readonly stats = { recorded: 0, failures: 0 };

  constructor(_options: Record<string, never>, modules: EvidenceStoreModules) {
    this.#m = modules;
    this.#proofs = modules.db.sublevel<Json>("evidence");
  }

  /** Keeps a proof; never throws (it runs from gossip validation): a failed write is logged and counted. */
  async record(evidence: Evidence): Promise<void> {
    const key = `${evidence.candidateId.toLowerCase()}:${String(evidence.validatorIndex).padStart(6, "0")}`;
    try {
      if ((await this.#proofs.get(key)) !== undefined) return;
      const proof = toJson(evidence);
      await this.#proofs.put(key, proof);
      this.stats.recorded++;
      this.#m.logger.warn({ candidate: evidence.candidateId, setIndex: evidence.setIndex, validatorIndex: evidence.validatorIndex }, "a validator signed two different verdicts for one candidate; the proof is kept (GET /v1/evidence)");
      this.#m.events?.emit("equivocation.detected", evidence.candidateId, proof);
    } catch (error) {
      this.stats.failures++;
      this.#m.logger.error({ err: error, candidate: evidence.candidateId }, "could not store equivocation evidence");
    }
  }

  /** Proofs, oldest candidate id first; for one candidate when given. */
  async list(candidateId?: Hex): Promise<Json[]> {
    const range = candidateId ? { gte: `${candidateId.toLowerCase()}:`, lt: `${candidateId.toLowerCase()};` } : {};
    const proofs: Json[] = [];
    for await (const [, proof] of this.#proofs.entries({ ...range, limit: MAX_EVIDENCE_LISTED })) proofs.push(proof);
    return proofs;
  }
}
