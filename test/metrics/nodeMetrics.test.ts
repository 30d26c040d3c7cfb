import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { register } from "prom-client";
import { NodeMetrics, type NodeMetricSources } from "../../src/metrics/nodeMetrics.ts";

const sources = (peers = 3): NodeMetricSources => ({
  peers,
  gossip: { accepted: 5, ignored: 1, rejected: 0 },
  gossipByKind: { candidate: { accept: 2, ignore: 1, reject: 0 }, verdict: { accept: 3, ignore: 0, reject: 0 } },
  aggregator: { accepted: 2, rejected: 0, ignored: 0, dropped: 0 },
  bls: { sets: 4, batches: 2, batchFailures: 0 },
  relayers: [{ chainId: 31337, stats: { submitted: 1, alreadyRecorded: 0, failed: 0, retries: 0, refusedBusy: 0 } }],
  relayDispatch: { dispatched: 1, redispatched: 0, done: 1, refused: 0, reorged: 0 },
  verification: { queued: 0, running: 0, dropped: 2, retries: 0, refilled: 0, expired: 1, failed: 0, abstained: 0 },
  admission: { byIndex: 1, byChainRead: 0 },
  enrollmentTargets: [{ chainId: 31337, size: 2 }],
  attestations: { stored: 1, duplicates: 0, failures: 0 },
  follower: { polls: 3, found: 0, failures: 0 },
  queueDrops: { verification: 2, gossip_validation: 0, event_log: 0, event_stream: 1, aggregator: 0 },
  gossipPeerRefused: 7,
  rpcQuorums: [{ chainId: 31339, disagreements: { eth_getCode: 2 }, endpointFailures: [0, 4] }],
  equivocations: 1,
  monitor: { blocks: 4, readings: 8, unreadable: 1, alerts: 1, suppressed: 2 },
  backfill: { requests: 2, admitted: 1 },
  webhooks: [{ name: "ops", results: { delivered: 3, failed: 2, refused: 0, expired: 0, dropped: 1 }, outbox: 4 }],
  humanGate: { accepted: 2, refused: 1, held: 0, approved: 1, rejected: 0 },
});

describe("NodeMetrics", () => {
  it("reads the parts' counters at scrape time, under the names the hand-rendered page had", async () => {
    let peers = 3;
    const metrics = new NodeMetrics({ defaultMetrics: false }, { sources: () => sources(peers) });
    let text = await metrics.render();
    assert.match(text, /^# TYPE sentinel_peers gauge$/m);
    assert.match(text, /^sentinel_peers 3$/m);
    assert.match(text, /^sentinel_gossip_messages_total\{result="accepted"\} 5$/m);
    assert.match(text, /^sentinel_gossip_validation_total\{topic="verdict",action="accept"\} 3$/m);
    assert.match(text, /^sentinel_gossip_peer_refused_total 7$/m);
    assert.match(text, /^sentinel_rpc_disagreements_total\{chain="31339",method="eth_getCode"\} 2$/m);
    assert.match(text, /^sentinel_rpc_endpoint_failures_total\{chain="31339",endpoint="1"\} 4$/m);
    assert.match(text, /^sentinel_equivocations_total 1$/m);
    assert.match(text, /^sentinel_monitor_events_total\{event="alerts"\} 1$/m);
    assert.match(text, /^sentinel_human_gate_events_total\{event="accepted"\} 2$/m);
    assert.match(text, /^sentinel_monitor_events_total\{event="unreadable"\} 1$/m);
    assert.match(text, /^sentinel_relay_jobs_total\{chain="31337",outcome="submitted"\} 1$/m);
    assert.match(text, /^sentinel_queue_drops_total\{queue="event_stream"\} 1$/m);
    assert.match(text, /^sentinel_candidates_total\{outcome="expired"\} 1$/m);
    assert.match(text, /^sentinel_enrollment_index_targets\{chain="31337"\} 2$/m);
    peers = 1;
    text = await metrics.render();
    assert.match(text, /^sentinel_peers 1$/m, "read as it is at each scrape, not summed");
  });

  it("observes admission, per-check, stage, relay latency and gas histograms", async () => {
    const metrics = new NodeMetrics({ defaultMetrics: false }, { sources: () => sources() });
    await metrics.timeAdmission("api", async () => 1);
    await assert.rejects(metrics.timeAdmission("gossip", async () => Promise.reject(new Error("refused"))));
    metrics.observeChecks({ bytecode: 1200, storageLayout: undefined });
    metrics.observeStage("verified", { bundleLoaded: 1000, verified: 3000 });
    metrics.observeStage("signed", { verified: 3000, signed: 3004 });
    metrics.observeStage("attestation", { signed: 3004, attestation: 3500 });
    metrics.observeStage("attestation", { attestation: 3500 });
    const event = (type: string, data: object) => ({ id: 1, type, at: 0, candidateId: "0x", data }) as never;
    metrics.onEvent(event("attestation.formed", { outcome: 1 }));
    metrics.onEvent(event("relay.result", { status: "submitted", chainId: 31337, startedAt: 1000, finishedAt: 1800, gasUsed: "151234" }));
    metrics.onEvent(event("relay.result", { status: "already-recorded", chainId: 31338 }));
    const text = await metrics.render();
    assert.match(text, /^sentinel_admission_seconds_count\{source="api",result="admitted"\} 1$/m);
    assert.match(text, /^sentinel_admission_seconds_count\{source="gossip",result="refused"\} 1$/m);
    assert.match(text, /^sentinel_verification_check_seconds_sum\{check="bytecode"\} 1.2$/m);
    assert.doesNotMatch(text, /check="storageLayout"/);
    assert.match(text, /^sentinel_verification_seconds_sum 2$/m);
    assert.match(text, /^sentinel_signing_seconds_sum 0.004$/m);
    assert.match(text, /^sentinel_aggregation_seconds_count 1$/m);
    assert.match(text, /^sentinel_candidates_total\{outcome="approved"\} 1$/m);
    assert.match(text, /^sentinel_relay_seconds_sum\{chain="31337"\} 0.8$/m);
    assert.match(text, /^sentinel_relay_gas_used_bucket\{le="200000",chain="31337"\} 1$/m);
    assert.doesNotMatch(text, /chain="31338"/);
  });

  it("keeps each node's series in its own registry, never the global one", async () => {
    const a = new NodeMetrics({ defaultMetrics: true }, { sources: () => sources(1) });
    const b = new NodeMetrics({ defaultMetrics: true }, { sources: () => sources(2) });
    assert.match(await a.render(), /^sentinel_peers 1$/m);
    assert.match(await b.render(), /^sentinel_peers 2$/m);
    assert.match(await b.render(), /^process_cpu_user_seconds_total /m);
    assert.equal(register.getSingleMetric("sentinel_peers"), undefined);
  });
});
