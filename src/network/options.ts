// Options of the network layer: plain data, with defaults. The composition root builds them
// from config; resolveNetworkOptions checks them once so the rest of the layer can trust them.
import { PEER_LEDGER_DEFAULTS, type PeerLedgerOptions } from "./peerLedger.ts";
import { MAX_BUNDLE_BYTES } from "../codec/bundle.ts";
import { isNetworkId } from "../codec/types.ts";
import type { PrivateKey } from "@libp2p/interface";
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import type { Hex } from "viem";
import { NetworkError } from "./errors.ts";
import type { GossipKind } from "./topics.ts";

const MiB = 1024 * 1024;

export interface NetworkOptions {
  /** The Sentinel network id (0x + 64 hex), the EIP-712 salt; its first 8 bytes prefix every topic. */
  networkId: Hex;
  /** Multiaddrs to listen on, e.g. "/ip4/127.0.0.1/tcp/0". */
  listen: string[];
  /** Peers to stay connected to, each a multiaddr ending in /p2p/<peerId>. Our own id is skipped. */
  bootstrap: string[];
  /** The node's Ed25519 libp2p identity, persisted by the caller. Without it the peer id is ephemeral. */
  privateKey?: PrivateKey;
  /** Largest gossip message accepted or published (default 1 MiB). */
  maxMessageBytes?: number;
  /** Largest bundle accepted from the bundle protocol (default 4 MiB). */
  maxBundleBytes?: number;
  /** Time budget of one fetchBundle call, dial included (default 10 s). */
  bundleRequestTimeoutMs?: number;
  /** A handler that has not answered by then counts as IGNORE (default 4 s, see below). */
  validationTimeoutMs?: number;
  /** Messages being validated at once; beyond this, new ones are IGNOREd and counted (default 256). */
  maxPendingValidations?: number;
  /** How often disconnected bootstrap peers are re-dialled (default 5 s). */
  redialIntervalMs?: number;
  /**
   * Kinds delivered only by their publisher's flood, never forwarded (default none). In a fully
   * connected committee every subscriber already got such a message from its publisher, so
   * forwarding it sends nothing but duplicates; its valid copies are processed and not relayed.
   */
  noForward?: GossipKind[];
  /**
   * How many verdict inboxes the network has (one per validator of the set; default 0): the
   * host scores and accepts inbox topics 0..inboxes-1 and no others.
   */
  inboxes?: number;
  /** The inbox this host reads (its validator index); none for an observer. */
  inbox?: number;
  /** Per-peer budgets of gossip validation (peerLedger.ts; defaults PEER_LEDGER_DEFAULTS). */
  peerBudget?: Partial<PeerLedgerOptions>;
}

/** Inboxes a network may have: one per validator, and a set has at most 218 (the registry's bound). */
export const MAX_INBOXES = 1024;

export interface ResolvedNetworkOptions {
  networkId: Hex;
  listen: Multiaddr[];
  /** Parsed bootstrap entries; the peer id is the last /p2p component. */
  bootstrap: BootstrapPeer[];
  privateKey?: PrivateKey;
  maxMessageBytes: number;
  maxBundleBytes: number;
  bundleRequestTimeoutMs: number;
  validationTimeoutMs: number;
  maxPendingValidations: number;
  redialIntervalMs: number;
  noForward: ReadonlySet<GossipKind>;
  inboxes: number;
  inbox?: number;
  peerBudget: PeerLedgerOptions;
}

export interface BootstrapPeer {
  peerId: string;
  address: Multiaddr;
}

export const defaultNetworkOptions = {
  maxMessageBytes: 1 * MiB,
  maxBundleBytes: MAX_BUNDLE_BYTES,
  bundleRequestTimeoutMs: 10_000,
  // Gossipsub keeps an unvalidated message in its cache for mcacheLength (5) heartbeats of 1 s;
  // a result reported after that is dropped silently, so the budget stays below 5 s.
  validationTimeoutMs: 4_000,
  // Committees are 4-32 peers; a candidate produces at most one verdict per member and one
  // attestation, so 256 in flight is far above honest load and bounds a flood's memory.
  maxPendingValidations: 256,
  redialIntervalMs: 5_000,
} as const;

