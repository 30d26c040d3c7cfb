// Deploying a SentinelRegistry and admitting its genesis validator set.
import type { PublicKey, Signature } from "@chainsafe/blst";
import type { Hex } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { signatureToEip2537 } from "../crypto/bls.ts";
import { aggregate, encodeKeys } from "../consensus/validatorSet.ts";
import type { ChainClients } from "./clients.ts";
import { deployContract } from "./deploy.ts";

/**
 * Proofs admitted per transaction. Each costs ~84k gas, so 64 keep a transaction near 5.5M,
 * well under the Osaka per-transaction cap of 2^24 gas.
 */
export const ADMISSION_CHUNK = 64;

export interface GenesisSet {
  /** Sorted public keys (see sortPublicKeys). */
  keys: readonly PublicKey[];
  /** proofs[i] proves possession of keys[i]. */
  proofs: readonly Signature[];
  threshold: number;
}

export interface RegistryDeployment {
  address: Hex;
  /** Gas of each proof-of-possession admission transaction. */
  admissionGasUsed: bigint[];
}

export async function deployRegistry(
  chain: ChainClients,
  options: { networkId: Hex; rotationGracePeriodSeconds: bigint; genesis: GenesisSet },
): Promise<RegistryDeployment> {
  const { genesis } = options;
  const address = await deployContract(chain.wallet, chain.client, SentinelRegistry, [
    options.networkId,
    options.rotationGracePeriodSeconds,
    encodeKeys(genesis.keys),
    genesis.threshold,
  ]);
  const admissionGasUsed: bigint[] = [];
  for (let from = 0; from < genesis.keys.length; from += ADMISSION_CHUNK) {
    const proofs = genesis.proofs.slice(from, from + ADMISSION_CHUNK);
    const hash = await chain.wallet.writeContract({
      address,
      abi: SentinelRegistry.abi,
      functionName: "admitValidatorKeys",
      args: [BigInt(proofs.length), signatureToEip2537(aggregate(proofs))],
    });
    const receipt = await chain.client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`admitting keys ${from}.. reverted (tx ${hash})`);
    admissionGasUsed.push(receipt.gasUsed);
  }
  return { address, admissionGasUsed };
}
