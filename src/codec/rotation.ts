// A validator-set rotation request: the next set's keys (in the registry's order), its threshold,
// each key's proof of possession (what admitValidatorKeys needs on every chain), and the BLS
// signature of the current-set member who proposes it. The proposal has its own EIP-712 type,
// so a proposer's signature can never be counted as a vote on the rotation itself or as a verdict.
import { concatHex, hashTypedData, isHex, size, type Hex } from "viem";
import { SentinelError } from "../errors.ts";
import { keysHash, rotationDigest, sentinelDomain } from "./types.ts";

export const ROTATION_PROPOSAL_TYPES = {
  RotationProposal: [
    { name: "setIndex", type: "uint32" },
    { name: "keysHash", type: "bytes32" },
    { name: "threshold", type: "uint16" },
  ],
} as const;

export interface RotationRequest {
  /** The set this rotation creates: the registry's current set index + 1. */
  setIndex: number;
  /** Raw 96-byte keys (x ‖ y), strictly ascending: the order signer bitmaps use. */
  keys: Hex[];
  threshold: number;
  /**
   * EIP-2537 256-byte proofs of possession of the keys the current set does not hold, in the
   * keys' order (none for a removal). The current members' keys were admitted with theirs.
   */
  proofsOfPossession: Hex[];
  /** A current-set member's EIP-2537 signature over rotationProposalDigest. */
  proposer: { validatorIndex: number; signature: Hex };
}

export class RotationCodecError extends SentinelError<"MALFORMED", { field: string }> {
  override name = "RotationCodecError";
}

export function rotationProposalDigest(networkId: Hex, setIndex: number, keysHashValue: Hex, threshold: number): Hex {
  return hashTypedData({
    domain: sentinelDomain(networkId),
    types: ROTATION_PROPOSAL_TYPES,
    primaryType: "RotationProposal",
    message: { setIndex, keysHash: keysHashValue, threshold },
  });
}

/** The digests of a request: what the current set signs (the registry's) and what its proposer signed. */
export function rotationDigests(networkId: Hex, request: Pick<RotationRequest, "setIndex" | "keys" | "threshold">): { keysHash: Hex; rotation: Hex; proposal: Hex } {
  const hash = keysHash(concatHex(request.keys));
  return {
    keysHash: hash,
    rotation: rotationDigest(networkId, request.setIndex, hash, request.threshold),
    proposal: rotationProposalDigest(networkId, request.setIndex, hash, request.threshold),
  };
}

/** Checks the shape of an untrusted request (not its keys or signatures); throws MALFORMED naming the field. */
export function parseRotationRequest(body: unknown): RotationRequest {
  const bad = (field: string, message: string) => new RotationCodecError("MALFORMED", `${field}: ${message}`, { field });
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw bad("body", "must be an object");
  const b = body as Record<string, unknown>;
  const integer = (value: unknown, field: string, max: number) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) throw bad(field, `must be an integer in 0..${max}`);
    return value;
  };
  const hexList = (value: unknown, field: string, bytes: number, min = 1) => {
    if (!Array.isArray(value) || value.length < min || value.length > 218) throw bad(field, `must be a list of ${min}..218 entries`);
    return value.map((item, i) => {
      if (typeof item !== "string" || !isHex(item) || size(item) !== bytes) throw bad(`${field}[${i}]`, `must be ${bytes} bytes of hex`);
      return item.toLowerCase() as Hex;
    });
  };
  const setIndex = integer(b["setIndex"], "setIndex", 2 ** 32 - 1);
  const threshold = integer(b["threshold"], "threshold", 2 ** 16 - 1);
  const keys = hexList(b["keys"], "keys", 96);
  const proofsOfPossession = hexList(b["proofsOfPossession"], "proofsOfPossession", 256, 0);
  const proposer = b["proposer"];
  if (typeof proposer !== "object" || proposer === null) throw bad("proposer", "must be { validatorIndex, signature }");
  const p = proposer as Record<string, unknown>;
  const validatorIndex = integer(p["validatorIndex"], "proposer.validatorIndex", 217);
  if (typeof p["signature"] !== "string" || !isHex(p["signature"]) || size(p["signature"]) !== 256) throw bad("proposer.signature", "must be 256 bytes of hex (EIP-2537)");
  return { setIndex, keys, threshold, proofsOfPossession, proposer: { validatorIndex, signature: p["signature"].toLowerCase() as Hex } };
}
