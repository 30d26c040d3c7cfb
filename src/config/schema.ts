// The node config: the typed, validated shape the rest of the node receives, and the defaults
// of every optional field. Arrays are fresh per parse (never the defaults below), so they are
// typed mutable to pass straight into the parts' options. The file format is documented in config/README.md; keep the two
// in step.
import type { Address, Hex } from "viem";

/** pino's level names ("silent" turns logging off). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface P2pConfig {
  /** Multiaddrs the libp2p host listens on; at least one. */
  readonly listen: string[];
  /** Peers dialled at start; each ends in /p2p/<peerId> so the connection is authenticated. */
  readonly bootstrap: string[];
}

export interface ApiConfig {
  readonly host: string;
  /** 0 lets the OS pick a free port (tests). */
  readonly port: number;
  /** Each client address's budget of refused requests; false: none (behind a proxy that limits clients itself). */
  readonly refusalBudget: { readonly refusals: number; readonly perSeconds: number } | false;
}

export interface ValidatorConfig {
  /** Absolute path of the EIP-2335 keystore holding the BLS key. */
  readonly keystore: string;
  /** Absolute path of a file holding the keystore password. */
  readonly passwordFile?: string;
  /** Environment variable holding the keystore password. */
  readonly passwordEnv?: string;
  /**
   * Absolute path of the operator's rotation approvals, `{add: [key…], remove: [key…]}` (raw
   * 96-byte keys), read at each vote. No file, or a key not in it: the node votes for no change.
   */
  readonly rotationApprovals?: string;
}

export type RelayerConfig =
  | {
      readonly enabled: true;
      /** Absolute path of a file holding a 0x-prefixed 32-byte secp256k1 key that pays relay gas. */
      readonly privateKeyFile: string;
    }
  | { readonly enabled: false; readonly privateKeyFile?: string };

export interface ChainConfig {
  readonly chainId: number;
  /**
   * The chain's JSON-RPC endpoints (config: `rpcUrl` for one, `rpcUrls` for several). With
   * several, every read goes through a quorum of them (chains/rpcQuorum.ts).
   */
  readonly rpcUrls: readonly string[];
  /** How many endpoints must give the same answer; default a majority. */
  readonly rpcQuorum: number;
  /** The SentinelRegistry on this chain, checksummed. */
  readonly registry: Address;
  /** Blocks to wait after an event or a relay transaction before treating it as final. */
  readonly confirmations: number;
}

export interface NodeConfig {
  /** The node's name in its logs and status: letters, digits, `.`, `_`, `-`; default the config file's directory name. */
  readonly name: string;
  /** The Sentinel network (the EIP-712 salt of every signed message), lower-case hex. */
  readonly networkId: Hex;
  /** Absolute path of the node's database and state. */
  readonly dataDir: string;
  readonly p2p: P2pConfig;
  readonly api: ApiConfig;
  readonly validator: ValidatorConfig;
  readonly relayer: RelayerConfig;
  /** At least one; chain ids are unique. */
  readonly chains: ChainConfig[];
  readonly logLevel: LogLevel;
  readonly verification: VerificationConfig;
  readonly monitoring: MonitoringConfig;
  readonly notifications: NotificationsConfig;
}

/** Where the node pushes its events (docs/notifications.md). */
export interface NotificationsConfig {
  readonly webhooks: WebhookConfig[];
}

export interface WebhookConfig {
  /** Names the webhook in logs, metrics and its outbox keys (the URL is never logged). */
  readonly name: string;
  /** http:// or https://; redirects are not followed. */
  readonly url: string;
  /** Absolute path of a file holding the signing secret. */
  readonly secretFile?: string;
  /** Environment variable holding the signing secret. */
  readonly secretEnv?: string;
  /** Event types delivered (src/events/eventLog.ts EVENT_TYPES). */
  readonly events: string[];
  /** Only events about these contracts; absent: every event of the types. */
  readonly targets?: { chainId: number; address: Address }[];
}

export const MAX_WEBHOOKS = 16;
export const MAX_WEBHOOK_TARGETS = 256;

/** Continuous monitoring of approved code (docs/monitoring.md). */
export interface MonitoringConfig {
  /** How often each chain is asked for a new block, in ms. */
  readonly pollMs: number;
  /** Blocks an invariant must hold in a row before a new break is a new episode (and alert). */
  readonly cooldownBlocks: number;
}

export const DEFAULT_MONITORING: MonitoringConfig = { pollMs: 250, cooldownBlocks: 10 };

export interface VerificationConfig {
  /**
   * Compiled outputs by input hash (default <dataDir>/compile-cache). Nodes on one machine may
   * share one: entries are keyed by compiler version and exact input, and written atomically.
   */
  readonly compileCacheDir: string;
}

export const DEFAULT_LISTEN: readonly string[] = ["/ip4/0.0.0.0/tcp/9000"];
/** A first node has no one to bootstrap from. */
export const DEFAULT_BOOTSTRAP: readonly string[] = [];
/** Loopback: the API is for the operator and the local pipeline unless exposed on purpose. */
export const DEFAULT_API_HOST = "127.0.0.1";
export const DEFAULT_API_PORT = 7400;
/** 60 refused requests, refilled over a minute: far above what a client that means well is refused. */
export const DEFAULT_REFUSAL_BUDGET = { refusals: 60, perSeconds: 60 } as const;
export const DEFAULT_RELAYER_ENABLED = true;
export const DEFAULT_CONFIRMATIONS = 0;
export const DEFAULT_LOG_LEVEL: LogLevel = "info";

/**
 * Upper bound on `confirmations`. Ethereum finalises in 64 blocks and the deepest reorgs seen
 * on mainstream L1s/L2s are a few hundred blocks; a larger value is almost surely a typo and
 * would hold every attestation for hours without any error.
 */
export const MAX_CONFIRMATIONS = 1000;
/** Bounds the work of dialling at start and the size of the file's arrays. */
export const MAX_MULTIADDRS = 64;
export const MAX_CHAINS = 64;
/** Endpoints per chain: each is asked every read. */
export const MAX_RPC_URLS = 8;
/** The default quorum of `n` endpoints: a majority. */
export const majority = (n: number): number => Math.floor(n / 2) + 1;
