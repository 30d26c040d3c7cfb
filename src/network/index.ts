// The network layer's public API: the libp2p host, its options, topics, scoring and errors.
export { SentinelNetwork, type NetworkModules } from "./network.ts";
export {
  defaultNetworkOptions,
  resolveNetworkOptions,
  MAX_INBOXES,
  MAX_MESSAGE_BYTES_LIMIT,
  type BootstrapPeer,
  type NetworkOptions,
  type ResolvedNetworkOptions,
} from "./options.ts";
export {
  GOSSIP_KINDS,
  bundleProtocolFor,
  inboxTopic,
  kindOfTopic,
  networkPrefix,
  topicsFor,
  type GossipKind,
  type SentinelTopics,
} from "./topics.ts";
export {
  MAX_POSITIVE_SCORE,
  SCORE_THRESHOLDS,
  checkScoreParams,
  checkScoreThresholds,
  maxPositiveScore,
  scoreParamsFor,
} from "./scoring.ts";
export { gossipActionOf, gossipMessageId, type GossipCounters, type GossipHandlers, type GossipVerdict } from "./gossip.ts";
export { BUNDLE_STATUS, type BundleStore } from "./bundles.ts";
export { DEFAULT_RECENT_LIMITS, type RecentCandidateSource } from "./recentCandidates.ts";
export {
  BundleFetchError,
  GossipActionError,
  NetworkError,
  type BundleFetchErrorCode,
  type GossipAction,
  type NetworkErrorCode,
} from "./errors.ts";
