// BLS12-381 keys and signatures (native blst), and their conversion to the EIP-2537 byte
// encoding the registry contracts read. blst serialises uncompressed points the ZCash way:
// G1 = x || y (48 bytes each); G2 = x.c1 || x.c0 || y.c1 || y.c0. EIP-2537 pads every Fp
// element to 64 bytes and orders Fp2 elements c0 then c1.
import { randomBytes } from "node:crypto";
import { PublicKey, SecretKey, Signature } from "@chainsafe/blst";
import { bytesToHex, hexToBytes, type Hex } from "viem";
import { SentinelError } from "../errors.ts";

export { PublicKey, SecretKey, Signature };

/** Ethereum's proof-of-possession ciphersuite, the DST blst signs with. */
export const SIGNATURE_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

const FP_LENGTH = 48;
const FP_PADDED_LENGTH = 64;
export const G1_RAW_LENGTH = 2 * FP_LENGTH;
export const G2_RAW_LENGTH = 4 * FP_LENGTH;
export const G1_EIP2537_LENGTH = 2 * FP_PADDED_LENGTH;
export const G2_EIP2537_LENGTH = 4 * FP_PADDED_LENGTH;

/** Where each 48-byte Fp element of a blst G2 point goes in the EIP-2537 encoding. */
const G2_FP_ORDER = [1, 0, 3, 2] as const;

export type EncodingErrorCode =
  /** A point encoding of the wrong length. */
  | "WRONG_LENGTH"
  /** An EIP-2537 field element whose 16 padding bytes are not zero: refused, not dropped. */
  | "NON_ZERO_PADDING";

export class EncodingError extends SentinelError<EncodingErrorCode> {
  override name = "EncodingError";
}

/** A fresh secret key from 32 bytes of OS randomness (or the given key material, ≥ 32 bytes). */
export function generateSecretKey(ikm: Uint8Array = randomBytes(32)): SecretKey {
  return SecretKey.fromKeygen(ikm);
}

/** Uncompressed 96-byte x || y of a public key, as stored in the registry's key blob. */
export function publicKeyRaw(pk: PublicKey): Uint8Array {
  return pk.toBytes(false);
}

export function g1RawToEip2537(raw: Uint8Array): Hex {
  if (raw.length !== G1_RAW_LENGTH) throw new EncodingError("WRONG_LENGTH", `G1 point must be ${G1_RAW_LENGTH} bytes, got ${raw.length}`);
  return bytesToHex(padFpElements(raw, [0, 1]));
}

export function g2RawToEip2537(raw: Uint8Array): Hex {
  if (raw.length !== G2_RAW_LENGTH) throw new EncodingError("WRONG_LENGTH", `G2 point must be ${G2_RAW_LENGTH} bytes, got ${raw.length}`);
  return bytesToHex(padFpElements(raw, G2_FP_ORDER));
}

export function publicKeyToEip2537(pk: PublicKey): Hex {
  return g1RawToEip2537(pk.toBytes(false));
}

export function signatureToEip2537(sig: Signature): Hex {
  return g2RawToEip2537(sig.toBytes(false));
}

/** Inverse of signatureToEip2537; refuses non-zero padding instead of dropping it. */
export function signatureFromEip2537(encoded: Hex): Signature {
  const bytes = hexToBytes(encoded);
  if (bytes.length !== G2_EIP2537_LENGTH) {
    throw new EncodingError("WRONG_LENGTH", `G2 point must be ${G2_EIP2537_LENGTH} bytes, got ${bytes.length}`);
  }
  const raw = new Uint8Array(G2_RAW_LENGTH);
  G2_FP_ORDER.forEach((source, target) => raw.set(unpadFp(bytes, source), target * FP_LENGTH));
  return Signature.fromBytes(raw, true);
}

function padFpElements(raw: Uint8Array, order: readonly number[]): Uint8Array {
  const out = new Uint8Array(order.length * FP_PADDED_LENGTH);
  order.forEach((source, target) => {
    const element = raw.subarray(source * FP_LENGTH, (source + 1) * FP_LENGTH);
    out.set(element, target * FP_PADDED_LENGTH + (FP_PADDED_LENGTH - FP_LENGTH));
  });
  return out;
}

function unpadFp(encoded: Uint8Array, index: number): Uint8Array {
  const start = index * FP_PADDED_LENGTH;
  const padding = encoded.subarray(start, start + FP_PADDED_LENGTH - FP_LENGTH);
  if (padding.some((byte) => byte !== 0)) throw new EncodingError("NON_ZERO_PADDING", `Fp element ${index} has non-zero padding`);
  return encoded.subarray(start + FP_PADDED_LENGTH - FP_LENGTH, start + FP_PADDED_LENGTH);
}
