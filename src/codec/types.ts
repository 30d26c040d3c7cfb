// The signed structures of Sentinel as EIP-712 types: the one definition used by the node,
// the client and the tests, mirrored by contracts/lib/SentinelTypes.sol (a test proves the
// type strings and digests agree).
import { hashTypedData, keccak256, type Address, type Hex, type TypedDataDomain } from "viem";

export const DOMAIN_NAME = "Sentinel";
export const DOMAIN_VERSION = "1";

export const Outcome = { Approve: 1, Reject: 2, Revoke: 3 } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export const SENTINEL_TYPES = {
  Verdict: [
    { name: "candidateId", type: "bytes32" },
    { name: "chainId", type: "uint256" },
    { name: "target", type: "address" },
    { name: "codehash", type: "bytes32" },
    { name: "outcome", type: "uint8" },
    { name: "policyHash", type: "bytes32" },
    { name: "reasons", type: "uint256" },
    { name: "findingsDigest", type: "bytes32" },
    { name: "issuedAt", type: "uint64" },
    { name: "expiresAt", type: "uint64" },
  ],
  // A verdict bound to one governance operation. Its own type, not a new Verdict field, so an
  // unbound verdict's digest is what it always was (docs/contracts.md, "Operation binding").
  BoundVerdict: [
    { name: "candidateId", type: "bytes32" },
    { name: "chainId", type: "uint256" },
    { name: "target", type: "address" },
    { name: "codehash", type: "bytes32" },
    { name: "outcome", type: "uint8" },
    { name: "policyHash", type: "bytes32" },
    { name: "reasons", type: "uint256" },
    { name: "findingsDigest", type: "bytes32" },
    { name: "issuedAt", type: "uint64" },
    { name: "expiresAt", type: "uint64" },
    { name: "binding", type: "bytes32" },
  ],
  ValidatorSetRotation: [
    { name: "setIndex", type: "uint32" },
    { name: "keysHash", type: "bytes32" },
    { name: "threshold", type: "uint16" },
  ],
  ProofOfPossession: [{ name: "pubkey", type: "bytes" }],
  // What a policy's human approver signs (docs/approvals.md): the candidate and the findings of
  // this network's automated report, so a different report needs new approvals. Verified off
  // chain only (by the nodes), so contracts/lib/SentinelTypes.sol has no mirror of it.
  HumanApproval: [
    { name: "candidateId", type: "bytes32" },
    { name: "findingsDigest", type: "bytes32" },
    { name: "expiresAt", type: "uint64" },
  ],
} as const;

export interface Verdict {
  candidateId: Hex;
  chainId: bigint;
  target: Address;
  codehash: Hex;
  outcome: Outcome;
  policyHash: Hex;
  reasons: bigint;
  findingsDigest: Hex;
  issuedAt: bigint;
  expiresAt: bigint;
  /**
   * The TimelockController operation id or Safe transaction hash the verdict is limited to,
   * copied from the candidate. Absent when unbound; never zero (see `isBinding`).
   */
  binding?: Hex;
}

/** A binding as the signed structures carry it: 32 bytes of hex, not all zero (zero = unbound). */
export function isBinding(value: unknown): value is Hex {
  return typeof value === "string" && /^0x[0-9a-fA-F]{64}$/.test(value) && !/^0x0{64}$/.test(value);
}

/** A Sentinel network id: 32 bytes of hex, not all zero (a zero salt names no network). */
export function isNetworkId(value: unknown): value is Hex {
  return typeof value === "string" && /^0x[0-9a-fA-F]{64}$/.test(value) && !/^0x0{64}$/.test(value);
}

/** The network id is the EIP-712 salt: no chain id, so one attestation serves every chain. */
export function sentinelDomain(networkId: Hex): TypedDataDomain {
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, salt: networkId };
}

/** "Name(type name,...)" as EIP-712 encodeType writes it (no referenced structs here). */
export function encodeType(primaryType: keyof typeof SENTINEL_TYPES): string {
  const fields = SENTINEL_TYPES[primaryType].map((field) => `${field.type} ${field.name}`);
  return `${primaryType}(${fields.join(",")})`;
}

/**
 * A bound verdict is signed as a BoundVerdict, an unbound one as a Verdict, exactly as
 * SentinelTypes.verdictStructHash chooses (a zero binding counts as unbound on both sides).
 */
export function verdictDigest(networkId: Hex, verdict: Verdict): Hex {
  const { binding, ...fields } = verdict;
  if (binding !== undefined && !/^0x0{64}$/.test(binding)) {
    return hashTypedData({
      domain: sentinelDomain(networkId),
      types: SENTINEL_TYPES,
      primaryType: "BoundVerdict",
      message: { ...fields, binding },
    });
  }
  return hashTypedData({
    domain: sentinelDomain(networkId),
    types: SENTINEL_TYPES,
    primaryType: "Verdict",
    message: fields,
  });
}

export function rotationDigest(networkId: Hex, setIndex: number, keysHash: Hex, threshold: number): Hex {
  return hashTypedData({
    domain: sentinelDomain(networkId),
    types: SENTINEL_TYPES,
    primaryType: "ValidatorSetRotation",
    message: { setIndex, keysHash, threshold },
  });
}

/** @param pubkeyRaw the key's 96 raw bytes (x || y) as hex. */
export function proofOfPossessionDigest(networkId: Hex, pubkeyRaw: Hex): Hex {
  return hashTypedData({
    domain: sentinelDomain(networkId),
    types: SENTINEL_TYPES,
    primaryType: "ProofOfPossession",
    message: { pubkey: pubkeyRaw },
  });
}

export interface HumanApproval {
  candidateId: Hex;
  findingsDigest: Hex;
  /** Unix seconds after which no node counts the approval. */
  expiresAt: bigint;
}

/** The digest an EOA approver signs, and the `bytes32` a contract wallet's isValidSignature is asked about. */
export function humanApprovalDigest(networkId: Hex, approval: HumanApproval): Hex {
  return hashTypedData({
    domain: sentinelDomain(networkId),
    types: SENTINEL_TYPES,
    primaryType: "HumanApproval",
    message: approval,
  });
}

/** keccak256 of a validator set's concatenated raw keys, as the rotation type commits to it. */
export function keysHash(keysBlob: Hex): Hex {
  return keccak256(keysBlob);
}
