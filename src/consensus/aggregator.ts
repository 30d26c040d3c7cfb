// Collects verdict signatures, grouped by verdict digest, and builds the attestation once the
// signers of one digest reach the set's threshold. Conflicting verdicts from one validator for
// one candidate are kept as evidence; they never count twice. What makes a verdict message
// valid is validation/verdict.ts; this file only keeps the state those rules read.
import type { Signature } from "@chainsafe/blst";
import type { Hex } from "viem";
import type { Attestation } from "../codec/attestation.ts";
import { verdictDigest, type Verdict } from "../codec/types.ts";
import type { VerdictMessage } from "../codec/verdictMessage.ts";
import { signatureToEip2537 } from "../crypto/bls.ts";
import type { GossipVerdict } from "../network/gossip.ts";
import type { BatchVerifier } from "./batchVerifier.ts";
import {
  decodeGossipVerdict,
  validateVerdictMessage,
  VerdictError,
  type ValidatedVerdict,
  type VerdictValidationModules,
  type VerdictValidationOptions,
} from "./validation/verdict.ts";
import { aggregate, signerBitmap, type ValidatorSetView } from "./validatorSet.ts";

/**
 * One validator's two signatures over two different verdicts for one candidate: each verifies
 * against the validator's key in set `setIndex`, so anyone holding the set can check the proof.
 * `verdict` is what was signed, when this node still holds it (the first may have been dropped).
 */
export interface Evidence {
  candidateId: Hex;
  setIndex: number;
  validatorIndex: number;
  first: { digest: Hex; signature: Hex; verdict?: Verdict };
  second: { digest: Hex; signature: Hex; verdict: Verdict };
}

export type IngestResult = GossipVerdict;

export interface AggregatorModules {
  verifier: BatchVerifier;
  onAttestation(attestation: Attestation, digest: Hex): void;
  onEvidence(evidence: Evidence): void;
}

interface DigestGroup {
  verdict: Verdict;
  signatures: Map<number, Signature>;
  attested: boolean;
}

/** Bounds memory: at most this many candidates tracked; the oldest are dropped first. */
export const MAX_TRACKED_CANDIDATES = 4096;
/** Verdicts whose digest is remembered: every validator signs the same verdict, hash it once. */
const DIGEST_CACHE_SIZE = 1024;

export class VerdictAggregator {
  private readonly networkId: Hex;
  private readonly set: ValidatorSetView;
  private readonly modules: AggregatorModules;
  /** candidateId -> validatorIndex -> first (digest, signature) seen from that validator. */
  private readonly byCandidate = new Map<Hex, Map<number, { digest: Hex; signature: Hex }>>();
  private readonly byDigest = new Map<Hex, DigestGroup>();
  private readonly digests = new Map<string, Hex>();
  readonly stats = { accepted: 0, rejected: 0, ignored: 0, dropped: 0 };

  private readonly validationOptions: VerdictValidationOptions;
  private readonly validationModules: VerdictValidationModules;

  constructor(options: { networkId: Hex; set: ValidatorSetView }, modules: AggregatorModules) {
    this.networkId = options.networkId;
    this.set = options.set;
    this.modules = modules;
    this.validationOptions = { networkId: options.networkId, set: options.set };
    this.validationModules = {
      verifier: modules.verifier,
      counted: (candidateId, validatorIndex) => this.byCandidate.get(candidateId)?.get(validatorIndex),
      digestOf: (verdict) => this.digestOf(verdict),
    };
  }

  /** Signers seen per digest for a candidate (for the status API). */
  signersOf(candidateId: Hex): { digest: Hex; signers: number[]; outcome: number }[] {
    const seen = this.byCandidate.get(candidateId);
    if (!seen) return [];
    const digests = new Set([...seen.values()].map((entry) => entry.digest));
    return [...digests].map((digest) => {
      const group = this.byDigest.get(digest);
      return { digest, signers: [...(group?.signatures.keys() ?? [])].sort((a, b) => a - b), outcome: group?.verdict.outcome ?? 0 };
    });
  }

  /**
   * Counts one verdict message (this node's own, or a peer's already decoded). Resolves with its
   * gossip result; errors other than a VerdictError (the verifier failing) propagate.
   */
  async ingest(message: VerdictMessage): Promise<IngestResult> {
    try {
      return await this.validateAndAdd(message);
    } catch (error) {
      if (!(error instanceof VerdictError)) throw error;
      return error.action;
    }
  }

