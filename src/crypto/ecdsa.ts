// secp256k1 ECDSA on the node's hot paths, by libsecp256k1 compiled to WebAssembly
// (tiny-secp256k1) instead of viem's JavaScript (noble):
//   - recoverSigner: who signed a candidate. Every node recovers every candidate's proposer at the
//     same moment: 4–9 ms of CPU per node in JavaScript, 0.5–1 here.
//   - localAccount: a viem account whose transaction signatures are made here (the relayer signs
//     one transaction per chain right after each attestation: ~1.1 ms in JavaScript, ~0.45 here).
// Why WebAssembly and not a native binding: a native libsecp256k1 binding crashed processes that
// run the pipeline worker thread (docs/performance.md, session 7); WebAssembly has no native code
// of its own.
//
// Nodes must agree on which signatures are valid (a candidate one node admits and another
// rejects costs the forwarder its score), so recoverSigner accepts exactly what viem's
// recoverAddress accepts, checked differentially in test/unit/ecdsa.test.ts: a 65-byte
// r ‖ s ‖ v with r and s in [1, n), r the x-coordinate of a curve point, v one of 0, 1, 27, 28.
// High s is accepted, as recovery does; the digest, not the signature, identifies a candidate.
// localAccount's signatures are byte for byte viem's (RFC 6979 nonces, low s), checked there too.
import { recover, signRecoverable } from "tiny-secp256k1";
import { bytesToHex, hexToBytes, isHex, keccak256, serializeTransaction, type Address, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount, publicKeyToAddress } from "viem/accounts";
import { SentinelError } from "../errors.ts";

export type SignatureErrorCode =
  /** The digest or signature is not hex of the right length, or v is not a recovery id. */
  | "MALFORMED"
  /** Well-formed, but no public key recovers from it (r or s out of range, r no curve point). */
  | "UNRECOVERABLE";

export class SignatureError extends SentinelError<SignatureErrorCode> {
  override name = "SignatureError";
}

export function recoverSigner(digest: Hex, signature: Hex): Address {
  if (!isHex(digest, { strict: true }) || digest.length !== 66) throw new SignatureError("MALFORMED", "digest must be 32 bytes of hex");
  if (!isHex(signature, { strict: true }) || signature.length !== 132) {
    throw new SignatureError("MALFORMED", "signature must be 65 bytes of hex (r, s, v)");
  }
  const bytes = hexToBytes(signature);
  const recoveryId = recoveryIdOf(bytes[64]!);
  let publicKey: Uint8Array | null;
  try {
    publicKey = recover(hexToBytes(digest), bytes.subarray(0, 64), recoveryId, false);
  } catch (error) {
    // tiny-secp256k1 throws for r or s out of range and for an r that is no curve point's x.
    throw new SignatureError("UNRECOVERABLE", `signature does not recover: ${(error as Error).message}`, {}, { cause: error });
  }
  if (publicKey === null) throw new SignatureError("UNRECOVERABLE", "signature recovers to no public key");
  return publicKeyToAddress(bytesToHex(publicKey));
}

function recoveryIdOf(v: number): 0 | 1 {
  if (v === 0 || v === 27) return 0;
  if (v === 1 || v === 28) return 1;
  throw new SignatureError("MALFORMED", `signature's v is ${v}, not one of 0, 1, 27, 28`);
}

/** viem's local account for `privateKey`, but for transaction signatures, made by libsecp256k1. */
export function localAccount(privateKey: Hex): LocalAccount {
  const account = privateKeyToAccount(privateKey);
  const secret = hexToBytes(privateKey);
  // The same steps as viem's signTransaction: a blob transaction is signed without its sidecars.
  const signTransaction: LocalAccount["signTransaction"] = async (transaction, options) => {
    const serializer = options?.serializer ?? serializeTransaction;
    const signable = transaction.type === "eip4844" ? { ...transaction, sidecars: false } : transaction;
    const hash = keccak256(await serializer(signable));
    const { signature, recoveryId } = signRecoverable(hexToBytes(hash), secret);
    const yParity = recoveryId & 1;
    return serializer(transaction, {
      r: bytesToHex(signature.subarray(0, 32)),
      s: bytesToHex(signature.subarray(32, 64)),
      v: yParity ? 28n : 27n,
      yParity,
    });
  };
  return { ...account, signTransaction };
}
