// The verdict gossip message: one validator's BLS signature over one verdict. Untrusted until
// the signature verifies against that validator's key in the named set; a peer id is never a
// signer identity. The digest is always recomputed from the fields, never taken from the wire.
import { getAddress, isHex, size, type Address, type Hex } from "viem";
import { SentinelError } from "../errors.ts";
import { parseUntrustedJson } from "../util/json.ts";
import { isBinding, Outcome, type Verdict } from "./types.ts";

export interface VerdictMessage {
  setIndex: number;
  validatorIndex: number;
  verdict: Verdict;
  /** Compressed G2 signature, 96 bytes. */
  signature: Hex;
}

export type VerdictMessageErrorCode =
  /** Over MAX_VERDICT_MESSAGE_BYTES: not parsed at all. */
  | "TOO_LARGE"
  /** Not UTF-8 JSON, or a field missing or out of range. */
  | "MALFORMED";

export class VerdictMessageError extends SentinelError<VerdictMessageErrorCode, { field?: string }> {
  override name = "VerdictMessageError";
}

/** Far above any real message (~700 bytes); bounds parsing work on junk. */
export const MAX_VERDICT_MESSAGE_BYTES = 2048;

export function encodeVerdictMessage(message: VerdictMessage): Uint8Array {
  const { verdict } = message;
  return new TextEncoder().encode(
    JSON.stringify({
      setIndex: message.setIndex,
      validatorIndex: message.validatorIndex,
      verdict: {
        candidateId: verdict.candidateId,
        chainId: verdict.chainId.toString(),
        target: verdict.target,
        codehash: verdict.codehash,
        outcome: verdict.outcome,
        policyHash: verdict.policyHash,
        reasons: verdict.reasons.toString(),
        findingsDigest: verdict.findingsDigest,
        issuedAt: verdict.issuedAt.toString(),
        expiresAt: verdict.expiresAt.toString(),
        ...(verdict.binding !== undefined ? { binding: verdict.binding } : {}),
      },
      signature: message.signature,
    }),
  );
}

export function decodeVerdictMessage(bytes: Uint8Array): VerdictMessage {
  if (bytes.length > MAX_VERDICT_MESSAGE_BYTES) throw new VerdictMessageError("TOO_LARGE", `message is ${bytes.length} bytes`);
  let json: Record<string, unknown>;
  try {
    json = parseUntrustedJson(bytes) as Record<string, unknown>;
  } catch (error) {
    throw new VerdictMessageError("MALFORMED", `not UTF-8 JSON: ${(error as Error).message}`);
  }
  const v = json["verdict"] as Record<string, unknown> | undefined;
  if (typeof json !== "object" || json === null || typeof v !== "object" || v === null) {
    throw new VerdictMessageError("MALFORMED", "missing verdict");
  }
  const outcome = v["outcome"];
  if (outcome !== Outcome.Approve && outcome !== Outcome.Reject && outcome !== Outcome.Revoke) {
    throw new VerdictMessageError("MALFORMED", "verdict.outcome must be 1, 2 or 3");
  }
  const binding = v["binding"];
  // Absent when unbound; a zero binding would be a second spelling of "unbound".
  if (binding !== undefined && !isBinding(binding)) {
    throw new VerdictMessageError("MALFORMED", "verdict.binding must be 32 bytes of hex, not zero", { field: "verdict.binding" });
  }
  return {
    setIndex: uint(json["setIndex"], "setIndex", 2 ** 32 - 1),
    validatorIndex: uint(json["validatorIndex"], "validatorIndex", 255),
    verdict: {
      candidateId: bytes32(v["candidateId"], "verdict.candidateId"),
      chainId: bigUint(v["chainId"], "verdict.chainId", 256),
      target: address(v["target"], "verdict.target"),
      codehash: bytes32(v["codehash"], "verdict.codehash"),
      outcome,
      policyHash: bytes32(v["policyHash"], "verdict.policyHash"),
      reasons: bigUint(v["reasons"], "verdict.reasons", 256),
      findingsDigest: bytes32(v["findingsDigest"], "verdict.findingsDigest"),
      issuedAt: bigUint(v["issuedAt"], "verdict.issuedAt", 64),
      expiresAt: bigUint(v["expiresAt"], "verdict.expiresAt", 64),
      ...(binding !== undefined ? { binding: binding.toLowerCase() as Hex } : {}),
    },
    signature: fixedHex(json["signature"], "signature", 96),
  };
}

function uint(value: unknown, field: string, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new VerdictMessageError("MALFORMED", `${field} must be an integer in [0, ${max}]`, { field });
  }
  return value;
}

function bigUint(value: unknown, field: string, bits: number): bigint {
  if (typeof value !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(value)) {
    throw new VerdictMessageError("MALFORMED", `${field} must be a decimal string`, { field });
  }
  const parsed = BigInt(value);
  if (parsed >> BigInt(bits) !== 0n) throw new VerdictMessageError("MALFORMED", `${field} exceeds ${bits} bits`, { field });
  return parsed;
}

function fixedHex(value: unknown, field: string, bytes: number): Hex {
  if (!isHex(value) || size(value) !== bytes) throw new VerdictMessageError("MALFORMED", `${field} must be ${bytes} bytes of hex`, { field });
  return value.toLowerCase() as Hex;
}

const bytes32 = (value: unknown, field: string) => fixedHex(value, field, 32);
/** Checksumming costs a keccak; a network sees the same few targets again and again. */
const checksummed = new Map<string, Address>();
const address = (value: unknown, field: string): Address => {
  const hex = fixedHex(value, field, 20);
  let result = checksummed.get(hex);
  if (result === undefined) {
    result = getAddress(hex);
    if (checksummed.size >= 1024) checksummed.clear();
    checksummed.set(hex, result);
  }
  return result;
};
