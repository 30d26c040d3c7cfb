import { connectChain, type ChainClients } from "../../src/chains/clients.ts";
import { deployContract, type Artifact } from "../../src/chains/deploy.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { startAnvil, type AnvilInstance } from "../../src/devnet/anvil.ts";
import type { Hex } from "viem";

export interface TestChain extends ChainClients {
  anvil: AnvilInstance;
  deploy(artifact: Artifact, args?: readonly unknown[]): Promise<Hex>;
  stop(): Promise<void>;
}

/** A real anvil chain on a free loopback port, with clients for its first dev account. */
export async function startTestChain(chainId = 31337): Promise<TestChain> {
  const anvil = await startAnvil({ chainId });
  const clients = connectChain(chainId, anvil.rpcUrl, ANVIL_DEV_KEYS[0]!);
  return {
    ...clients,
    anvil,
    deploy: (artifact, args = []) => deployContract(clients.wallet, clients.client, artifact, args),
    stop: () => anvil.stop(),
  };
}
