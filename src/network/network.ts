// The node's libp2p host: TCP + Noise + Yamux, identify, gossipsub on the three Sentinel
// topics with validation before forwarding, and the bundle request/response protocol.
//
// Signature policy: StrictNoSign. Every payload carries its own signature (the proposer's
// EIP-712 signature on a candidate, BLS on verdicts and attestations) which handlers check,
// and a peer id is never a signer identity, so a libp2p signature would prove nothing the
// application uses. Without it, messages carry no author, sequence number or key: the message
// id can be derived from content alone (identical payloads from two nodes are one message),
// each message is ~100 bytes smaller and costs no Ed25519 verification, and the origin peer
// is not revealed. The peer penalised for an invalid message is the one that forwarded it to
// us, which is exactly whom gossipsub scores.
import { noise } from "@chainsafe/libp2p-noise";
import {
  StrictNoSign,
  TopicValidatorResult,
  gossipsub,
  type GossipSub,
  type GossipsubMessage,
  type Message,
} from "@libp2p/gossipsub";
import { identify, type Identify } from "@libp2p/identify";
import type { Libp2p, PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { tcp } from "@libp2p/tcp";
import { yamux } from "@libp2p/yamux";
import type { Multiaddr } from "@multiformats/multiaddr";
import { prometheusMetrics } from "@libp2p/prometheus-metrics";
import { createLibp2p } from "libp2p";
import type { Registry } from "prom-client";
import type { Logger } from "pino";
import type { Hex } from "viem";
import { BUNDLE_MAX_INBOUND_STREAMS, bundleServer, requestBundle, type BundleStore } from "./bundles.ts";
import { NetworkError } from "./errors.ts";
import {
  DEFAULT_RECENT_LIMITS,
  RECENT_MAX_INBOUND_STREAMS,
  RECENT_MIN_INTERVAL_MS,
  recentCandidatesServer,
  requestRecentCandidates,
  type RecentCandidateSource,
  type RecentServerStats,
} from "./recentCandidates.ts";
import { ForeignNetworkWarnings } from "./foreignNetworks.ts";
import { GossipValidator, gossipMessageId, type GossipCounters, type GossipHandlers, type GossipVerdict } from "./gossip.ts";
import { resolveNetworkOptions, type NetworkOptions, type ResolvedNetworkOptions } from "./options.ts";
import { BootstrapDialer } from "./peers.ts";
import { SCORE_THRESHOLDS, checkScoreParams, checkScoreThresholds, scoreParamsFor } from "./scoring.ts";
import { PeerLedger } from "./peerLedger.ts";
import { GOSSIP_KINDS, bundleProtocolFor, inboxTopic, kindOfTopic, networkPrefix, recentCandidatesProtocolFor, topicsFor, type GossipKind, type SentinelTopics } from "./topics.ts";

export interface NetworkModules {
  handlers: GossipHandlers;
  bundles: BundleStore;
  logger: Logger;
  /** The node's own metrics registry: libp2p's metrics go there (none without it). */
  metricsRegistry?: Registry;
  /** What this node answers a peer asking for its recent candidates (none without it). */
  recentCandidates?: RecentCandidateSource;
  /** A connection to `peer` was opened (a first connection or a reconnection). */
  onPeerConnected?: (peer: PeerId) => void;
}

/** The gossipsub methods used here beyond its exported interface (present on its class). */
interface GossipRouter extends GossipSub {
  getScore(peerId: string): number;
  getMeshPeers(topic: string): string[];
  reportMessageValidationResult(msgId: string, propagationSource: string, acceptance: TopicValidatorResult): void;
}

type Host = Libp2p<{ identify: Identify; pubsub: GossipSub }>;

/** The one place gossip results become gossipsub's (errors become results in gossip.ts, gossipActionOf). */
const ACCEPTANCE: Readonly<Record<GossipVerdict, TopicValidatorResult>> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
};

/**
 * Connections we hold at most: a committee is <= 32 nodes, plus observers (non-validator
 * nodes, relayers) and headroom for reconnect races. The connection manager prunes beyond it,
 * bootstrap peers last (they carry the highest tag).
 */
export const MAX_CONNECTIONS = 128;

