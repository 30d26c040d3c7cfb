// Gossipsub peer scoring for a small committee (4-32 peers, each a known operator).
//
// Shape of the score (gossipsub v1.1, per topic then summed):
//   positive: P1 time in mesh, P2 first deliveries    -> at most MAX_POSITIVE_SCORE in total
//   negative: P4 invalid messages (squared counter), P6 IP colocation, P7 behaviour penalty
//   disabled: P3/P3b mesh delivery rate, P5 application score
// The one property that matters most: a single REJECTed message puts its sender below zero,
// below the gossip and publish thresholds, whatever positive score it had built up. A second
// one (the P4 counter is squared) puts it below the graylist: we then ignore it altogether.
import {
  createPeerScoreParams,
  createTopicScoreParams,
  validatePeerScoreParams,
  type PeerScoreParams,
  type PeerScoreThresholds,
  type TopicScoreParams,
} from "@libp2p/gossipsub/score";
import { NetworkError } from "./errors.ts";
import { GOSSIP_KINDS, inboxTopic, type SentinelTopics } from "./topics.ts";

/** Counters are decayed once per second (gossipsub's minimum), so decays below are per second. */
export const DECAY_INTERVAL_MS = 1_000;
/** A decayed counter below this is zeroed. */
export const DECAY_TO_ZERO = 0.01;

/** The per-interval factor that takes a counter of 1 down to DECAY_TO_ZERO in `seconds`. */
export function decayOver(seconds: number): number {
  return DECAY_TO_ZERO ** (DECAY_INTERVAL_MS / (seconds * 1_000));
}

// Every kind is equally essential: without candidates nothing is verified, without verdicts
// nothing is aggregated, without attestations nothing is relayed, without approvals a gated
// candidate is never approved. So every topic weighs 1.
const TOPIC_WEIGHT = 1;

// P1, time in mesh: +0.1 per minute, capped at 10 minutes (+1). A modest reward for stable
// peers that an honest node regains quickly after a restart; too small to offset misbehaviour.
const TIME_IN_MESH_QUANTUM_MS = 60_000;
const TIME_IN_MESH_CAP = 10;
const TIME_IN_MESH_WEIGHT = 0.1;

// P2, first deliveries: +0.5 per message first delivered, capped at 4 (+2). Committee traffic
// is low and bursty (one candidate, then one verdict per member, then one attestation), so the
// counter decays over an hour; otherwise it would be back to zero between candidates.
const FIRST_DELIVERIES_WEIGHT = 0.5;
const FIRST_DELIVERIES_CAP = 4;
const FIRST_DELIVERIES_DECAY = decayOver(3_600);

// P4, invalid messages: -100 x counter^2 per topic. One invalid message (-100) outweighs the
// most any peer can earn (MAX_POSITIVE_SCORE = 12), so its sender is below zero at once:
// -88 at best, under the gossip (-10) and publish (-50) thresholds. Two (-400) cross the
// graylist (-200). Honest peers never forward an invalid message (validation runs before
// forwarding), so a REJECT is evidence against the peer that sent it. The counter decays to
// zero over an hour: after one invalid message the penalty is -50 after about 4.5 min (back
// at the publish threshold), -12 after about 14 min, gone after an hour. Reconnecting does not
// skip this (see RETAIN_SCORE_MS).
const INVALID_MESSAGE_WEIGHT = -100;
const INVALID_MESSAGE_DECAY = decayOver(3_600);

// P3/P3b (mesh delivery rate) are off: with a candidate every few minutes a delivery-rate
// floor would penalise honest, quiet peers. Their decays are still set because gossipsub
// keeps the counters.
const MESH_DELIVERIES_DECAY = decayOver(600);

/** Per topic, at most P1 + P2 = 1 + 2; over four topics, 12. */
export const MAX_POSITIVE_SCORE =
  GOSSIP_KINDS.length * TOPIC_WEIGHT * (TIME_IN_MESH_WEIGHT * TIME_IN_MESH_CAP + FIRST_DELIVERIES_WEIGHT * FIRST_DELIVERIES_CAP);

