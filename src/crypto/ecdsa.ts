// secp256k1 ECDSA on the consensus path, with bitcoin-core's libsecp256k1 (the prebuilt binding
// the `secp256k1` package ships) where it loads, and viem's JavaScript otherwise. Both produce
// and accept the same bytes (test/unit/ecdsa.test.ts); only the cost differs, and it is paid at
// the worst moment:
// - every node recovers every candidate's proposer at the same moment, before it forwards the
//   candidate: 5.5 ms of CPU in JavaScript here, 0.1 ms in libsecp256k1;
// - the primary relayer signs one transaction per chain while every node takes in the
//   attestation: viem's RFC 6979 nonce (HMAC-SHA-256 in JavaScript) made that most of its
//   preparation in a CPU profile at 32 nodes.
import { createRequire } from "node:module";
import {
  bytesToHex,
  getAddress,
  hexToBytes,
  keccak256,
  recoverAddress,
  serializeTransaction,
  type Address,
  type Hex,
  type LocalAccount,
  type Signature,
} from "viem";
import { privateKeyToAccount, toAccount } from "viem/accounts";

type Libsecp256k1 = typeof import("secp256k1");

function loadLibsecp256k1(): Libsecp256k1 | undefined {
  try {
    // The binding itself, not the package's entry point, which falls back to pure-JS elliptic.
    return createRequire(import.meta.url)("secp256k1/bindings.js") as Libsecp256k1;
  } catch {
    return undefined;
  }
}

const libsecp256k1 = loadLibsecp256k1();

export const ecdsaBackend: "libsecp256k1" | "viem" = libsecp256k1 ? "libsecp256k1" : "viem";

export class SignatureRecoveryError extends Error {
  override name = "SignatureRecoveryError";
}

/**
 * The signer of `digest`. v may be 27/28 or 0/1, as viem accepts; high s is accepted, as ecrecover
 * does. Throws SignatureRecoveryError for a signature that recovers no key.
 */
export function recoverSigner(digest: Hex, signature: Hex): Promise<Address> {
  return libsecp256k1 ? Promise.resolve(recoverWithLibsecp256k1(digest, signature)) : recoverWithViem(digest, signature);
}

/** Exported for the differential test; use recoverSigner. */
export function recoverWithLibsecp256k1(digest: Hex, signature: Hex): Address {
  const lib = libsecp256k1;
  if (!lib) throw new SignatureRecoveryError("libsecp256k1 is not available on this platform");
  const bytes = hexToBytes(signature);
  if (bytes.length !== 65) throw new SignatureRecoveryError(`signature is ${bytes.length} bytes, not 65`);
  const v = bytes[64]!;
  const recoveryBit = v === 27 || v === 28 ? v - 27 : v === 0 || v === 1 ? v : undefined;
  if (recoveryBit === undefined) throw new SignatureRecoveryError(`v is ${v}, not 27, 28, 0 or 1`);
  let publicKey: Uint8Array;
  try {
    publicKey = lib.ecdsaRecover(bytes.subarray(0, 64), recoveryBit, hexToBytes(digest), false);
  } catch (error) {
    throw new SignatureRecoveryError(`signature recovers no key: ${(error as Error).message}`);
  }
  return getAddress(`0x${keccak256(publicKey.subarray(1)).slice(26)}`);
}

/** Exported for the differential test; use recoverSigner. */
export async function recoverWithViem(digest: Hex, signature: Hex): Promise<Address> {
  try {
    return await recoverAddress({ hash: digest, signature });
  } catch (error) {
    throw new SignatureRecoveryError(`signature recovers no key: ${(error as Error).message.split("\n")[0]}`);
  }
}

/**
 * viem's privateKeyToAccount, but its transactions are signed by libsecp256k1 when it loads
 * (messages and typed data, off the hot path, stay with viem). Both use RFC 6979 nonces and low s, so the signatures are byte for byte the same.
 */
export function signingAccount(privateKey: Hex): LocalAccount {
  const account = privateKeyToAccount(privateKey);
  const lib = libsecp256k1;
  if (!lib) return account;
  const key = hexToBytes(privateKey);
  const signHash = (hash: Hex): Signature => {
    const { signature, recid } = lib.ecdsaSign(hexToBytes(hash), key);
    return { r: bytesToHex(signature.subarray(0, 32)), s: bytesToHex(signature.subarray(32)), yParity: recid, v: recid === 1 ? 28n : 27n };
  };
  return toAccount({
    ...account,
    async signTransaction(transaction, { serializer = serializeTransaction } = {}) {
      // As viem signs: a blob transaction's hash excludes its sidecars.
      const signable = transaction.type === "eip4844" ? { ...transaction, sidecars: false as const } : transaction;
      return serializer(transaction, signHash(keccak256(await serializer(signable))));
    },
  });
}
