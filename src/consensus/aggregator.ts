// Collects verdict signatures, grouped by verdict digest, and builds the attestation once the
// signers of one digest reach the set's threshold. Conflicting verdicts from one validator for
// one candidate are kept as evidence; they never count twice.
import { Signature } from "@chainsafe/blst";
import { hexToBytes, type Hex } from "viem";
import type { Attestation } from "../codec/attestation.ts";
import { verdictDigest, type Verdict } from "../codec/types.ts";
import type { VerdictMessage } from "../codec/verdictMessage.ts";
import { signatureToEip2537 } from "../crypto/bls.ts";
import type { BatchVerifier } from "./batchVerifier.ts";
import { aggregate, signerBitmap, type ValidatorSetView } from "./validatorSet.ts";

export interface Evidence {
  candidateId: Hex;
  validatorIndex: number;
  first: { digest: Hex; signature: Hex };
  second: { digest: Hex; signature: Hex };
}

export type IngestResult = "accept" | "ignore" | "reject";

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

  constructor(options: { networkId: Hex; set: ValidatorSetView }, modules: AggregatorModules) {
    this.networkId = options.networkId;
    this.set = options.set;
    this.modules = modules;
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

  async ingest(message: VerdictMessage): Promise<IngestResult> {
    const result = await this.classify(message);
    this.stats[result === "accept" ? "accepted" : result === "reject" ? "rejected" : "ignored"]++;
    return result;
  }

  private async classify(message: VerdictMessage): Promise<IngestResult> {
    // [IGNORE] another set: rotation in progress, or a stale peer.
    if (message.setIndex !== this.set.index) return "ignore";
    // [REJECT] no such validator in the set.
    const publicKey = this.set.keys[message.validatorIndex];
    if (!publicKey) return "reject";
    const digest = this.digestOf(message.verdict);
    const { candidateId } = message.verdict;
    const previous = this.byCandidate.get(candidateId)?.get(message.validatorIndex);
    // [IGNORE] already counted.
    if (previous?.digest === digest) return "ignore";
    // [REJECT] the signature must be a point on G2's curve and verify against the validator's
    // key. The subgroup check is the verifier's: it checks each signature once, as it combines it.
    let signature: Signature;
    try {
      signature = Signature.fromBytes(hexToBytes(message.signature));
    } catch {
      return "reject";
    }
    const valid = await this.modules.verifier.verify({ message: hexToBytes(digest), publicKey, signature });
    if (!valid) return "reject";
    if (previous) {
      // A validator signed two different verdicts for one candidate: keep the proof, count neither again.
      this.modules.onEvidence({
        candidateId,
        validatorIndex: message.validatorIndex,
        first: previous,
        second: { digest, signature: message.signature },
      });
      return "accept";
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
    return "accept";
  }

  /** The EIP-712 digest, computed once per distinct verdict (it dominates ingest cost otherwise). */
  private digestOf(verdict: Verdict): Hex {
    const key = `${verdict.candidateId}|${verdict.chainId}|${verdict.target}|${verdict.codehash}|${verdict.outcome}|${verdict.policyHash}|${verdict.reasons}|${verdict.findingsDigest}|${verdict.issuedAt}|${verdict.expiresAt}`;
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
