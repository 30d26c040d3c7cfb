// A human approver's signed approval of one candidate's automated report, as it travels: the
// JSON body of `POST /v1/candidates/{id}/approvals` and, UTF-8 encoded, the payload of the
// approvals gossip topic. What is signed is the EIP-712 HumanApproval of types.ts; the signature
// is an EOA's 65-byte ECDSA signature of its digest, or whatever a contract wallet's ERC-1271
// isValidSignature accepts for that digest (a Safe: its owners' signatures of the SafeMessage
// wrapping it, docs/approvals.md). Parsing only checks the form; whether it approves anything is
// consensus/validation/approval.ts's question.
import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { SentinelError } from "../errors.ts";
import type { HumanApproval } from "./types.ts";

export interface SignedHumanApproval extends HumanApproval {
  approver: Address;
  signature: Hex;
}

export interface SignedHumanApprovalJson {
  candidateId: string;
  findingsDigest: string;
  /** Unix seconds, as a decimal string. */
  expiresAt: string;
  approver: string;
  signature: string;
}

/** One ECDSA signature; the least any approver's signature can be. */
export const MIN_APPROVAL_SIGNATURE_BYTES = 65;
/** A Safe with 32 owners' signatures and some room for contract signatures' dynamic parts. */
export const MAX_APPROVAL_SIGNATURE_BYTES = 4096;
/** The encoded approval's ceiling: the signature's hex and the fixed fields. */
export const MAX_APPROVAL_BYTES = 2 * MAX_APPROVAL_SIGNATURE_BYTES + 512;

export class ApprovalFormatError extends SentinelError<"APPROVAL_MALFORMED", { field: string }> {
  override name = "ApprovalFormatError";
  readonly field: string;
  constructor(field: string, message: string) {
    super("APPROVAL_MALFORMED", `${field}: ${message}`, { field });
    this.field = field;
  }
}

const FIELDS = ["candidateId", "findingsDigest", "expiresAt", "approver", "signature"] as const;

/** Validates an untrusted approval document; throws ApprovalFormatError naming the field. */
export function parseSignedApproval(input: unknown): SignedHumanApproval {
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new ApprovalFormatError("approval", "must be an object");
  const v = input as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!(FIELDS as readonly string[]).includes(key)) throw new ApprovalFormatError(`approval.${key}`, `unknown field (expected one of ${FIELDS.join(", ")})`);
  }
  const bytes32 = (field: "candidateId" | "findingsDigest"): Hex => {
    const value = v[field];
    if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) throw new ApprovalFormatError(`approval.${field}`, "must be 0x and 64 hex characters");
    return value.toLowerCase() as Hex;
  };
  const expires = v["expiresAt"];
  if (typeof expires !== "string" || !/^(0|[1-9]\d{0,19})$/.test(expires) || BigInt(expires) >= 1n << 64n) {
    throw new ApprovalFormatError("approval.expiresAt", "must be unix seconds as a decimal string (uint64)");
  }
  const approver = v["approver"];
  if (typeof approver !== "string" || !isAddress(approver, { strict: false })) throw new ApprovalFormatError("approval.approver", "must be an address");
  const signature = v["signature"];
  if (typeof signature !== "string" || !isHex(signature, { strict: true }) || signature.length % 2 !== 0) {
    throw new ApprovalFormatError("approval.signature", "must be 0x and an even number of hex characters");
  }
  const length = (signature.length - 2) / 2;
  if (length < MIN_APPROVAL_SIGNATURE_BYTES || length > MAX_APPROVAL_SIGNATURE_BYTES) {
    throw new ApprovalFormatError("approval.signature", `is ${length} bytes, must be ${MIN_APPROVAL_SIGNATURE_BYTES} to ${MAX_APPROVAL_SIGNATURE_BYTES}`);
  }
  return {
    candidateId: bytes32("candidateId"),
    findingsDigest: bytes32("findingsDigest"),
    expiresAt: BigInt(expires),
    approver: getAddress(approver),
    signature: signature.toLowerCase() as Hex,
  };
}

export function signedApprovalToJson(approval: SignedHumanApproval): SignedHumanApprovalJson {
  return {
    candidateId: approval.candidateId,
    findingsDigest: approval.findingsDigest,
    expiresAt: approval.expiresAt.toString(),
    approver: approval.approver,
    signature: approval.signature,
  };
}

export function encodeSignedApproval(approval: SignedHumanApproval): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(signedApprovalToJson(approval)));
}

/** Gossip bytes to an approval; throws ApprovalFormatError (oversized, not JSON, malformed). */
export function decodeSignedApproval(bytes: Uint8Array): SignedHumanApproval {
  if (bytes.byteLength > MAX_APPROVAL_BYTES) throw new ApprovalFormatError("approval", `is ${bytes.byteLength} bytes, at most ${MAX_APPROVAL_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new ApprovalFormatError("approval", "is not UTF-8 JSON");
  }
  return parseSignedApproval(json);
}

/**
 * What a Safe's owners sign to approve as that Safe. A Safe's isValidSignature(hash, signature)
 * (its CompatibilityFallbackHandler) does not check `hash` itself: it wraps it as the Safe's own
 * EIP-712 message, SafeMessage(bytes message) with message = abi.encode(hash), under the Safe's
 * domain (chainId, verifyingContract = the Safe), and checks its owners' signatures of that.
 * `approvalDigest` is humanApprovalDigest(...): the bytes32 the node asks the Safe about.
 */
export function safeApprovalTypedData(chainId: number | bigint, safe: Address, approvalDigest: Hex) {
  return {
    domain: { chainId: BigInt(chainId), verifyingContract: safe },
    types: { SafeMessage: [{ name: "message", type: "bytes" }] },
    primaryType: "SafeMessage",
    // abi.encode(bytes32) is the 32 bytes themselves.
    message: { message: approvalDigest },
  } as const;
}

/**
 * The owners' signatures as one Safe signature: each 65-byte r ‖ s ‖ v (v 27 or 28, as an
 * EIP-712 signature is), in ascending owner address order, which the Safe requires.
 */
export function joinSafeSignatures(signatures: readonly { owner: Address; signature: Hex }[]): Hex {
  const sorted = [...signatures].sort((a, b) => (BigInt(a.owner) < BigInt(b.owner) ? -1 : 1));
  for (const { owner, signature } of sorted) {
    if (!isHex(signature) || signature.length !== 132) throw new ApprovalFormatError("signature", `${owner}'s signature must be 65 bytes of hex`);
  }
  return `0x${sorted.map(({ signature }) => signature.slice(2)).join("")}` as Hex;
}