/** How often each connection is pinged (libp2p's connection monitor; its default is 10 s). */
export const CONNECTION_PING_INTERVAL_MS = 60_000;

/**
 * Gossipsub frames (one RPC, possibly several messages) larger than this end the peer's
 * stream instead of being scored; 4 MiB is what gossipsub itself can send, and always leaves
 * room for one maxMessageBytes message plus protobuf and control overhead (64 KiB).
 */
function rpcFrameLimit(maxMessageBytes: number): number {
  return Math.max(4 * 1024 * 1024, maxMessageBytes + 64 * 1024);
}

export class SentinelNetwork {
  readonly peerId: PeerId;
  readonly topics: SentinelTopics;
  readonly bundleProtocol: string;
  readonly recentCandidatesProtocol: string;
  /** Recent-candidates requests answered, throttled (asked again too soon), failed. */
  readonly recentServed: RecentServerStats = { served: 0, throttled: 0, failed: 0 };
  private readonly options: ResolvedNetworkOptions;
  private readonly libp2p: Host;
  private readonly pubsub: GossipRouter;
  private readonly validator: GossipValidator;
  private readonly dialer: BootstrapDialer;
  private readonly log: Logger;
  private stopping: Promise<void> | undefined;

  private constructor(
    parts: {
      options: ResolvedNetworkOptions;
      topics: SentinelTopics;
      libp2p: Host;
      pubsub: GossipRouter;
      dialer: BootstrapDialer;
      handlers: GossipHandlers;
    },
    log: Logger,
  ) {
    this.options = parts.options;
    this.topics = parts.topics;
    this.bundleProtocol = bundleProtocolFor(parts.options.networkId);
    this.recentCandidatesProtocol = recentCandidatesProtocolFor(parts.options.networkId);
    this.libp2p = parts.libp2p;
    this.peerId = parts.libp2p.peerId;
    this.pubsub = parts.pubsub;
    this.validator = new GossipValidator(
      {
        maxMessageBytes: parts.options.maxMessageBytes,
        validationTimeoutMs: parts.options.validationTimeoutMs,
        maxPendingValidations: parts.options.maxPendingValidations,
      },
      {
        handlers: parts.handlers,
        logger: log,
        ledger: new PeerLedger(parts.options.peerBudget, { now: () => Date.now() }),
        report: (msgId, source, verdict, kind) => this.report(msgId, source, verdict, kind),
      },
    );
    this.dialer = parts.dialer;
    this.log = log;
  }

