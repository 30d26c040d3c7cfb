import { connectChain, type ChainClients } from "../../src/chains/clients.ts";
import { deployContract, type Artifact } from "../../src/chains/deploy.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { startAnvil, type AnvilInstance } from "../../src/verify/shadow/anvil.ts";
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

/** Moves the chain's clock forward and mines a block, so the next call sees the new time. */
export async function increaseTime(chain: TestChain, seconds: number): Promise<void> {
  await rpc(chain.anvil.rpcUrl, "evm_increaseTime", [seconds]);
  await rpc(chain.anvil.rpcUrl, "evm_mine", []);
}

export async function latestTimestamp(chain: TestChain): Promise<bigint> {
  return (await chain.client.getBlock()).timestamp;
}

/** A raw JSON-RPC call (anvil's own methods, which viem's public client does not type). */
export async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}