// P6, IP colocation: up to 4 peers behind one IP are free (an operator with a sentry or two,
// a shared NAT); each one more costs (surplus^2) x -10, so 6 peers on one IP put each below
// the gossip threshold. Loopback is whitelisted: those peers are on our own machine (devnet).
const IP_COLOCATION_THRESHOLD = 4;
const IP_COLOCATION_WEIGHT = -10;
const IP_COLOCATION_WHITELIST = ["127.0.0.1", "::1"];

// P7, behaviour penalty (broken IHAVE promises, GRAFT during backoff): two incidents are
// forgiven (a restart can cause one), each further one costs (excess^2) x -10, decaying over
// 10 minutes.
const BEHAVIOUR_PENALTY_THRESHOLD = 2;
const BEHAVIOUR_PENALTY_WEIGHT = -10;
const BEHAVIOUR_PENALTY_DECAY = decayOver(600);

// Keep a disconnected peer's score for an hour, so reconnecting does not wash out penalties.
const RETAIN_SCORE_MS = 3_600_000;

export const SCORE_THRESHOLDS: Readonly<PeerScoreThresholds> = {
  // Below zero means the peer has misbehaved (only penalties are negative). -10 leaves room for
  // one P7/P6 step; one invalid message (<= -91) is far below it: no more gossip with the peer.
  gossipThreshold: -10,
  // Our own messages are not flood-published to a peer that sent an invalid one.
  publishThreshold: -50,
  // Two invalid messages (<= -391), or one plus sustained misbehaviour: ignore all its RPCs.
  // One is tolerated (an honest operator on a buggy release), two are a pattern.
  graylistThreshold: -200,
  // Peer exchange is off (the bootstrap list is authoritative); unreachable (> MAX_POSITIVE_SCORE).
  acceptPXThreshold: 100,
  // Opportunistic grafting when the median mesh score is below 2: a mesh of peers that have
  // earned nothing in ~20 minutes is worth refreshing.
  opportunisticGraftThreshold: 2,
};

function topicParams(): TopicScoreParams {
  return createTopicScoreParams({
    topicWeight: TOPIC_WEIGHT,
    timeInMeshWeight: TIME_IN_MESH_WEIGHT,
    timeInMeshQuantum: TIME_IN_MESH_QUANTUM_MS,
    timeInMeshCap: TIME_IN_MESH_CAP,
    firstMessageDeliveriesWeight: FIRST_DELIVERIES_WEIGHT,
    firstMessageDeliveriesDecay: FIRST_DELIVERIES_DECAY,
    firstMessageDeliveriesCap: FIRST_DELIVERIES_CAP,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: MESH_DELIVERIES_DECAY,
    meshMessageDeliveriesCap: 1,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 60_000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: MESH_DELIVERIES_DECAY,
    invalidMessageDeliveriesWeight: INVALID_MESSAGE_WEIGHT,
    invalidMessageDeliveriesDecay: INVALID_MESSAGE_DECAY,
  });
}

/**
 * An inbox earns nothing (its traffic is a few verdicts per candidate, and up to 218 inboxes at
 * +3 each would let a peer bank more than one invalid message costs); an invalid message on it
 * costs what it costs on any topic.
 */
function inboxParams(): TopicScoreParams {
  return { ...topicParams(), timeInMeshWeight: 0, firstMessageDeliveriesWeight: 0 };
}

