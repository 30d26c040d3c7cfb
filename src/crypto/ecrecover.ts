// Who signed a 32-byte digest: the Ethereum address of the secp256k1 key behind a 65-byte
// r ‖ s ‖ v signature. Every node recovers every candidate's proposer at the same moment, on the
// gossip path, before it forwards the candidate: viem's JavaScript recovery took 5.5 ms of CPU
// here, bitcoin-core's libsecp256k1 (the prebuilt binding the `secp256k1` package ships) 0.1 ms.
// Where that binding does not load (a platform without a prebuilt), viem's recovery is used; both
// accept and refuse the same signatures (test/unit/ecrecover.test.ts).
import { createRequire } from "node:module";
import { getAddress, hexToBytes, keccak256, recoverAddress, type Address, type Hex } from "viem";

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

export const ecrecoverBackend: "libsecp256k1" | "viem" = libsecp256k1 ? "libsecp256k1" : "viem";

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