/** Upper bound on maxMessageBytes: gossipsub writes frames of at most 4 MiB (it-length-prefixed). */
export const MAX_MESSAGE_BYTES_LIMIT = 4 * MiB - 64 * 1024;



export function resolveNetworkOptions(options: NetworkOptions): ResolvedNetworkOptions {
  if (!isNetworkId(options.networkId)) {
    throw invalid("networkId", "must be 0x followed by 64 hex characters, not all zero", { networkId: options.networkId });
  }
  if (options.listen.length === 0) throw invalid("listen", "needs at least one multiaddr");
  const listen = options.listen.map((address) => parseMultiaddr("listen", address));
  const bootstrap = options.bootstrap.map((address) => parseBootstrap(address));
  if (options.privateKey !== undefined && options.privateKey.type !== "Ed25519") {
    throw invalid("privateKey", `must be an Ed25519 key, got ${options.privateKey.type}`);
  }
  const maxMessageBytes = positiveInteger("maxMessageBytes", options.maxMessageBytes ?? defaultNetworkOptions.maxMessageBytes);
  if (maxMessageBytes > MAX_MESSAGE_BYTES_LIMIT) {
    throw invalid("maxMessageBytes", `must be at most ${MAX_MESSAGE_BYTES_LIMIT} (gossipsub frame limit)`);
  }
  const resolved: ResolvedNetworkOptions = {
    networkId: options.networkId,
    listen,
    bootstrap,
    maxMessageBytes,
    maxBundleBytes: positiveInteger("maxBundleBytes", options.maxBundleBytes ?? defaultNetworkOptions.maxBundleBytes),
    bundleRequestTimeoutMs: positiveInteger(
      "bundleRequestTimeoutMs",
      options.bundleRequestTimeoutMs ?? defaultNetworkOptions.bundleRequestTimeoutMs,
    ),
    validationTimeoutMs: positiveInteger("validationTimeoutMs", options.validationTimeoutMs ?? defaultNetworkOptions.validationTimeoutMs),
    maxPendingValidations: positiveInteger(
      "maxPendingValidations",
      options.maxPendingValidations ?? defaultNetworkOptions.maxPendingValidations,
    ),
    redialIntervalMs: positiveInteger("redialIntervalMs", options.redialIntervalMs ?? defaultNetworkOptions.redialIntervalMs),
    noForward: new Set(options.noForward ?? []),
    inboxes: options.inboxes ?? 0,
    peerBudget: { ...PEER_LEDGER_DEFAULTS, ...options.peerBudget },
  };
  if (!Number.isSafeInteger(resolved.inboxes) || resolved.inboxes < 0 || resolved.inboxes > MAX_INBOXES) {
    throw invalid("inboxes", `must be an integer in [0, ${MAX_INBOXES}]`, { value: options.inboxes });
  }
  if (options.inbox !== undefined) {
    if (!Number.isSafeInteger(options.inbox) || options.inbox < 0 || options.inbox >= resolved.inboxes) {
      throw invalid("inbox", `must be an integer in [0, inboxes = ${resolved.inboxes})`, { value: options.inbox });
    }
    resolved.inbox = options.inbox;
  }
  if (options.privateKey !== undefined) resolved.privateKey = options.privateKey;
  return resolved;
}

function parseMultiaddr(field: string, address: string): Multiaddr {
  try {
    return multiaddr(address);
  } catch (cause) {
    throw invalid(field, `"${address}" is not a multiaddr`, { address }, cause);
  }
}

function parseBootstrap(address: string): BootstrapPeer {
  const parsed = parseMultiaddr("bootstrap", address);
  const peerId = parsed.getComponents().findLast((component) => component.name === "p2p")?.value;
  if (peerId === undefined) throw invalid("bootstrap", `"${address}" must end in /p2p/<peerId>`, { address });
  return { peerId, address: parsed };
}

function positiveInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw invalid(field, "must be a positive integer", { value });
  return value;
}

function invalid(field: string, message: string, details: Record<string, unknown> = {}, cause?: unknown): NetworkError {
  return new NetworkError("INVALID_OPTIONS", `network option ${field}: ${message}`, { field, ...details }, { cause });
}