  /**
   * The verdict topic's handler: decodes, validates and counts `bytes`. Resolves "accept";
   * throws VerdictError (its action is what the network reports). Messages that do not decode
   * are not counted in `stats`, as they never reached the aggregator.
   */
  async ingestGossip(bytes: Uint8Array): Promise<"accept"> {
    return this.validateAndAdd(decodeGossipVerdict(bytes));
  }

  private async validateAndAdd(message: VerdictMessage): Promise<"accept"> {
    try {
      this.add(await validateVerdictMessage(message, this.validationOptions, this.validationModules));
    } catch (error) {
      if (error instanceof VerdictError) this.count(error.action);
      throw error;
    }
    this.count("accept");
    return "accept";
  }

  private count(result: IngestResult): void {
    this.stats[result === "accept" ? "accepted" : result === "reject" ? "rejected" : "ignored"]++;
  }

  /** Counts a validated signature towards its digest, or keeps it as evidence. */
  private add({ message, digest, signature }: ValidatedVerdict): void {
    const { candidateId } = message.verdict;
    // Read again now, not trusted from validation: two verdicts of one validator validated
    // concurrently both saw nothing counted before their signature checks, and the second to
    // land must become evidence, not a second vote.
    const previous = this.byCandidate.get(candidateId)?.get(message.validatorIndex);
    if (previous?.digest === digest) return; // the same verdict, validated twice concurrently
    if (previous) {
      // A validator signed two different verdicts for one candidate: keep the proof, count neither again.
      const firstVerdict = this.byDigest.get(previous.digest)?.verdict;
      this.modules.onEvidence({
        candidateId,
        setIndex: this.set.index,
        validatorIndex: message.validatorIndex,
        first: { ...previous, ...(firstVerdict && { verdict: firstVerdict }) },
        second: { digest, signature: message.signature, verdict: message.verdict },
      });
      return;
    }
    this.remember(candidateId, message.validatorIndex, { digest, signature: message.signature });
    const group = this.byDigest.get(digest) ?? { verdict: message.verdict, signatures: new Map(), attested: false };
    this.byDigest.set(digest, group);
    group.signatures.set(message.validatorIndex, signature);
    if (!group.attested && group.signatures.size >= this.set.threshold) {
      group.attested = true;
      const signers = [...group.signatures.keys()].sort((a, b) => a - b);
      this.modules.onAttestation(
        {
          networkId: this.networkId,
          setIndex: this.set.index,
          verdict: group.verdict,
          signers: signerBitmap(signers),
          // Each signature passed the verifier's subgroup check: not again for the aggregate.
          signature: signatureToEip2537(aggregate(signers.map((i) => group.signatures.get(i)!), { groupCheck: false })),
        },
        digest,
      );
    }
  }

  /** The EIP-712 digest, computed once per distinct verdict (it dominates ingest cost otherwise). */
  private digestOf(verdict: Verdict): Hex {
    const key = `${verdict.candidateId}|${verdict.chainId}|${verdict.target}|${verdict.codehash}|${verdict.outcome}|${verdict.policyHash}|${verdict.reasons}|${verdict.findingsDigest}|${verdict.issuedAt}|${verdict.expiresAt}|${verdict.binding ?? ""}`;
    let digest = this.digests.get(key);
    if (digest === undefined) {
      digest = verdictDigest(this.networkId, verdict);
      if (this.digests.size >= DIGEST_CACHE_SIZE) this.digests.delete(this.digests.keys().next().value!);
      this.digests.set(key, digest);
    }
    return digest;
  }

  private remember(candidateId: Hex, validatorIndex: number, entry: { digest: Hex; signature: Hex }): void {
    let seen = this.byCandidate.get(candidateId);
    if (!seen) {
      if (this.byCandidate.size >= MAX_TRACKED_CANDIDATES) this.evictOldest();
      seen = new Map();
      this.byCandidate.set(candidateId, seen);
    }
    seen.set(validatorIndex, entry);
  }

  private evictOldest(): void {
    const [oldest, seen] = this.byCandidate.entries().next().value as [Hex, Map<number, { digest: Hex }>];
    for (const { digest } of seen.values()) this.byDigest.delete(digest);
    this.byCandidate.delete(oldest);
    this.stats.dropped++;
  }
}
