// Who signed a 32-byte digest: secp256k1 public-key recovery by libsecp256k1 compiled to
// WebAssembly (tiny-secp256k1), under the acceptance rules of viem's recoverAddress.
//
// Why not viem: every node recovers every candidate's proposer at the same moment, and in
// JavaScript that is 4–9 ms of CPU per node, paid 32 times at once on a 32-node machine; here it
// is 0.5–1 ms. Why WebAssembly and not a native binding: a native libsecp256k1 binding crashed
// processes that run the pipeline worker thread (docs/performance.md, session 7); WebAssembly
// has no native code of its own.
//
// Nodes must agree on which signatures are valid (a candidate one node admits and another
// rejects costs the forwarder its score), so this accepts exactly what viem accepts, checked
// differentially in test/unit/recoverSigner.test.ts: a 65-byte r ‖ s ‖ v with r and s in
// [1, n), r the x-coordinate of a curve point, v one of 0, 1, 27, 28. High s is accepted, as
// recovery does; the digest, not the signature, identifies a candidate.
import { recover } from "tiny-secp256k1";
import { bytesToHex, hexToBytes, isHex, type Address, type Hex } from "viem";
import { publicKeyToAddress } from "viem/accounts";

export class SignatureError extends Error {
  override name = "SignatureError";
}

export function recoverSigner(digest: Hex, signature: Hex): Address {
  if (!isHex(digest, { strict: true }) || digest.length !== 66) throw new SignatureError("digest must be 32 bytes of hex");
  if (!isHex(signature, { strict: true }) || signature.length !== 132) {
    throw new SignatureError("signature must be 65 bytes of hex (r, s, v)");
  }
  const bytes = hexToBytes(signature);
  const recoveryId = recoveryIdOf(bytes[64]!);
  let publicKey: Uint8Array | null;
  try {
    publicKey = recover(hexToBytes(digest), bytes.subarray(0, 64), recoveryId, false);
  } catch (error) {
    // tiny-secp256k1 throws for r or s out of range and for an r that is no curve point's x.
    throw new SignatureError(`signature does not recover: ${(error as Error).message}`);
  }
  if (publicKey === null) throw new SignatureError("signature recovers to no public key");
  return publicKeyToAddress(bytesToHex(publicKey));
}

function recoveryIdOf(v: number): 0 | 1 {
  if (v === 0 || v === 27) return 0;
  if (v === 1 || v === 28) return 1;
  throw new SignatureError(`signature's v is ${v}, not one of 0, 1, 27, 28`);
}

