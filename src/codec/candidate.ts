// A deployment candidate: what a protocol's pipeline proposes for verification, signed with
// EIP-712 by a proposer key the target's upgrade authority enrolled in the registry. The
// candidate id is its EIP-712 digest under the network's domain, so a candidate signed for one
// Sentinel network is a different candidate on any other.
import {
  concat,
  getAddress,
  getTypesForEIP712Domain,
  hashDomain,
  hashStruct,
  keccak256,
  isAddress,
  isHex,
  size,
  type Address,
  type Hex,
} from "viem";
import { recoverSigner } from "../crypto/ecdsa.ts";
import { isBinding, sentinelDomain } from "./types.ts";
import { SentinelError } from "../errors.ts";

export const CANDIDATE_TYPES = {
  Candidate: [
    { name: "chainId", type: "uint256" },
    { name: "target", type: "address" },
    { name: "implementation", type: "address" },
    { name: "sourceHash", type: "bytes32" },
    { name: "policyHash", type: "bytes32" },
    { name: "blockNumber", type: "uint64" },
    { name: "nonce", type: "uint64" },
    { name: "createdAt", type: "uint64" },
    { name: "expiresAt", type: "uint64" },
  ],
  // A candidate whose approval is to be limited to one governance operation: the proposer signs
  // the binding, so no relay or node can move it. Its own type so that an unbound candidate's id
  // is unchanged (docs/contracts.md, "Operation binding").
  BoundCandidate: [
    { name: "chainId", type: "uint256" },
    { name: "target", type: "address" },
    { name: "implementation", type: "address" },
    { name: "sourceHash", type: "bytes32" },
    { name: "policyHash", type: "bytes32" },
    { name: "blockNumber", type: "uint64" },
    { name: "nonce", type: "uint64" },
    { name: "createdAt", type: "uint64" },
    { name: "expiresAt", type: "uint64" },
    { name: "binding", type: "bytes32" },
  ],
} as const;

export interface Candidate {
  /** Chain the upgrade happens on. */
  chainId: bigint;
  /** The proxy being upgraded. */
  target: Address;
  /** The new implementation, already deployed, not yet activated. */
  implementation: Address;
  /** keccak256 of the source bundle (standard-JSON input, compiler version, contract name). */
  sourceHash: Hex;
  /** The policy the upgrade authority enrolled for the target (the default policy's hash if none). */
  policyHash: Hex;
  /**
   * The block of the target's chain every node verifies at: chain reads and the shadow
   * deployment's fork are pinned there, so every node sees the same state and finds the same.
   */
  blockNumber: bigint;
  nonce: bigint;
  /** Proposal time (unix seconds): the verdict's issue time, identical on every node. */
  createdAt: bigint;
  /** After this the candidate is not verified and its approval lapses. */
  expiresAt: bigint;
  /**
   * The TimelockController operation id (`hashOperation`/`hashOperationBatch`) or Safe
   * transaction hash (`getTransactionHash`) that alone may execute the upgrade once approved.
   * Absent for an approval any operation of the guard may use; never zero.
   */
  binding?: Hex;
}

export interface SignedCandidate {
  candidate: Candidate;
  /** 65-byte secp256k1 signature by the proposer over the candidate's EIP-712 digest. */
  signature: Hex;
}

/** A signed candidate that does not parse; one code, the field says where. */
export class CandidateFormatError extends SentinelError<"INVALID_CANDIDATE", { field: string }> {
  override name = "CandidateFormatError";
  constructor(field: string, message: string) {
    super("INVALID_CANDIDATE", `${field}: ${message}`, { field });
  }

  get field(): string {
    return this.meta.field;
  }
}

export function candidateId(networkId: Hex, candidate: Candidate): Hex {
  // hashTypedData's digest, without recomputing the domain separator and re-validating the
  // typed data each time: every field is checked by encoding it anyway, and admission computes
  // an id for every candidate anyone sends (test/codec/candidate.test.ts holds the two equal).
  const { types, primaryType, message } = candidateTypedData(candidate);
  return keccak256(concat(["0x1901", domainSeparatorOf(networkId), hashStruct({ data: message, primaryType, types })]));
}

/** What the proposer signs (EIP-712 types, primary type, message), without the domain. */
export function candidateTypedData(candidate: Candidate) {
  const { binding, ...fields } = candidate;
  if (binding !== undefined) {
    if (!isBinding(binding)) throw new CandidateFormatError("candidate.binding", "must be 32 bytes of hex, not zero");
    return { types: CANDIDATE_TYPES, primaryType: "BoundCandidate" as const, message: { ...fields, binding } };
  }
  return { types: CANDIDATE_TYPES, primaryType: "Candidate" as const, message: fields };
}

