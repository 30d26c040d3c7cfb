// Submitting a rotation the current set signed to one registry: proposeValidatorSet with the
// aggregate signature, then admitValidatorKeys with the next set's proofs of possession, in
// chunks, until the set activates. Each step is skipped when the chain already took it, so
// running it again after a failure on one chain finishes the job there without reverting.
import type { Signature } from "@chainsafe/blst";
import type { Hex } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { signatureToEip2537 } from "../crypto/bls.ts";
import { aggregate } from "../consensus/validatorSet.ts";
import type { ChainClients } from "./clients.ts";
import { ADMISSION_CHUNK } from "./registry.ts";

export interface SignedRotation {
  setIndex: number;
  /** The next set's raw keys, concatenated in the registry's order. */
  keysBlob: Hex;
  keysHash: Hex;
  threshold: number;
  signers: bigint;
  /** EIP-2537 aggregate signature of the current set over the rotation digest. */
  signature: Hex;
  /** proofs[i] proves possession of the i-th key of keysBlob. */
  proofs: readonly Signature[];
}

export interface RotationReceipt {
  chainId: number;
  /** "activated" once every key is admitted; "already active" when the chain had done it before. */
  result: "activated" | "already active";
  transactions: Hex[];
}

export async function submitRotation(chain: ChainClients, registry: Hex, rotation: SignedRotation): Promise<RotationReceipt> {
  const read = <T>(functionName: string, args: unknown[] = []) =>
    chain.client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName, args } as never) as Promise<T>;
  const transactions: Hex[] = [];
  const send = async (functionName: "proposeValidatorSet" | "admitValidatorKeys", args: readonly unknown[]) => {
    const hash = await chain.wallet.writeContract({ address: registry, abi: SentinelRegistry.abi, functionName, args } as never);
    const receipt = await chain.client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${functionName} reverted on chain ${chain.chain.id} (tx ${hash})`);
    transactions.push(hash);
  };
  const current = await read<number>("currentSetIndex");
  if (current >= rotation.setIndex) return { chainId: chain.chain.id, result: "already active", transactions };
  let pending = await read<{ keys: Hex; index: number; keysHash: Hex; threshold: number; admitted: number; size: number }>("pendingValidatorSet");
  const proposed = BigInt(pending.keys) !== 0n && pending.index === rotation.setIndex && pending.keysHash === rotation.keysHash && pending.threshold === rotation.threshold;
  if (!proposed) {
    await send("proposeValidatorSet", [rotation.keysBlob, rotation.threshold, rotation.signers, rotation.signature]);
    pending = await read("pendingValidatorSet");
  }
  for (let from = pending.admitted; from < rotation.proofs.length; from += ADMISSION_CHUNK) {
    const proofs = rotation.proofs.slice(from, from + ADMISSION_CHUNK);
    await send("admitValidatorKeys", [BigInt(proofs.length), signatureToEip2537(aggregate(proofs))]);
  }
  return { chainId: chain.chain.id, result: "activated", transactions };
}
