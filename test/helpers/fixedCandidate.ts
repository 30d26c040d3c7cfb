// One fixed candidate for unit tests of checks that read a candidate but no chain state of its own.
import { getAddress, keccak256, stringToHex } from "viem";
import type { Candidate } from "../../src/codec/candidate.ts";

export const FIXED_CANDIDATE: Candidate = {
  chainId: 31337n,
  target: getAddress("0x1000000000000000000000000000000000000001"),
  implementation: getAddress("0x2000000000000000000000000000000000000002"),
  sourceHash: keccak256(stringToHex("source")),
  policyHash: keccak256(stringToHex("policy")),
  blockNumber: 7n,
  nonce: 1n,
  createdAt: 1_700_000_000n,
  expiresAt: 1_700_086_400n,
};