const domainSeparators = new Map<Hex, Hex>();
/** A node serves one network id; a client may sign for a few. Bounded all the same. */
function domainSeparatorOf(networkId: Hex): Hex {
  let separator = domainSeparators.get(networkId);
  if (separator === undefined) {
    const domain = sentinelDomain(networkId);
    separator = hashDomain({ domain, types: { EIP712Domain: getTypesForEIP712Domain({ domain }) } } as Parameters<typeof hashDomain>[0]);
    if (domainSeparators.size >= 16) domainSeparators.clear();
    domainSeparators.set(networkId, separator);
  }
  return separator;
}

/** Throws SignatureError when the signature recovers to no address. */
export function recoverProposer(networkId: Hex, signed: SignedCandidate): Address {
  return recoverProposerOf(candidateId(networkId, signed.candidate), signed.signature);
}

/** The candidate's id is its EIP-712 digest, what the proposer signed: no need to hash it again. */
export function recoverProposerOf(candidateId: Hex, signature: Hex): Address {
  return recoverSigner(candidateId, signature);
}

/** JSON form, as the HTTP API and gossip carry it: integers as decimal strings. */
export interface SignedCandidateJson {
  candidate: {
    chainId: string;
    target: string;
    implementation: string;
    sourceHash: string;
    policyHash: string;
    blockNumber: string;
    nonce: string;
    createdAt: string;
    expiresAt: string;
    binding?: string;
  };
  signature: string;
}

export function signedCandidateToJson({ candidate, signature }: SignedCandidate): SignedCandidateJson {
  return {
    candidate: {
      chainId: candidate.chainId.toString(),
      target: candidate.target,
      implementation: candidate.implementation,
      sourceHash: candidate.sourceHash,
      policyHash: candidate.policyHash,
      blockNumber: candidate.blockNumber.toString(),
      nonce: candidate.nonce.toString(),
      createdAt: candidate.createdAt.toString(),
      expiresAt: candidate.expiresAt.toString(),
      ...(candidate.binding !== undefined ? { binding: candidate.binding } : {}),
    },
    signature,
  };
}

const UINT64_MAX = 2n ** 64n - 1n;

/** Parses untrusted JSON into a SignedCandidate; throws CandidateFormatError naming the field. */
export function parseSignedCandidate(input: unknown): SignedCandidate {
  const root = asObject(input, "body");
  const c = asObject(root["candidate"], "candidate");
  const signature = root["signature"];
  if (!isHex(signature) || size(signature) !== 65) {
    throw new CandidateFormatError("signature", "must be a 0x-prefixed 65-byte hex string");
  }
  const binding = c["binding"];
  // Absent when unbound: a zero binding would give one candidate two ids.
  if (binding !== undefined && !isBinding(binding)) {
    throw new CandidateFormatError("candidate.binding", "must be a 0x-prefixed 32-byte hex string, not zero (omit it for an unbound candidate)");
  }
  return {
    candidate: {
      chainId: parseUint(c["chainId"], "candidate.chainId", 2n ** 256n - 1n),
      target: parseAddress(c["target"], "candidate.target"),
      implementation: parseAddress(c["implementation"], "candidate.implementation"),
      sourceHash: parseBytes32(c["sourceHash"], "candidate.sourceHash"),
      policyHash: parseBytes32(c["policyHash"], "candidate.policyHash"),
      blockNumber: parseUint(c["blockNumber"], "candidate.blockNumber", UINT64_MAX),
      nonce: parseUint(c["nonce"], "candidate.nonce", UINT64_MAX),
      createdAt: parseUint(c["createdAt"], "candidate.createdAt", UINT64_MAX),
      expiresAt: parseUint(c["expiresAt"], "candidate.expiresAt", UINT64_MAX),
      ...(binding !== undefined ? { binding: binding.toLowerCase() as Hex } : {}),
    },
    signature,
  };
}

function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CandidateFormatError(field, "must be an object");
  }
  return value as Record<string, unknown>;
}

function parseUint(value: unknown, field: string, max: bigint): bigint {
  if (typeof value !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(value)) {
    throw new CandidateFormatError(field, "must be a decimal integer string");
  }
  const parsed = BigInt(value);
  if (parsed > max) throw new CandidateFormatError(field, `must be at most ${max}`);
  return parsed;
}

function parseAddress(value: unknown, field: string): Address {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) {
    throw new CandidateFormatError(field, "must be a 20-byte hex address");
  }
  return getAddress(value);
}

function parseBytes32(value: unknown, field: string): Hex {
  if (!isHex(value) || size(value) !== 32) throw new CandidateFormatError(field, "must be a 0x-prefixed 32-byte hex string");
  return value.toLowerCase() as Hex;
}
