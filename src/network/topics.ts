// Gossip topics and protocol ids. Every name carries the network prefix (first 8 bytes of the
// network id) and a version, so two Sentinel networks sharing peers never mix messages, and a
// wire-format change gets a new name instead of confusing old nodes.
import type { Hex } from "viem";
import { NetworkError } from "./errors.ts";
import { isNetworkId } from "../codec/types.ts";

export const GOSSIP_KINDS = ["candidate", "verdict", "attestation", "approval"] as const;
export type GossipKind = (typeof GOSSIP_KINDS)[number];

export type SentinelTopics = Readonly<Record<GossipKind, string>>;

/** Version of the gossip message encodings; bump when a payload format changes. */
export const GOSSIP_VERSION = 1;
/** Version of the bundle request/response protocol. */
export const BUNDLE_PROTOCOL_VERSION = 1;

const TOPIC_NAMES: Record<GossipKind, string> = {
  candidate: "candidates",
  verdict: "verdicts",
  attestation: "attestations",
  approval: "approvals",
};

/** The first 8 bytes of the network id as 16 lowercase hex characters (no 0x). */
export function networkPrefix(networkId: Hex): string {
  if (!isNetworkId(networkId)) {
    throw new NetworkError("INVALID_OPTIONS", "network id must be 0x followed by 64 hex characters, not all zero", { networkId });
  }
  return networkId.slice(2, 18).toLowerCase();
}

/**
 * @example topicsFor("0x0123456789abcdef…").candidate === "/sentinel/0123456789abcdef/1/candidates"
 */
export function topicsFor(networkId: Hex): SentinelTopics {
  const base = `/sentinel/${networkPrefix(networkId)}/${GOSSIP_VERSION}`;
  return {
    candidate: `${base}/${TOPIC_NAMES.candidate}`,
    verdict: `${base}/${TOPIC_NAMES.verdict}`,
    attestation: `${base}/${TOPIC_NAMES.attestation}`,
    approval: `${base}/${TOPIC_NAMES.approval}`,
  };
}

export const RECENT_CANDIDATES_PROTOCOL_VERSION = 1;

/** @example recentCandidatesProtocolFor(id) === "/sentinel/0123456789abcdef/recent-candidates/1" */
export function recentCandidatesProtocolFor(networkId: Hex): string {
  return `/sentinel/${networkPrefix(networkId)}/recent-candidates/${RECENT_CANDIDATES_PROTOCOL_VERSION}`;
}

/** @example bundleProtocolFor(id) === "/sentinel/0123456789abcdef/bundle/1" */
export function bundleProtocolFor(networkId: Hex): string {
  return `/sentinel/${networkPrefix(networkId)}/bundle/${BUNDLE_PROTOCOL_VERSION}`;
}

/**
 * The verdict inbox of one recipient (a validator index): verdicts published here reach only the
 * peers subscribed to it, so a signer can send its verdict to the candidate's aggregators
 * instead of to every node. Anyone may subscribe to any inbox; that only gets them copies of
 * public, signed verdicts, never keeps them from the node whose inbox it is.
 *
 * @example inboxTopic(topicsFor(id), 3) === "/sentinel/0123456789abcdef/1/verdicts/to/3"
 */
export function inboxTopic(topics: SentinelTopics, recipient: number): string {
  return `${inboxPrefix(topics)}${recipient}`;
}

function inboxPrefix(topics: SentinelTopics): string {
  return `${topics.verdict}/to/`;
}

/** The kind a topic carries (an inbox carries verdicts), or undefined for a topic that is not one of ours. */
export function kindOfTopic(topics: SentinelTopics, topic: string): GossipKind | undefined {
  const kind = GOSSIP_KINDS.find((candidate) => topics[candidate] === topic);
  if (kind !== undefined) return kind;
  const prefix = inboxPrefix(topics);
  return topic.startsWith(prefix) && /^(0|[1-9]\d{0,3})$/.test(topic.slice(prefix.length)) ? "verdict" : undefined;
}
