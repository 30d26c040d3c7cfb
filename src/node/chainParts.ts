// The per-chain parts of a node, built from one `chains[]` entry of its config: clients, the
// registry reader, the enrollment index and (with a relayer key) the relayer. Part of the
// composition root: it builds, it decides nothing.
import type { Logger } from "pino";
import type { Hex, PublicClient } from "viem";
import { ChainHealth } from "../chains/chainHealth.ts";
import { connectChain } from "../chains/clients.ts";
import { EnrollmentIndex } from "../chains/enrollmentIndex.ts";
import { openChainEndpoint, type RpcQuorum } from "../chains/rpcQuorum.ts";
import { RegistryReader } from "../chains/registryReader.ts";
import { ChainRelayer, RELAYER_DEFAULTS } from "../chains/relayer.ts";
import type { ChainConfig } from "../config/schema.ts";
import type { Clock } from "../util/clock.ts";

/** The relayer's tuning for a node: a relayer of rank r waits r steps, time for the primary to land it. */
const RELAYER_TUNING = {
  fallbackStepMs: 1_500,
  /** RPC failures get this many attempts within one dispatch; the durable relay dispatches again after. */
  maxAttempts: 5,
  backoffMs: { initial: 250, max: 5_000 },
  /** A fast local chain mines at once; a slow one just costs a few more polls. */
  receiptPollMs: 50,
} as const;

export interface ChainParts extends ChainConfig {
  /** What every part of the node reads the chain through: the one endpoint, or the quorum's loopback URL. */
  rpcUrl: string;
  /** With several endpoints, the quorum they are read through; stopped with the node. */
  quorum: RpcQuorum | undefined;
  client: PublicClient;
  reader: RegistryReader;
  enrollments: EnrollmentIndex;
  relayer: ChainRelayer | undefined;
  health: ChainHealth;
}

export async function buildChainParts(chain: ChainConfig, relayerKey: Hex | undefined, log: Logger, clock: Clock): Promise<ChainParts> {
  const { url: rpcUrl, quorum } = await openChainEndpoint(chain, log);
  // Without a relayer key the clients still read; a throwaway key is never used to send.
  const clients = connectChain(chain.chainId, rpcUrl, relayerKey ?? `0x${"11".repeat(32)}`);
  const reader = new RegistryReader({ chainId: chain.chainId, registry: chain.registry }, { client: clients.client });
  const health = new ChainHealth({ chainId: chain.chainId }, { logger: log.child({ module: "chains" }), clock });
  // The index polls every chain every second: its polls are the chain's health.
  const enrollments = new EnrollmentIndex(
    { confirmations: chain.confirmations },
    {
      client: clients.client,
      reader,
      logger: log.child({ module: "enrollments", chainId: chain.chainId }),
      onPoll: (error) => (error === undefined ? health.up() : health.down(error)),
    },
  );
  const relayer = relayerKey
    ? new ChainRelayer(
        { ...RELAYER_DEFAULTS, ...RELAYER_TUNING, chainId: chain.chainId, registry: chain.registry },
        { client: clients.client, wallet: clients.wallet, logger: log.child({ module: "relayer", chainId: chain.chainId }) },
      )
    : undefined;
  return { ...chain, rpcUrl, quorum, client: clients.client, reader, enrollments, relayer, health };
}
