import { randomBytes } from "node:crypto";
import { bytesToHex, getAddress } from "viem";
import { Outcome, type Verdict } from "../codec/types.ts";

/** An approval with random ids and hashes, valid for a day from `issuedAt`: for tests and benchmarks. */
export function randomVerdict(overrides: Partial<Verdict> = {}): Verdict {
  const issuedAt = overrides.issuedAt ?? 1_700_000_000n;
  return {
    candidateId: bytesToHex(randomBytes(32)),
    chainId: 31337n,
    target: getAddress(bytesToHex(randomBytes(20))),
    codehash: bytesToHex(randomBytes(32)),
    outcome: Outcome.Approve,
    policyHash: bytesToHex(randomBytes(32)),
    reasons: 0n,
    findingsDigest: bytesToHex(randomBytes(32)),
    issuedAt,
    expiresAt: issuedAt + 86_400n,
    ...overrides,
  };
}
