// Admission: whether a candidate may be stored, verified and forwarded; the candidate's gossip
// validator, and the API's too (one set of rules whichever way a candidate arrives). Untrusted
// bytes are parsed at the boundary; the rules run cheapest first, signature and chain reads
// last. Every refusal carries the gossip action it implies: REJECT (the sender should have
// known: penalise) or IGNORE (could be honest: timing, duplicates, a chain this node does not
// serve). The network maps the action (network/gossip.ts); the API maps the code to a status.
import type { Address, Hex } from "viem";
import {
  candidateId as computeCandidateId,
  CandidateFormatError,
  parseSignedCandidate,
  type SignedCandidate,
} from "../codec/candidate.ts";
import { SignatureError } from "../crypto/ecdsa.ts";
import { inlineRecovery, type SignerRecovery } from "../crypto/signerRecovery.ts";
import { GossipActionError, type GossipAction } from "../network/errors.ts";
import { parseUntrustedJson } from "../util/json.ts";

export type AdmissionCode =
  | "TOO_LARGE"
  | "MALFORMED"
  | "UNKNOWN_CHAIN"
  | "EXPIRED"
  | "FROM_THE_FUTURE"
  | "BAD_LIFETIME"
  | "BAD_SIGNATURE"
  | "NOT_ENROLLED"
  | "CHAIN_UNAVAILABLE"
  | "DUPLICATE"
  | "BUNDLE_INVALID"
  | "BUNDLE_REQUIRED";

const ACTIONS: Record<AdmissionCode, GossipAction> = {
  TOO_LARGE: "reject",
  MALFORMED: "reject",
  UNKNOWN_CHAIN: "ignore",
  EXPIRED: "ignore",
  FROM_THE_FUTURE: "ignore",
  BAD_LIFETIME: "reject",
  BAD_SIGNATURE: "reject",
  NOT_ENROLLED: "reject",
  // This node could not read the chain: nothing the sender did.
  CHAIN_UNAVAILABLE: "ignore",
  DUPLICATE: "ignore",
  BUNDLE_INVALID: "reject",
  BUNDLE_REQUIRED: "ignore",
};

export interface AdmissionErrorMeta {
  /** The candidate's id, once the candidate parsed far enough to have one. */
  candidateId?: Hex;
}

export class AdmissionError extends GossipActionError<AdmissionCode, AdmissionErrorMeta> {
  override name = "AdmissionError";
  constructor(code: AdmissionCode, message: string, candidateId?: Hex, options?: ErrorOptions) {
    super(ACTIONS[code], code, message, candidateId === undefined ? {} : { candidateId }, options);
  }

  get candidateId(): Hex | undefined {
    return this.meta.candidateId;
  }
}

export interface AdmissionOptions {
  networkId: Hex;
  /** Candidates are small (hashes and addresses); anything larger is not a candidate. */
  maxCandidateBytes: number;
  /** How long an approval may be asked for: bounds how long a stale approval can linger. */
  maxLifetimeSeconds: number;
  /** Tolerated clock difference between the proposer and this node. */
  maxClockSkewSeconds: number;
  chainIds: ReadonlySet<bigint>;
}

/** Who may propose upgrades of a target: the proposers its upgrade authority enrolled. */
export interface TargetEnrollment {
  /** Empty when the authority enrolled nobody, or the target has no authority. */
  proposers: readonly Address[];
  authority?: Address;
}

export interface AdmissionModules {
  /**
   * The target's enrollment, read from its chain (a target without an upgrade authority has
   * none). Rejects only when the chain could not be read.
   */
  enrollment(chainId: bigint, target: Address): Promise<TargetEnrollment>;
  /**
   * The target's enrollment from an index kept current from the chain's logs, if it has one
   * now. Trusted only to say "enrolled": a proposer it does not list is asked of the chain.
   */
  indexedEnrollment?(chainId: bigint, target: Address): TargetEnrollment | undefined;
  /** Whether the candidate is already stored. */
  isKnown(candidateId: Hex): Promise<boolean>;
  now(): Date;
  /** Who signed the candidate id (the node's worker thread); in the calling thread when absent. */
  recovery?: SignerRecovery;
}

export interface AdmittedCandidate {
  id: Hex;
  signed: SignedCandidate;
  proposer: Address;
  authority?: Address;
}

export const DEFAULT_ADMISSION = { maxCandidateBytes: 4096, maxLifetimeSeconds: 30 * 86_400, maxClockSkewSeconds: 300 };

export class Admission {
  private readonly options: AdmissionOptions;
  private readonly modules: AdmissionModules;
  readonly #recovery: SignerRecovery;
  /** Candidates admitted, by where the proposer's enrollment was found. */
  readonly stats = { byIndex: 0, byChainRead: 0 };

  constructor(options: AdmissionOptions, modules: AdmissionModules) {
    this.options = options;
    this.modules = modules;
    this.#recovery = modules.recovery ?? inlineRecovery;
  }

  /** Admits raw bytes from gossip or the API (UTF-8 JSON of SignedCandidateJson). */
  async admitBytes(bytes: Uint8Array): Promise<AdmittedCandidate> {
    // [REJECT] larger than any candidate: refused before any parsing work.
    if (bytes.length > this.options.maxCandidateBytes) {
      throw new AdmissionError("TOO_LARGE", `candidate is ${bytes.length} bytes, at most ${this.options.maxCandidateBytes}`);
    }
    // [REJECT] not UTF-8 JSON.
    let json: unknown;
    try {
      json = parseUntrustedJson(bytes);
    } catch (error) {
      throw new AdmissionError("MALFORMED", `candidate is not UTF-8 JSON: ${(error as Error).message}`);
    }
    return this.admit(json);
  }