  /**
   * Builds, starts and connects the host: checks options and score settings, subscribes to
   * the four topics, serves bundles, dials the bootstrap peers. Throws NetworkError.
   */
  static async create(input: NetworkOptions, modules: NetworkModules): Promise<SentinelNetwork> {
    const options = resolveNetworkOptions(input);
    const topics = topicsFor(options.networkId);
    const scoreParams = scoreParamsFor(topics, options.inboxes);
    const inboxes = Array.from({ length: options.inboxes }, (_, recipient) => inboxTopic(topics, recipient));
    checkScoreThresholds(SCORE_THRESHOLDS);
    checkScoreParams(scoreParams);
    const log = modules.logger.child({ module: "network" });

    const libp2p: Host = await createLibp2p({
      start: false,
      ...(options.privateKey === undefined ? {} : { privateKey: options.privateKey }),
      addresses: { listen: options.listen.map((address) => address.toString()) },
      connectionManager: { maxConnections: MAX_CONNECTIONS },
      // libp2p pings every connection every 10 s by default. In a committee of 32, fully
      // connected, that was about 0.2 of this 2-core machine's cores with the network idle (a
      // stream per peer opened and refused, on both sides). Gossip traffic and TCP already tell
      // a live peer; a minute still finds a dead connection that never closed.
      connectionMonitor: { pingInterval: CONNECTION_PING_INTERVAL_MS },
      // Into the node's registry, never prom-client's global one; the node registers the default
      // process metrics itself. The package keeps its metric objects in a module-wide map, and
      // clears that map and prom-client's global registry whenever a host is built: in a process
      // running several nodes, one started while another starts may share some libp2p series.
      ...(modules.metricsRegistry !== undefined && { metrics: prometheusMetrics({ registry: modules.metricsRegistry, collectDefaultMetrics: false }) }),
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        pubsub: gossipsub({
          // A committee is small and (with every operator in the bootstrap list) fully connected,
          // and every publisher floods its own messages to every subscriber: mesh forwarding is
          // then almost all duplicates, and on a 16-node network the transport (noise, yamux,
          // socket writes) was half of all CPU. A mesh of 2 keeps a second path; peers the flood
          // missed still get the message from IHAVE gossip within a heartbeat (1 s). Measured:
          // D 6 -> 2 took a 16-node candidate from ~3.5 to ~2.2 CPU-seconds across the network.
          D: 2,
          Dlo: 1,
          Dhi: 4,
          Dout: 0,
          Dscore: 1,
          Dlazy: 3,
          gossipFactor: 0.1,
          // Every Sentinel message is under ~1 KiB: an IDONTWANT costs about what the duplicate it
          // prevents does, so it is never sent.
          idontwantMinDataSize: 16 * 1024,
          globalSignaturePolicy: StrictNoSign,
          msgIdFn: (msg: Message) => gossipMessageId(msg.topic, msg.data),
          // Forward only after our handler said accept (reportMessageValidationResult).
          asyncValidation: true,
          // Our own messages go straight to every subscribed peer above the publish threshold:
          // in a committee of <= 32 that is cheap, and it is the fastest path.
          floodPublish: true,
          // Thrown NoPeersSubscribedToTopic is turned into "0 recipients" by publish().
          allowPublishToZeroTopicPeers: false,
          // The same attestation built by two nodes is one message: not an error.
          ignoreDuplicatePublishError: true,
          // The bootstrap list is authoritative: no peer exchange, no floodsub peers.
          doPX: false,
          fallbackToFloodsub: false,
          emitSelf: false,
          allowedTopics: [...GOSSIP_KINDS.map((kind) => topics[kind]), ...inboxes],
          maxInboundDataLength: rpcFrameLimit(options.maxMessageBytes),
          scoreParams,
          scoreThresholds: { ...SCORE_THRESHOLDS },
        }),
      },
    });

    const pubsub = libp2p.services.pubsub;
    if (!isGossipRouter(pubsub)) {
      await libp2p.stop();
      throw new NetworkError("UNSUPPORTED_GOSSIPSUB", "the installed gossipsub lacks getScore/getMeshPeers/reportMessageValidationResult");
    }
    const dialer = new BootstrapDialer({ peers: options.bootstrap, redialIntervalMs: options.redialIntervalMs }, { libp2p, logger: log });
    const network = new SentinelNetwork({ options, topics, libp2p, pubsub, dialer, handlers: modules.handlers }, log);

