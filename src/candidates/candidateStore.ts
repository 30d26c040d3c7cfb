// The candidates this node admitted and the source bundles it holds: one sublevel each. A
// candidate's record carries its verification result once it has one; a candidate without one
// is work the verification scheduler still owes.
import type { Address, Hex } from "viem";
import type { AdmittedCandidate } from "../admission/admission.ts";
import { decodeBundle, encodeBundle, bundleHash, type SourceBundle } from "../codec/bundle.ts";
import { parseSignedCandidate, signedCandidateToJson, type SignedCandidateJson } from "../codec/candidate.ts";
import type { Database, Sublevel } from "../db/database.ts";
import type { Json } from "../util/json.ts";

export type CandidateSource = "api" | "gossip";

/** Bundle hashes known held, answered without a read (a few hundred bytes of memory each at most). */
const HELD_BUNDLES_REMEMBERED = 1024;

export interface CandidateRecord {
  [key: string]: Json;
  signed: SignedCandidateJson & { [key: string]: Json };
  proposer: string;
  admittedAt: string;
  source: string;
  /** The peer that forwarded it (gossip): asked first for the source bundle. */
  from: string | null;
  verification: Json;
}

/** What the pipeline found, as stored with the candidate and shown by the status API. */
export interface StoredVerification {
  [key: string]: Json;
  outcome: number;
  reasons: string;
  findings: Json;
  findingsDigest: string;
  codehash: string;
  digest: string;
  verificationMs: number;
  timings: Json;
  /** For people reviewing the report (human approvers): the shadow deployment's state diff and invariant values. */
  details?: Json;
}

export class CandidateStore {
  readonly #candidates: Sublevel<CandidateRecord>;
  readonly #bundles: Sublevel<string>;
  readonly #held = new Set<string>();

  constructor(_options: object, modules: { db: Database }) {
    this.#candidates = modules.db.sublevel<CandidateRecord>("candidates");
    this.#bundles = modules.db.sublevel<string>("bundles");
  }

  get(id: Hex): Promise<CandidateRecord | undefined> {
    return this.#candidates.get(id);
  }

  async has(id: Hex): Promise<boolean> {
    return (await this.#candidates.get(id)) !== undefined;
  }

  /**
   * Not fsync'd: a candidate lost with the machine is re-sent by its proposer; only the
   * signing record must survive everything.
   */
  async add(admitted: AdmittedCandidate, source: CandidateSource, from: string | null, admittedAt: Date): Promise<void> {
    await this.#candidates.put(admitted.id, {
      signed: signedCandidateToJson(admitted.signed) as CandidateRecord["signed"],
      proposer: admitted.proposer,
      admittedAt: admittedAt.toISOString(),
      source,
      from,
      verification: null,
    });
  }

  /** Why this node last abstained from verifying the candidate (it could not observe it). */
  async setAbstention(id: Hex, abstention: Json): Promise<void> {
    const record = await this.#candidates.get(id);
    if (!record) return;
    record.abstention = abstention;
    await this.#candidates.put(id, record);
  }

  async setVerification(id: Hex, verification: StoredVerification): Promise<CandidateRecord | undefined> {
    const record = await this.#candidates.get(id);
    if (!record) return undefined;
    record.verification = verification;
    delete record.abstention;
    await this.#candidates.put(id, record);
    return record;
  }

  /** Every stored candidate, parsed back into what admission produced, with its record. */
  async *entries(): AsyncIterable<{ admitted: AdmittedCandidate; record: CandidateRecord }> {
    for await (const [id, record] of this.#candidates.entries()) {
      yield { admitted: { id: id as Hex, signed: parseSignedCandidate(record.signed), proposer: record.proposer as Address }, record };
    }
  }

  /** Stores a bundle unless it is held already (a proposer re-sending it costs a read, not a write). */
  async putBundle(bundle: SourceBundle, hash: Hex = bundleHash(bundle)): Promise<void> {
    if (await this.hasBundle(hash)) return;
    await this.#bundles.put(hash.toLowerCase(), new TextDecoder().decode(encodeBundle(bundle)));
    this.#remember(hash);
  }

  /** Bytes a peer served, already checked against their hash by the bundle protocol. */
  async putBundleBytes(hash: Hex, bytes: Uint8Array): Promise<void> {
    await this.#bundles.put(hash.toLowerCase(), new TextDecoder().decode(bytes));
    this.#remember(hash);
  }

  async bundleBytes(hash: Hex): Promise<Uint8Array | undefined> {
    const text = await this.#bundles.get(hash.toLowerCase());
    return text === undefined ? undefined : new TextEncoder().encode(text);
  }

  async hasBundle(hash: string): Promise<boolean> {
    if (this.#held.has(hash.toLowerCase())) return true;
    const held = (await this.#bundles.get(hash.toLowerCase())) !== undefined;
    if (held) this.#remember(hash);
    return held;
  }

  /** Bundles are never deleted, so a hash seen held stays held; the set is only a bounded shortcut. */
  #remember(hash: string): void {
    if (this.#held.size >= HELD_BUNDLES_REMEMBERED) this.#held.clear();
    this.#held.add(hash.toLowerCase());
  }

  async bundle(hash: Hex): Promise<SourceBundle | undefined> {
    const bytes = await this.bundleBytes(hash);
    return bytes === undefined ? undefined : decodeBundle(bytes);
  }
}
