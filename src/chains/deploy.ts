import type { Abi, Account, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { encodeDeployData } from "viem";
import { SentinelError } from "../errors.ts";

export interface Artifact<TAbi extends Abi = Abi> {
  abi: TAbi;
  bytecode: Hex;
}

export class DeploymentError extends SentinelError<"DEPLOYMENT_REVERTED", { txHash: Hex }> {
  override name = "DeploymentError";
}

/** Deploys a compiled contract and waits for its receipt; returns the new address. */
export async function deployContract(
  wallet: WalletClient<Transport, Chain, Account>,
  client: PublicClient,
  artifact: Artifact,
  args: readonly unknown[] = [],
): Promise<Hex> {
  const hash = await wallet.sendTransaction({
    data: encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args }),
  });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !receipt.contractAddress) {
    throw new DeploymentError("DEPLOYMENT_REVERTED", `deployment reverted (tx ${hash})`, { txHash: hash });
  }
  return receipt.contractAddress;
}
