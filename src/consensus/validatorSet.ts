// Pure helpers for a validator set: the canonical key order (the registry requires strictly
// ascending raw keys, and signer bitmaps index into that order), thresholds, bitmaps and
// proofs of possession.
import { aggregateSignatures, type PublicKey, type SecretKey, type Signature } from "@chainsafe/blst";
import { bytesToHex, concatHex, hexToBytes, type Hex } from "viem";
import { proofOfPossessionDigest } from "../codec/types.ts";
import { publicKeyRaw } from "../crypto/bls.ts";

/** EIP-170 code size bounds a set stored as contract code (see ValidatorKeys.sol). */
export const MAX_VALIDATORS = 218;

/** A validator set's members as signing needs them: index, keys in bitmap order, threshold. */
export interface ValidatorSetView {
  index: number;
  keys: readonly PublicKey[];
  threshold: number;
}

/** ⌊2n/3⌋ + 1, the registry's default and minimum threshold. */
export function minimumThreshold(size: number): number {
  return Math.floor((2 * size) / 3) + 1;
}

/** Keys in the registry's order: ascending by their 96 raw bytes. */
export function sortPublicKeys(keys: readonly PublicKey[]): PublicKey[] {
  return [...keys].sort((a, b) => Buffer.compare(publicKeyRaw(a), publicKeyRaw(b)));
}

/** The keys blob a rotation or genesis carries: raw keys concatenated, in the given order. */
export function encodeKeys(keys: readonly PublicKey[]): Hex {
  return concatHex(keys.map((key) => bytesToHex(publicKeyRaw(key))));
}

export function signerBitmap(indices: Iterable<number>): bigint {
  let bitmap = 0n;
  for (const index of indices) bitmap |= 1n << BigInt(index);
  return bitmap;
}

export function signerIndices(bitmap: bigint): number[] {
  const indices: number[] = [];
  for (let i = 0; bitmap >> BigInt(i) !== 0n; i++) if ((bitmap >> BigInt(i)) & 1n) indices.push(i);
  return indices;
}

/** A signature by `secretKey` over the EIP-712 ProofOfPossession digest of its own key. */
export function signProofOfPossession(secretKey: SecretKey, networkId: Hex): Signature {
  const raw = bytesToHex(publicKeyRaw(secretKey.toPublicKey()));
  return secretKey.sign(hexToBytes(proofOfPossessionDigest(networkId, raw)));
}

/** The sum of `signatures`, each subgroup-checked unless the caller verified them already. */
export function aggregate(signatures: readonly Signature[], { groupCheck = true } = {}): Signature {
  return aggregateSignatures([...signatures], groupCheck);
}
