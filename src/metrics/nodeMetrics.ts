// The node's metric definitions: every series /metrics exports, by name, in one place. The
// counters live where the work happens (gossip validator, aggregator, verifier, scheduler,
// relay); each source is read when the page is rendered.
import type { Metric } from "./prometheus.ts";

/** What the metrics read: each part's own counters, as plain numbers. */
export interface NodeMetricSources {
  peers: number;
  gossip: Record<string, number>;
  aggregator: Record<string, number>;
  bls: { sets: number; batches: number; batchFailures: number };
  relayers: { chainId: number; stats: Record<"submitted" | "alreadyRecorded" | "failed" | "retries" | "refusedBusy", number> }[];
  relayDispatch: { dispatched: number; redispatched: number; done: number; refused: number; reorged: number };
  verification: { queued: number; running: number; dropped: number; retries: number; refilled: number; expired: number; failed: number; abstained: number };
  admission: { byIndex: number; byChainRead: number };
  enrollmentTargets: { chainId: number; size: number }[];
  attestations: { stored: number; duplicates: number; failures: number };
  follower: { polls: number; found: number; failures: number };
}

export function nodeMetrics(s: NodeMetricSources): Metric[] {
  const one = (value: number) => [{ value }];
  const byLabel = (label: string, values: Record<string, number>) => Object.entries(values).map(([key, value]) => ({ labels: { [label]: key }, value }));
  return [
    { name: "sentinel_peers", help: "Connected libp2p peers.", type: "gauge", samples: one(s.peers) },
    {
      name: "sentinel_gossip_messages_total",
      help: "Gossip messages validated, by result (oversized, handler errors, timeouts and overload are also in rejected/ignored).",
      type: "counter",
      samples: byLabel("result", s.gossip),
    },
    { name: "sentinel_verdict_signatures_total", help: "Verdict signatures ingested by the aggregator, by result.", type: "counter", samples: byLabel("result", s.aggregator) },
    { name: "sentinel_bls_sets_verified_total", help: "BLS signature sets verified.", type: "counter", samples: one(s.bls.sets) },
    { name: "sentinel_bls_batches_total", help: "BLS verification batches.", type: "counter", samples: one(s.bls.batches) },
    { name: "sentinel_bls_batch_failures_total", help: "Batches that failed and were re-verified one by one.", type: "counter", samples: one(s.bls.batchFailures) },
    {
      name: "sentinel_relay_jobs_total",
      help: "Relay jobs finished, by chain and outcome.",
      type: "counter",
      samples: s.relayers.flatMap(({ chainId, stats }) =>
        (["submitted", "alreadyRecorded", "failed", "retries", "refusedBusy"] as const).map((outcome) => ({ labels: { chain: String(chainId), outcome }, value: stats[outcome] })),
      ),
    },
    {
      name: "sentinel_relay_dispatches_total",
      help: "Durable relay dispatches, by kind: first dispatches, dispatches again after a failure, done, refused by a registry, records lost to a reorg.",
      type: "counter",
      samples: byLabel("kind", s.relayDispatch),
    },
    { name: "sentinel_verify_queue_length", help: "Candidates waiting for verification.", type: "gauge", samples: one(s.verification.queued) },
    { name: "sentinel_verify_running", help: "Verifications running.", type: "gauge", samples: one(s.verification.running) },
    {
      name: "sentinel_verify_queue_events_total",
      help: "Verification queue events: dropped (queue full; refilled from the store later), retries, refilled, expired unverified, failed, abstained (this node could not observe the candidate: nothing signed, retried).",
      type: "counter",
      samples: byLabel("event", {
        dropped: s.verification.dropped,
        retries: s.verification.retries,
        refilled: s.verification.refilled,
        expired: s.verification.expired,
        failed: s.verification.failed,
        abstained: s.verification.abstained,
      }),
    },
    {
      name: "sentinel_candidates_admitted_total",
      help: "Candidates admitted, by where the proposer's enrollment was found (the node's index, or a chain read).",
      type: "counter",
      samples: [
        { labels: { enrollment: "index" }, value: s.admission.byIndex },
        { labels: { enrollment: "chain" }, value: s.admission.byChainRead },
      ],
    },
    {
      name: "sentinel_enrollment_index_targets",
      help: "Enrolled targets in the node's enrollment index.",
      type: "gauge",
      samples: s.enrollmentTargets.map(({ chainId, size }) => ({ labels: { chain: String(chainId) }, value: size })),
    },
    { name: "sentinel_attestations_total", help: "Attestations accepted by the store, by result.", type: "counter", samples: byLabel("result", s.attestations) },
    { name: "sentinel_recorded_attestations_found_total", help: "Attestations read back from the chains' VerdictRecorded logs (history, and what this node missed).", type: "counter", samples: one(s.follower.found) },
    { name: "sentinel_recorded_attestations_read_failures_total", help: "Polls of a chain's recorded attestations that failed (retried at the next poll).", type: "counter", samples: one(s.follower.failures) },
  ];
}
