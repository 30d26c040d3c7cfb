// Where each metric of nodeMetrics.ts is read from, in a running node. Part of the composition
// root: it reads the parts' own counters, it counts nothing itself.
import type { AttestationStore } from "../attestations/attestationStore.ts";
import type { AttestationFollower } from "../attestations/follower.ts";
import type { RelayDispatcher } from "../attestations/relayDispatcher.ts";
import type { HumanGate } from "../candidates/humanGate.ts";
import type { VerificationScheduler } from "../candidates/scheduler.ts";
import type { CandidateVerification } from "../candidates/verification.ts";
import type { Admission } from "../admission/admission.ts";
import type { EventStream } from "../api/eventStream.ts";
import type { VerdictAggregator } from "../consensus/aggregator.ts";
import type { EvidenceStore } from "../consensus/evidenceStore.ts";
import type { EventLog } from "../events/eventLog.ts";
import type { BatchVerifier } from "../consensus/batchVerifier.ts";
import type { NodeMetricSources } from "../metrics/nodeMetrics.ts";
import type { SentinelNetwork } from "../network/index.ts";
import type { InvariantMonitor } from "../monitoring/monitor.ts";
import type { Webhooks } from "../notifications/webhooks.ts";
import type { CandidateBackfill } from "../candidates/backfill.ts";
import type { RefusalBudget } from "../api/refusalBudget.ts";
import type { ChainParts } from "./chainParts.ts";

export interface MetricParts {
  network: SentinelNetwork;
  aggregator: VerdictAggregator;
  verifier: BatchVerifier;
  chains: readonly ChainParts[];
  relay: RelayDispatcher;
  scheduler: VerificationScheduler | undefined;
  verification: CandidateVerification | undefined;
  admission: Admission;
  attestations: AttestationStore;
  follower: AttestationFollower;
  events: EventLog;
  eventStream: EventStream;
  evidence: EvidenceStore;
  monitor: Pick<InvariantMonitor, "stats">;
  webhooks: Webhooks;
  backfill: CandidateBackfill;
  humanGate?: Pick<HumanGate, "stats">;
  refusalBudget?: Pick<RefusalBudget, "stats">;
}

const IDLE_SCHEDULER = { queued: 0, running: 0, dropped: 0, retries: 0, refilled: 0, expired: 0, failed: 0, abstained: 0 };

export function metricSources(p: MetricParts): NodeMetricSources {
  const gossip = p.network.counters();
  return {
    peers: p.network.peers().length,
    gossip: { ...gossip },
    gossipByKind: p.network.countersByKind(),
    aggregator: p.aggregator.stats,
    bls: p.verifier.stats,
    relayers: p.chains.flatMap(({ chainId, relayer }) => (relayer ? [{ chainId, stats: relayer.stats() }] : [])),
    relayDispatch: p.relay.stats,
    verification: p.scheduler
      ? { queued: p.scheduler.queued, running: p.scheduler.running, ...p.scheduler.stats, abstained: p.verification?.stats.abstained ?? 0 }
      : IDLE_SCHEDULER,
    admission: p.admission.stats,
    enrollmentTargets: p.chains.map(({ chainId, enrollments }) => ({ chainId, size: enrollments.size })),
    attestations: p.attestations.stats,
    follower: p.follower.stats,
    queueDrops: {
      verification: p.scheduler?.stats.dropped ?? 0,
      gossip_validation: gossip.droppedOverload,
      event_log: p.events.stats.dropped,
      event_stream: p.eventStream.stats.cutOff,
      aggregator: p.aggregator.stats.dropped,
      gossip_peer_busy: gossip.droppedPeerBusy,
    },
    gossipPeerRefused: gossip.refusedPeer,
    rpcQuorums: p.chains.flatMap(({ chainId, quorum }) => (quorum ? [{ chainId, disagreements: Object.fromEntries(quorum.disagreements), endpointFailures: [...quorum.endpointFailures] }] : [])),
    equivocations: p.evidence.stats.recorded,
    monitor: p.monitor.stats,
    backfill: { ...p.backfill.stats, served: p.network.recentServed.served, throttled: p.network.recentServed.throttled },
    webhooks: [...p.webhooks.dispatcher.stats].map(([name, results]) => ({
      name,
      results: { ...results, dropped: p.webhooks.outbox.stats.dropped.get(name) ?? 0 },
      outbox: p.webhooks.outbox.size(name),
    })),
    ...(p.humanGate && { humanGate: { ...p.humanGate.stats } }),
    ...(p.refusalBudget && { apiRefusals: { ...p.refusalBudget.stats } }),
  };
}
