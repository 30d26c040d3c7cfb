// A Sentinel-guarded proxy refuses any upgrade the registry has not approved, and the approval is
// what the verdict being computed would produce. So the shadow deployment assumes it: on the fork
// (never on the real chain) the registry's decision for exactly this (chain, proxy, codehash) is
// written as an approval, and the upgrade is run as it would be once the network approves it.
import { encodeAbiParameters, keccak256, numberToHex, type Address, type Hex } from "viem";

/**
 * Storage slot of SentinelRegistry._decisions (mapping(bytes32 subject => Decision)): slot 0
 * currentSetIndex + hasActiveSet, 1 _sets, 2-3 _pending, 4 isRecorded, 5 _decisions. Pinned by a
 * test against the deployed registry (test/verify/shadow/registryApproval.test.ts).
 */
export const DECISIONS_SLOT = 5n;
const OUTCOME_APPROVE = 1n;
const UINT64_MAX = 2n ** 64n - 1n;

export interface StorageOverride {
  address: Address;
  slot: Hex;
  value: Hex;
}

/** The storage write that makes `registry.isApproved(chainId, target, codehash)` true, until the end of time. */
export function registryApprovalOverride(registry: Address, chainId: bigint, target: Address, codehash: Hex): StorageOverride {
  const subject = keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "address" }, { type: "bytes32" }], [chainId, target, codehash]));
  const slot = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [subject, DECISIONS_SLOT]));
  // Decision packs outcome (uint8, byte 0), setIndex (uint32, bytes 1-4), recordedAt, issuedAt,
  // expiresAt (uint64 each, bytes 5-12, 13-20, 21-28), from the low-order end.
  const value = OUTCOME_APPROVE | (UINT64_MAX << 168n);
  return { address: registry, slot, value: numberToHex(value, { size: 32 }) };
}
