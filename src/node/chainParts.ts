// The per-chain parts of a node, built from one `chains[]` entry of its config: clients, the
// registry reader, the enrollment index and (with a relayer key) the relayer. Part of the
// composition root: it builds, it decides nothing.
import type { Logger } from "pino";
import type { Hex, PublicClient } from "viem";
import { ChainHealth } from "../chains/chainHealth.ts";
import { connectChain } from "../chains/clients.ts";
import { EnrollmentIndex } from "../chains/enrollmentIndex.ts";
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
  client: PublicClient;
  reader: RegistryReader;
  enrollments: EnrollmentIndex;
  relayer: ChainRelayer | undefined;
  health: ChainHealth;
}

export function buildChainParts(chain: ChainConfig, relayerKey: Hex | undefined, log: Logger, clock: Clock): ChainParts {
  // Without a relayer key the clients still read; a throwaway key is never used to send.
  const clients = connectChain(chain.chainId, chain.rpcUrl, relayerKey ?? `0x${"11".repeat(32)}`);
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
  return { ...chain, client: clients.client, reader, enrollments, relayer, health };
}