  /**
   * Admits a parsed JSON value (the API's body, or admitBytes' parse); throws AdmissionError.
   * `claim.proposer` is who the API's submitter says signed: a signature that recovers to anyone
   * else is a BAD_SIGNATURE (the candidate changed after signing, or was signed for another
   * network id), not a random address that is NOT_ENROLLED. Gossip carries no claim.
   */
  async admit(json: unknown, claim: { proposer?: Address } = {}): Promise<AdmittedCandidate> {
    // [REJECT] not a signed candidate: a field missing, mistyped or out of range.
    let signed: SignedCandidate;
    try {
      signed = parseSignedCandidate(json);
    } catch (error) {
      if (error instanceof CandidateFormatError) throw new AdmissionError("MALFORMED", error.message, undefined, { cause: error });
      throw error;
    }
    const { candidate } = signed;
    const now = BigInt(Math.floor(this.modules.now().getTime() / 1000));
    // [IGNORE] a chain this node does not serve: another node may.
    if (!this.options.chainIds.has(candidate.chainId)) {
      throw new AdmissionError("UNKNOWN_CHAIN", `chain ${candidate.chainId} is not configured on this node`);
    }
    // [IGNORE] expired, or created ahead of this node's clock: timing, not malice.
    if (candidate.expiresAt <= now) throw new AdmissionError("EXPIRED", `candidate expired at ${candidate.expiresAt}`);
    if (candidate.createdAt > now + BigInt(this.options.maxClockSkewSeconds)) {
      throw new AdmissionError("FROM_THE_FUTURE", `candidate created at ${candidate.createdAt}, now is ${now}`);
    }
    // [REJECT] a lifetime longer than policy allows, or ending before it starts.
    const lifetime = candidate.expiresAt - candidate.createdAt;
    if (lifetime <= 0n || lifetime > BigInt(this.options.maxLifetimeSeconds)) {
      throw new AdmissionError("BAD_LIFETIME", `lifetime ${lifetime} s must be in (0, ${this.options.maxLifetimeSeconds}]`);
    }
    const id = computeCandidateId(this.options.networkId, candidate);
    const indexed = this.modules.indexedEnrollment?.(candidate.chainId, candidate.target);
    // Not indexed: the enrollment does not depend on who signed, so its chain reads travel while
    // the store is asked for duplicates and the signature is recovered, instead of after.
    // (Duplicates of one candidate share one read: the node keeps a target's enrollment for a
    // few seconds.)
    const enrollment = indexed ? undefined : this.modules.enrollment(candidate.chainId, candidate.target);
    enrollment?.catch(() => undefined); // awaited below, unless an earlier rule refuses first
    // [REJECT] the signature must recover to some proposer...
    let proposer: Address;
    try {
      proposer = await this.#recovery.recover(id, signed.signature);
    } catch (error) {
      // Only the signature's fault is the sender's; a recovery thread that died is this node's.
      if (!(error instanceof SignatureError)) throw error;
      throw new AdmissionError("BAD_SIGNATURE", "signature does not recover to an address");
    }
    // [REJECT] (API only) not signed by whom the submitter says: an edited field or another
    // network id changes the digest, and the signature then recovers to a random address.
    if (claim.proposer !== undefined && claim.proposer.toLowerCase() !== proposer.toLowerCase()) {
      throw new AdmissionError(
        "BAD_SIGNATURE",
        `the signature does not match this candidate: it recovers to ${proposer}, not to the proposer ${claim.proposer}; the candidate was changed after it was signed, or signed for another network id`,
        id,
      );
    }
    // [IGNORE] already admitted: gossip delivers duplicates. Asked after the signature, not
    // before: a database read shares the store's lock and thread pool with its writes, and junk
    // that a pure computation can refuse should never reach them (an API under a burst of forged
    // candidates stalled its valid requests on those reads; gossipsub already drops repeats of a
    // message before admission, so recovering a duplicate's signer is rare).
    if (await this.modules.isKnown(id)) throw new AdmissionError("DUPLICATE", `candidate ${id} already admitted`, id);
    if (indexed?.proposers.includes(proposer)) {
      this.stats.byIndex++;
      return indexed.authority ? { id, signed, proposer, authority: indexed.authority } : { id, signed, proposer };
    }
    // [IGNORE] the chain could not be read; [REJECT] ...the target's upgrade authority did not enroll it.
    let read: TargetEnrollment;
    try {
      read = await (enrollment ?? this.modules.enrollment(candidate.chainId, candidate.target));
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new AdmissionError(
        "CHAIN_UNAVAILABLE",
        `could not read the enrollment of ${candidate.target} on chain ${candidate.chainId}: ${reason}`,
        id,
        { cause: error },
      );
    }
    const { proposers, authority } = read;
    if (!proposers.includes(proposer)) {
      throw new AdmissionError(
        "NOT_ENROLLED",
        `the signature recovers to ${proposer}, which is not an enrolled proposer of ${candidate.target}${authority ? ` (authority ${authority})` : ""}; or the candidate was changed after it was signed, or signed for another network id (send \`proposer\` with the candidate to tell the two apart)`,
      );
    }
    this.stats.byChainRead++;
    return authority ? { id, signed, proposer, authority } : { id, signed, proposer };
  }
}
