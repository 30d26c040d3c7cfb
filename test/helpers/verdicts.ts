// An approval verdict for tests: fixed policy and findings, the fields a test cares about given.
import { getAddress, keccak256, stringToHex, type Hex } from "viem";
import { Outcome, type Verdict } from "../../src/codec/types.ts";

export const labelHash = (label: string): Hex => keccak256(stringToHex(label));

/** APPROVE of `codehash` for `target`, issued at `issuedAt` for a day unless told otherwise; its id hashes `label`. */
export function approvalVerdict(fields: Partial<Verdict> & { label?: string } = {}): Verdict {
  const { label = "candidate", ...given } = fields;
  const issuedAt = given.issuedAt ?? 1_000n;
  return {
    candidateId: labelHash(label),
    chainId: 31337n,
    target: getAddress("0x00000000000000000000000000000000000a11ce"),
    codehash: labelHash("code"),
    outcome: Outcome.Approve,
    policyHash: labelHash("policy"),
    reasons: 0n,
    findingsDigest: labelHash("findings"),
    issuedAt,
    expiresAt: issuedAt + 86_400n,
    ...given,
  };
}
