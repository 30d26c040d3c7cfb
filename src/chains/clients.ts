import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { localAccount } from "../crypto/ecdsa.ts";

export interface ChainClients {
  chain: Chain;
  client: PublicClient<Transport, Chain>;
  wallet: WalletClient<Transport, Chain, Account>;
}

export function localChain(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

/**
 * viem clients for one chain, sending from `privateKey`. Polls fast: local chains mine at once.
 * Transport retries are off: a revert must surface at once, and the relayer owns its own
 * retry-with-backoff policy for RPC failures.
 */
export function connectChain(chainId: number, rpcUrl: string, privateKey: Hex): ChainClients {
  const chain = localChain(chainId, rpcUrl);
  return {
    chain,
    client: chainReader(chainId, rpcUrl),
    wallet: createWalletClient({ chain, transport: http(rpcUrl, { retryCount: 0 }), account: localAccount(privateKey), pollingInterval: 50 }),
  };
}

/**
 * connectChain's read side alone, for code that never sends (the verification worker).
 * `timeoutMs` bounds each request (viem's default: 10 s).
 */
export function chainReader(chainId: number, rpcUrl: string, options: { timeoutMs?: number } = {}): PublicClient<Transport, Chain> {
  const transport = http(rpcUrl, { retryCount: 0, ...(options.timeoutMs !== undefined && { timeout: options.timeoutMs }) });
  return createPublicClient({ chain: localChain(chainId, rpcUrl), transport, pollingInterval: 50 });
}
