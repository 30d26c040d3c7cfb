// Moving a validator to another machine without ever signing two verdicts for one candidate
// (or voting for two rotations to one set index):
// the old machine's signing record goes along, in the spirit of EIP-3076's interchange format
// (metadata naming the network, then each key's signed messages). Ethereum validators keep
// slashing-protection minima (a highest slot, a source/target epoch pair) because their duties
// are ordered; a Sentinel verdict is keyed by candidate, with no order to take a maximum of, so
// the interchange carries every (candidate, digest) pair and a merge keeps each one exactly.
// A pair that contradicts the local record is not merged: either side's digest left in place
// would let the other be signed again, and the key has then already signed both.
import { isHex, type Hex } from "viem";
import { SentinelError } from "../errors.ts";
import type { SignedRotationEntry, SignedVerdictEntry } from "./signingRecord.ts";

export const INTERCHANGE_FORMAT_VERSION = "sentinel-signing-record/1";

export interface SigningInterchange {
  metadata: { interchange_format_version: typeof INTERCHANGE_FORMAT_VERSION; network_id: Hex };
  data: {
    pubkey: Hex;
    signed_verdicts: { candidate_id: Hex; digest: Hex; signed_at: string }[];
    /** The rotations this key voted for (absent: none). */
    signed_rotations?: { set_index: number; digest: Hex; signed_at: string }[];
  }[];
}

export interface KeyRecord {
  verdicts: SignedVerdictEntry[];
  rotations: SignedRotationEntry[];
}

export type SigningInterchangeErrorCode = "INTERCHANGE_INVALID" | "WRONG_NETWORK" | "WRONG_KEY" | "CONFLICT";

export interface InterchangeConflict {
  candidateId: Hex;
  localDigest: Hex;
  importedDigest: Hex;
}

export class SigningInterchangeError extends SentinelError<SigningInterchangeErrorCode, { conflicts?: InterchangeConflict[] }> {
  override name = "SigningInterchangeError";
}

/** The interchange document of one key's signing record. */
export function toInterchange(networkId: Hex, pubkey: Hex, record: KeyRecord): SigningInterchange {
  return {
    metadata: { interchange_format_version: INTERCHANGE_FORMAT_VERSION, network_id: networkId },
    data: [
      {
        pubkey,
        signed_verdicts: record.verdicts.map((e) => ({ candidate_id: e.candidateId, digest: e.digest, signed_at: e.signedAt })),
        signed_rotations: record.rotations.map((r) => ({ set_index: r.setIndex, digest: r.digest, signed_at: r.signedAt })),
      },
    ],
  };
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/**
 * Checks an untrusted interchange document and returns the entries of `pubkey` on `networkId`.
 * Refuses (never skips) whatever could hide a signed message: another network, a malformed
 * entry, no entry for this key, or two digests for one candidate inside the file itself.
 */
export function entriesForKey(document: unknown, networkId: Hex, pubkey: Hex): KeyRecord {
  const invalid = (reason: string) => new SigningInterchangeError("INTERCHANGE_INVALID", `not a Sentinel signing record: ${reason}`);
  if (!isObject(document) || !isObject(document["metadata"]) || !Array.isArray(document["data"])) throw invalid("expected { metadata, data: [] }");
  const metadata = document["metadata"];
  if (metadata["interchange_format_version"] !== INTERCHANGE_FORMAT_VERSION) {
    throw invalid(`metadata.interchange_format_version must be "${INTERCHANGE_FORMAT_VERSION}"`);
  }
  const fileNetwork = metadata["network_id"];
  if (typeof fileNetwork !== "string" || !BYTES32.test(fileNetwork)) throw invalid("metadata.network_id must be 32 bytes of hex");
  if (fileNetwork.toLowerCase() !== networkId.toLowerCase()) {
    throw new SigningInterchangeError("WRONG_NETWORK", `the record is for network ${fileNetwork}, this node is on ${networkId}`);
  }
  const byCandidate = new Map<Hex, SignedVerdictEntry>();
  const bySetIndex = new Map<number, SignedRotationEntry>();
  let found = false;
  for (const [i, item] of (document["data"] as unknown[]).entries()) {
    if (!isObject(item) || typeof item["pubkey"] !== "string" || !isHex(item["pubkey"]) || !Array.isArray(item["signed_verdicts"])) {
      throw invalid(`data[${i}] must be { pubkey: 0x…, signed_verdicts: [] }`);
    }
    if (item["pubkey"].toLowerCase() !== pubkey.toLowerCase()) continue;
    found = true;
    for (const [j, verdict] of (item["signed_verdicts"] as unknown[]).entries()) {
      const where = `data[${i}].signed_verdicts[${j}]`;
      if (!isObject(verdict)) throw invalid(`${where} must be an object`);
      const { candidate_id: candidateId, digest, signed_at: signedAt } = verdict;
      if (typeof candidateId !== "string" || !BYTES32.test(candidateId)) throw invalid(`${where}.candidate_id must be 32 bytes of hex`);
      if (typeof digest !== "string" || !BYTES32.test(digest)) throw invalid(`${where}.digest must be 32 bytes of hex`);
      if (typeof signedAt !== "string" || Number.isNaN(Date.parse(signedAt))) throw invalid(`${where}.signed_at must be an ISO date`);
      const entry = { candidateId: candidateId.toLowerCase() as Hex, digest: digest.toLowerCase() as Hex, signedAt };
      const seen = byCandidate.get(entry.candidateId);
      if (seen && seen.digest !== entry.digest) {
        throw new SigningInterchangeError("CONFLICT", `the record itself holds two digests for candidate ${entry.candidateId}: this key has signed both`, {
          conflicts: [{ candidateId: entry.candidateId, localDigest: seen.digest, importedDigest: entry.digest }],
        });
      }
      if (!seen || entry.signedAt < seen.signedAt) byCandidate.set(entry.candidateId, entry);
    }
    const rotations = item["signed_rotations"] ?? [];
    if (!Array.isArray(rotations)) throw invalid(`data[${i}].signed_rotations must be a list`);
    for (const [j, rotation] of (rotations as unknown[]).entries()) {
      const where = `data[${i}].signed_rotations[${j}]`;
      if (!isObject(rotation)) throw invalid(`${where} must be an object`);
      const { set_index: setIndex, digest, signed_at: signedAt } = rotation;
      if (typeof setIndex !== "number" || !Number.isInteger(setIndex) || setIndex < 1 || setIndex >= 2 ** 32) throw invalid(`${where}.set_index must be an integer in 1..2^32-1`);
      if (typeof digest !== "string" || !BYTES32.test(digest)) throw invalid(`${where}.digest must be 32 bytes of hex`);
      if (typeof signedAt !== "string" || Number.isNaN(Date.parse(signedAt))) throw invalid(`${where}.signed_at must be an ISO date`);
      const entry = { setIndex, digest: digest.toLowerCase() as Hex, signedAt };
      const seen = bySetIndex.get(setIndex);
      if (seen && seen.digest !== entry.digest) {
        throw new SigningInterchangeError("CONFLICT", `the record itself holds two rotations for set ${setIndex}: this key has signed both`, {
          conflicts: [{ candidateId: `rotation:${setIndex}` as Hex, localDigest: seen.digest, importedDigest: entry.digest }],
        });
      }
      if (!seen || entry.signedAt < seen.signedAt) bySetIndex.set(setIndex, entry);
    }
  }
  if (!found) throw new SigningInterchangeError("WRONG_KEY", `the record holds no entry for this node's key ${pubkey}`);
  return { verdicts: [...byCandidate.values()], rotations: [...bySetIndex.values()] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
