// A revocation is a Verdict with outcome Revoke: the registry records it on the same subject
// (chain id, target, code hash) as the approval it withdraws, and verifies it like any verdict.
// What makes it safe to aggregate is that every honest node builds the same bytes from what they
// all hold, the approval attestation and the policy's invariant name, never from what it happened
// to observe (the block, the value, the time it noticed):
// - its candidateId is a revocation id, a domain-tagged digest of (network, approval, invariant).
//   It can never equal a candidate id (those are EIP-712 digests of a Candidate), so the signing
//   record's "one verdict per id" and the aggregator's equivocation rule apply per revocation,
//   and a node that signed the approval is not equivocating when it later signs the revocation;
// - issuedAt is the approval's own: the registry lets a revoke win a tie of issue time against an
//   approval (never the reverse), so the revocation outranks exactly the approval it names and
//   any older one, and a later re-approval (newer issue time) outranks it in turn;
// - expiresAt is the approval's: once the approval has lapsed there is nothing left to withdraw.
// One id per (approval, invariant): a flapping invariant yields one revocation, whatever the
// number of breach episodes (docs/monitoring.md).
import { encodeAbiParameters, keccak256, stringToHex, type Hex } from "viem";
import { Outcome, type Verdict } from "./types.ts";

/** Separates revocation ids from every other 32-byte id the network uses. */
export const REVOCATION_TAG: Hex = keccak256(stringToHex("sentinel.revocation/1"));

/**
 * Bit 43, ReasonCode.INVARIANT_VIOLATED of verify/reasons.ts (the codec cannot import verify/;
 * test/codec/revocation.test.ts proves the two agree).
 */
export const REVOCATION_REASONS = 1n << 43n;

/** What a revocation withdraws: an approval attestation, for one of its policy's invariants. */
export interface RevocationSubject {
  /** The approval's candidate id. */
  approvalId: Hex;
  /** The approval's verdict as attested. */
  approval: Verdict;
  /** The policy invariant that broke on the live chain. */
  invariant: string;
}

export function revocationId(networkId: Hex, subject: RevocationSubject): Hex {
  const { approval } = subject;
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint256" },
        { type: "address" },
        { type: "bytes32" },
        { type: "bytes32" },
      ],
      [REVOCATION_TAG, networkId, subject.approvalId, approval.chainId, approval.target, approval.codehash, keccak256(stringToHex(subject.invariant))],
    ),
  );
}

/** The findings digest of a revocation: which invariant, nothing a node observed. */
export function revocationFindingsDigest(invariant: string): Hex {
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "string" }], [REVOCATION_TAG, invariant]));
}

/** The revocation verdict every honest node signs for `subject`: a function of it alone. */
export function revocationVerdict(networkId: Hex, subject: RevocationSubject): Verdict {
  const { approval } = subject;
  if (approval.outcome !== Outcome.Approve) throw new Error("only an approval can be revoked");
  return {
    candidateId: revocationId(networkId, subject),
    chainId: approval.chainId,
    target: approval.target,
    codehash: approval.codehash,
    outcome: Outcome.Revoke,
    policyHash: approval.policyHash,
    reasons: REVOCATION_REASONS,
    findingsDigest: revocationFindingsDigest(subject.invariant),
    issuedAt: approval.issuedAt,
    expiresAt: approval.expiresAt,
  };
}