    try {
      // [REJECT] oversized, synchronously, before the message is cached or handed to us.
      for (const kind of GOSSIP_KINDS) pubsub.topicValidators.set(topics[kind], network.precheckAs(kind));
      const inboxPrecheck = network.precheckAs("verdict");
      for (const inbox of inboxes) pubsub.topicValidators.set(inbox, inboxPrecheck);
      pubsub.addEventListener("gossipsub:message", network.onMessage);
      const foreign = new ForeignNetworkWarnings({ networkPrefix: networkPrefix(options.networkId) }, { logger: log });
      libp2p.addEventListener("peer:identify", (event) => void foreign.identified(event.detail.peerId.toString(), event.detail.protocols));
      await libp2p.handle(
        network.bundleProtocol,
        bundleServer({ maxBundleBytes: options.maxBundleBytes }, { store: modules.bundles, logger: log }),
        { maxInboundStreams: BUNDLE_MAX_INBOUND_STREAMS },
      );
      await libp2p.handle(
        network.recentCandidatesProtocol,
        recentCandidatesServer(
          { ...DEFAULT_RECENT_LIMITS, maxCandidateBytes: options.maxMessageBytes, minIntervalMs: RECENT_MIN_INTERVAL_MS },
          { source: modules.recentCandidates ?? { recent: async () => [] }, logger: log, now: () => Date.now(), stats: network.recentServed },
        ),
        { maxInboundStreams: RECENT_MAX_INBOUND_STREAMS },
      );
      const onConnected = modules.onPeerConnected;
      if (onConnected) libp2p.addEventListener("peer:connect", (event) => void (network.stopping === undefined && onConnected(event.detail)));
      await libp2p.start();
      for (const kind of GOSSIP_KINDS) pubsub.subscribe(topics[kind]);
      if (options.inbox !== undefined) pubsub.subscribe(inboxTopic(topics, options.inbox));
      dialer.start();
    } catch (cause) {
      await network.stop().catch(() => undefined);
      throw new NetworkError("START_FAILED", `the libp2p host could not start: ${String(cause)}`, {}, { cause });
    }
    log.info(
      {
        peerId: network.peerId.toString(),
        addresses: network.multiaddrs().map(String),
        bootstrap: options.bootstrap.length,
        ephemeralIdentity: options.privateKey === undefined,
      },
      "network started",
    );
    return network;
  }

  /** The addresses we listen on, each ending in /p2p/<our peer id>. */
  multiaddrs(): Multiaddr[] {
    return this.libp2p.getMultiaddrs();
  }

  /** Peers we hold a connection to. */
  peers(): PeerId[] {
    return this.libp2p.getPeers();
  }

  /** Peers known to be subscribed to a kind's topic. */
  subscribers(kind: GossipKind): PeerId[] {
    return this.pubsub.getSubscribers(this.topics[kind]);
  }

  /** Peers in our gossipsub mesh for a kind's topic (they receive what we forward). */
  meshPeers(kind: GossipKind): PeerId[] {
    return this.pubsub.getMeshPeers(this.topics[kind]).map((id) => peerIdFromString(id));
  }

  /** The gossipsub score we give a peer (0 for an unknown peer). */
  scoreOf(peer: PeerId): number {
    return this.pubsub.getScore(peer.toString());
  }

  /** Validation counters since start (accepted, rejected, dropped, ...). */
  counters(): Readonly<GossipCounters> {
    return this.validator.counters();
  }

  /** Validation results per gossip kind and action, since start. */
  countersByKind(): Record<GossipKind, Record<GossipVerdict, number>> {
    return this.validator.countersByKind();
  }

  /**
   * Publishes a payload on a kind's topic. Resolves with the number of peers it was sent to:
   * 0 when no peer is subscribed yet (logged; publish again later) or when the same payload was
   * already published or received. Throws NetworkError MESSAGE_TOO_LARGE, STOPPED, PUBLISH_FAILED.
   */
  publish(kind: GossipKind, data: Uint8Array): Promise<number> {
    return this.publishOn(this.topics[kind], kind, data);
  }

  /** Whether some connected peer reads verdict inbox `recipient` (its validator is online, or someone listens in). */
  reachesInbox(recipient: number): boolean {
    return this.pubsub.getSubscribers(inboxTopic(this.topics, recipient)).length > 0;
  }

  /** Publishes a verdict to the inbox of `recipient` only; resolves and throws like publish(). */
  sendToInbox(recipient: number, data: Uint8Array): Promise<number> {
    if (!Number.isSafeInteger(recipient) || recipient < 0 || recipient >= this.options.inboxes) {
      return Promise.reject(new NetworkError("PUBLISH_FAILED", `no inbox ${recipient}: the network has ${this.options.inboxes}`, { kind: "verdict" }));
    }
    return this.publishOn(inboxTopic(this.topics, recipient), "verdict", data);
  }

  private async publishOn(topic: string, kind: GossipKind, data: Uint8Array): Promise<number> {
    if (this.stopping !== undefined) throw new NetworkError("STOPPED", "publish after stop()", { kind });
    if (data.byteLength > this.options.maxMessageBytes) {
      throw new NetworkError("MESSAGE_TOO_LARGE", `${kind} of ${data.byteLength} bytes exceeds maxMessageBytes (${this.options.maxMessageBytes})`, {
        kind,
        bytes: data.byteLength,
        max: this.options.maxMessageBytes,
      });
    }
    try {
      const { recipients } = await this.pubsub.publish(topic, data);
      this.log.debug({ topic, bytes: data.byteLength, recipients: recipients.length }, "published");
      return recipients.length;
    } catch (err) {
      if (err instanceof Error && err.message === "PublishError.NoPeersSubscribedToTopic") {
        this.log.warn({ topic, bytes: data.byteLength }, "published to no peers: none subscribed yet");
        return 0;
      }
      throw new NetworkError("PUBLISH_FAILED", `publishing a ${kind} failed: ${String(err)}`, { kind }, { cause: err });
    }
  }

  /**
   * Fetches a bundle by its keccak256 hash from `peer`, bounded by maxBundleBytes and
   * bundleRequestTimeoutMs. Throws BundleFetchError; HASH_MISMATCH if the peer served other bytes.
   */
  async fetchBundle(peer: PeerId, hash: Hex): Promise<Uint8Array> {
    if (this.stopping !== undefined) throw new NetworkError("STOPPED", "fetchBundle after stop()", { hash });
    return requestBundle((target, protocol, options) => this.libp2p.dialProtocol(target, protocol, options), peer, hash, {
      protocol: this.bundleProtocol,
      maxBundleBytes: this.options.maxBundleBytes,
      timeoutMs: this.options.bundleRequestTimeoutMs,
    });
  }

  /**
   * Asks `peer` for the gossip payloads of its newest unexpired candidates (recentCandidates.ts),
   * bounded by the gossip message size and DEFAULT_RECENT_LIMITS. Untrusted: admit each as gossip.
   */
  async fetchRecentCandidates(peer: PeerId): Promise<Uint8Array[]> {
    if (this.stopping !== undefined) throw new NetworkError("STOPPED", "fetchRecentCandidates after stop()");
    return requestRecentCandidates((target, protocol, options) => this.libp2p.dialProtocol(target, protocol, options), peer, this.recentCandidatesProtocol, {
      ...DEFAULT_RECENT_LIMITS,
      maxCandidateBytes: this.options.maxMessageBytes,
      timeoutMs: this.options.bundleRequestTimeoutMs,
    });
  }

  /** Stops dialling, unsubscribes, closes every connection. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.dialer.stop();
    this.pubsub.removeEventListener("gossipsub:message", this.onMessage);
    this.pubsub.topicValidators.clear();
    try {
      await this.libp2p.stop();
    } finally {
      this.log.info({ peerId: this.peerId.toString() }, "network stopped");
    }
  }

  /** Gossipsub's synchronous topic validator for a kind: the size rule, before anything is cached. */
  private precheckAs(kind: GossipKind) {
    return (from: PeerId, msg: Message): TopicValidatorResult =>
      ACCEPTANCE[this.validator.precheck(kind, msg.data, from) ?? "accept"];
  }

  private report(msgId: string, source: PeerId, verdict: GossipVerdict, kind?: GossipKind): void {
    // After stop() the router is gone; a late handler's result has nowhere to go.
    if (this.stopping !== undefined) return;
    // A valid message of a no-forward kind was processed; IGNORE keeps gossipsub from relaying
    // it without counting against its sender (only REJECT does).
    const forwarded = verdict === "accept" && kind !== undefined && this.options.noForward.has(kind) ? "ignore" : verdict;
    this.pubsub.reportMessageValidationResult(msgId, source.toString(), ACCEPTANCE[forwarded]);
  }

  private readonly onMessage = (event: CustomEvent<GossipsubMessage>): void => {
    const { msgId, msg, propagationSource } = event.detail;
    if (this.stopping !== undefined) return;
    const kind = kindOfTopic(this.topics, msg.topic);
    if (kind === undefined) {
      // Not one of ours (allowedTopics makes this unreachable): drop it, no penalty.
      this.report(msgId, propagationSource, "ignore");
      return;
    }
    void this.validator.validate(kind, msgId, msg.data, propagationSource);
  };
}

function isGossipRouter(pubsub: GossipSub): pubsub is GossipRouter {
  const candidate = pubsub as Partial<GossipRouter>;
  return (
    typeof candidate.getScore === "function" &&
    typeof candidate.getMeshPeers === "function" &&
    typeof candidate.reportMessageValidationResult === "function"
  );
}