/** Score parameters for the network's four topics and its `inboxes` verdict inboxes. */
export function scoreParamsFor(topics: SentinelTopics, inboxes = 0): PeerScoreParams {
  return createPeerScoreParams({
    topics: Object.fromEntries([
      ...GOSSIP_KINDS.map((kind) => [topics[kind], topicParams()]),
      ...Array.from({ length: inboxes }, (_, recipient) => [inboxTopic(topics, recipient), inboxParams()]),
    ]),
    // Above the reachable maximum (9): a safety belt if a weight is raised without this.
    topicScoreCap: 10,
    appSpecificScore: () => 0,
    appSpecificWeight: 0,
    IPColocationFactorWeight: IP_COLOCATION_WEIGHT,
    IPColocationFactorThreshold: IP_COLOCATION_THRESHOLD,
    IPColocationFactorWhitelist: new Set(IP_COLOCATION_WHITELIST),
    behaviourPenaltyWeight: BEHAVIOUR_PENALTY_WEIGHT,
    behaviourPenaltyThreshold: BEHAVIOUR_PENALTY_THRESHOLD,
    behaviourPenaltyDecay: BEHAVIOUR_PENALTY_DECAY,
    decayInterval: DECAY_INTERVAL_MS,
    decayToZero: DECAY_TO_ZERO,
    retainScore: RETAIN_SCORE_MS,
  });
}

/**
 * Throws NetworkError("INVALID_SCORE_THRESHOLDS") unless 0 >= gossip >= publish >= graylist
 * (gossipsub's own rule) and the PX/graft thresholds are not negative. The node calls this at
 * start-up, so a mistyped config fails loudly instead of silently never graylisting anyone.
 */
export function checkScoreThresholds(thresholds: PeerScoreThresholds): void {
  const { gossipThreshold: gossip, publishThreshold: publish, graylistThreshold: graylist } = thresholds;
  const values = { gossip, publish, graylist, acceptPX: thresholds.acceptPXThreshold, opportunisticGraft: thresholds.opportunisticGraftThreshold };
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isFinite(value)) throw badThresholds(`${name} threshold must be a finite number, got ${value}`, values);
  }
  if (gossip > 0) throw badThresholds(`gossip threshold must be <= 0, got ${gossip}`, values);
  if (publish > gossip) {
    throw badThresholds(`publish threshold (${publish}) must be <= gossip threshold (${gossip})`, values);
  }
  if (graylist > publish) {
    throw badThresholds(`graylist threshold (${graylist}) must be <= publish threshold (${publish})`, values);
  }
  if (thresholds.acceptPXThreshold < 0) throw badThresholds("accept-PX threshold must be >= 0", values);
  if (thresholds.opportunisticGraftThreshold < 0) throw badThresholds("opportunistic-graft threshold must be >= 0", values);
}

/**
 * Throws NetworkError("INVALID_SCORE_PARAMS") unless gossipsub accepts the parameters and, on
 * every scored topic, one invalid message outweighs the highest positive score reachable.
 */
export function checkScoreParams(params: PeerScoreParams): void {
  try {
    validatePeerScoreParams(params);
  } catch (cause) {
    throw new NetworkError("INVALID_SCORE_PARAMS", `gossipsub rejects the score parameters: ${String(cause)}`, {}, { cause });
  }
  if (params.appSpecificWeight !== 0) {
    throw new NetworkError("INVALID_SCORE_PARAMS", "application-specific score (P5) must stay disabled: it could offset P4", {});
  }
  const maxPositive = maxPositiveScore(params);
  for (const [topic, topicParams] of Object.entries(params.topics)) {
    const onePenalty = topicParams.topicWeight * topicParams.invalidMessageDeliveriesWeight;
    if (maxPositive + onePenalty >= 0) {
      throw new NetworkError(
        "INVALID_SCORE_PARAMS",
        `one invalid message on ${topic} (${onePenalty}) does not outweigh the maximum positive score (${maxPositive})`,
        { topic, onePenalty, maxPositive },
      );
    }
  }
}

/** The highest score a peer can earn: P1 and P2 at their caps on every topic. */
export function maxPositiveScore(params: PeerScoreParams): number {
  let total = 0;
  for (const topic of Object.values(params.topics)) {
    const p1 = topic.timeInMeshWeight * topic.timeInMeshCap;
    const p2 = topic.firstMessageDeliveriesWeight * topic.firstMessageDeliveriesCap;
    total += topic.topicWeight * (p1 + p2);
  }
  return total;
}

function badThresholds(message: string, values: Record<string, number>): NetworkError {
  return new NetworkError("INVALID_SCORE_THRESHOLDS", `gossipsub score thresholds: ${message}`, values);
}
