// The attestations this node holds, whichever way each arrived: aggregated here, gossiped by a
// peer, or read back from a chain. The first copy of an attestation is stored, handed to the
// durable relay in the same atomic batch, and (if this node is one of its publishers) gossiped.
// Accepting never throws: a failure is logged and counted, since the attestation can still be
// had from peers and chains, and an exception here would have nowhere to go.
import type { Logger } from "pino";
import { hexToBytes, type Address, type Hex } from "viem";
import { encodeAttestation, type Attestation } from "../codec/attestation.ts";
import { signerIndices } from "../consensus/validatorSet.ts";
import type { CandidateDuties } from "../consensus/duties.ts";
import type { Database, Sublevel } from "../db/database.ts";
import type { Json } from "../util/json.ts";
import type { EventSink } from "../events/eventLog.ts";
import type { Clock } from "../util/clock.ts";
import { faultPoint } from "../util/faultPoints.ts";
import type { RelayDispatcher } from "./relayDispatcher.ts";

export type AttestationSource = "aggregated" | "gossip" | "chain";

export interface AttestationRecord {
  [key: string]: Json;
  candidateId: string;
  digest: string;
  encoded: string;
  setIndex: number;
  signers: number[];
  outcome: number;
  chainId: string;
  target: string;
  codehash: string;
  receivedAt: string;
}

export interface AttestationStoreModules {
  db: Database;
  relay: RelayDispatcher;
  duties: CandidateDuties;
  /** Gossips an attestation. */
  publish(bytes: Uint8Array): Promise<void>;
  /** Called once an attestation is accepted, before it is written. */
  onAccepted?(candidateId: Hex, source: AttestationSource): void;
  events?: EventSink;
  clock: Clock;
  logger: Logger;
}

export interface AttestationStoreStats {
  stored: number;
  duplicates: number;
  failures: number;
}

export class AttestationStore {
  readonly #m: AttestationStoreModules;
  readonly #records: Sublevel<AttestationRecord>;
  /** Candidates whose attestation is being stored: a second copy arriving meanwhile is dropped. */
  readonly #storing = new Set<Hex>();
  readonly stats: AttestationStoreStats = { stored: 0, duplicates: 0, failures: 0 };

  constructor(_options: object, modules: AttestationStoreModules) {
    this.#m = modules;
    this.#records = modules.db.sublevel<AttestationRecord>("attestations");
  }

  get(candidateId: Hex): Promise<AttestationRecord | undefined> {
    return this.#records.get(candidateId);
  }

  async has(candidateId: Hex): Promise<boolean> {
    return (await this.#records.get(candidateId)) !== undefined;
  }

  /** Every held attestation with `outcome`, in id order, at most `limit` (the monitor's approvals). */
  async withOutcome(outcome: number, limit: number): Promise<AttestationRecord[]> {
    const out: AttestationRecord[] = [];
    // Records are keyed by their 0x id; the target index ("t:...") sorts after them.
    for await (const [, record] of this.#records.entries({ lt: "t:" })) {
      if (record.outcome !== outcome) continue;
      out.push(record);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The newest attestations about a target (at most `limit`). */
  async byTarget(chainId: bigint, target: Address, limit = 100): Promise<AttestationRecord[]> {
    const prefix = targetKey(chainId, target, "");
    const out: AttestationRecord[] = [];
    for await (const [, candidateId] of this.#records.entries({ gte: prefix, lt: `${prefix}~`, limit })) {
      const record = await this.#records.get(candidateId as unknown as string);
      if (record) out.push(record);
    }
    return out;
  }

  /**
   * Stores a verified attestation and starts its relay. `recordedOn`: chains where it was seen
   * recorded (catch-up), which need no relay. Resolves true if this copy was the one stored.
   */
  async accept(attestation: Attestation, digest: Hex, source: AttestationSource, recordedOn: readonly number[] = []): Promise<boolean> {
    const id = attestation.verdict.candidateId;
    // The same attestation can come from aggregation and from gossip at once: the first one is
    // stored and relayed, the other is dropped here (not after the read: both would pass it).
    if (this.#storing.has(id)) {
      this.stats.duplicates++;
      return false;
    }
    this.#storing.add(id);
    try {
      if (await this.#records.get(id)) {
        this.stats.duplicates++;
        return false;
      }
      await this.#store(attestation, digest, source, recordedOn);
      this.stats.stored++;
      return true;
    } catch (error) {
      this.stats.failures++;
      this.#m.logger.error({ err: error, candidate: id, source }, "could not store an attestation; peers and chains still hold it");
      return false;
    } finally {
      this.#storing.delete(id);
    }
  }

  async #store(attestation: Attestation, digest: Hex, source: AttestationSource, recordedOn: readonly number[]): Promise<void> {
    const { verdict } = attestation;
    const encoded = encodeAttestation(attestation);
    const record: AttestationRecord = {
      candidateId: verdict.candidateId,
      digest,
      encoded,
      setIndex: attestation.setIndex,
      signers: signerIndices(attestation.signers),
      outcome: verdict.outcome,
      chainId: verdict.chainId.toString(),
      target: verdict.target,
      codehash: verdict.codehash,
      receivedAt: new Date(this.#m.clock.now()).toISOString(),
    };
    faultPoint("aggregation.formed");
    this.#m.onAccepted?.(verdict.candidateId, source);
    const relayOps = this.#m.relay.plan({ candidateId: verdict.candidateId, digest, encoded }, { fresh: source === "aggregated", recordedOn });
    // The relay starts before the write (and before the gossip publish, which encrypts and
    // writes the attestation to every peer): the primary's transaction is the latency that counts.
    // Its pending entries go into the same batch as the record, so neither exists without the other.
    let written!: () => void;
    let failed!: (error: unknown) => void;
    const persisted = new Promise<void>((resolve, reject) => ((written = resolve), (failed = reject)));
    persisted.catch(() => undefined);
    this.#m.relay.begin(relayOps, persisted);
    try {
      await this.#m.db.batch(
        [
          { sublevel: "attestations", key: verdict.candidateId, value: record },
          { sublevel: "attestations", key: targetKey(verdict.chainId, verdict.target, verdict.candidateId), value: verdict.candidateId },
          ...relayOps,
        ],
        // Recoverable from peers and from the chains: atomic, not fsync'd.
        { sync: false },
      );
      written();
      faultPoint("aggregation.stored");
    } catch (error) {
      failed(error);
      throw error;
    }
    this.#m.logger.info({ candidate: verdict.candidateId, outcome: verdict.outcome, signers: record.signers, source }, "attestation");
    const { receivedAt: _, ...fields } = record;
    this.#m.events?.emit("attestation.formed", verdict.candidateId, { ...fields, source, recordedOn: [...recordedOn] });
    if (source === "aggregated" && this.#m.duties.publishesAttestation(verdict.candidateId)) {
      await new Promise((resolve) => setImmediate(resolve));
      // Stored and relayed already: a failed publish costs peers a chain read, nothing more.
      await this.#m.publish(hexToBytes(encoded)).catch((error: unknown) =>
        this.#m.logger.warn({ err: error, candidate: verdict.candidateId }, "could not gossip the attestation"),
      );
    }
  }
}

function targetKey(chainId: bigint, target: Address, candidateId: string): string {
  return `t:${chainId}:${target.toLowerCase()}:${candidateId}`;
}
