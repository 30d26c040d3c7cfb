// The node's metrics: every series GET /metrics exports, by name, in one place, in a prom-client
// Registry of the node's own (never prom-client's global one: tests run several nodes in one
// process, and each must export only its own numbers). Two kinds of series:
//  - read at scrape time from the counters the parts already keep (gossip validator, aggregator,
//    verifier, scheduler, relay), so there is no second count to keep in step;
//  - histograms and counters of things that happen, fed by the composition root: admission calls,
//    the pipeline's per-check timings, a candidate's timeline stages, and the event log's events.
// libp2p's own metrics (@libp2p/prometheus-metrics) and prom-client's default process metrics are
// registered in the same registry.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { NodeEvent } from "../events/eventLog.ts";

/** What the read-at-scrape series read: each part's own counters, as plain numbers. */
export interface NodeMetricSources {
  peers: number;
  gossip: Record<string, number>;
  /** Validation results per gossip kind (candidate, verdict, attestation) and action (accept, ignore, reject). */
  gossipByKind: Record<string, Record<string, number>>;
  aggregator: Record<string, number>;
  bls: { sets: number; batches: number; batchFailures: number };
  relayers: { chainId: number; stats: Record<"submitted" | "alreadyRecorded" | "failed" | "retries" | "refusedBusy", number> }[];
  relayDispatch: { dispatched: number; redispatched: number; done: number; refused: number; reorged: number };
  verification: { queued: number; running: number; dropped: number; retries: number; refilled: number; expired: number; failed: number; abstained: number };
  admission: { byIndex: number; byChainRead: number };
  enrollmentTargets: { chainId: number; size: number }[];
  attestations: { stored: number; duplicates: number; failures: number };
  follower: { polls: number; found: number; failures: number };
  /** Every bounded queue's drops, by queue name. */
  queueDrops: Record<string, number>;
  /** Gossip messages rejected unvalidated because their sender had spent its budget (network/peerLedger.ts). */
  gossipPeerRefused: number;
  /** Per chain read through a quorum: reads its endpoints disagreed on, by method; failed calls, by endpoint index. */
  rpcQuorums: { chainId: number; disagreements: Record<string, number>; endpointFailures: number[] }[];
  /** Equivocation proofs this node kept. */
  equivocations: number;
  /** Continuous monitoring's counters (monitoring/monitor.ts). */
  monitor: { blocks: number; readings: number; unreadable: number; alerts: number; suppressed: number };
  /** Per configured webhook: attempts and give-ups by result, events not queued (outbox full), deliveries pending. */
  webhooks: { name: string; results: Record<string, number>; outbox: number }[];
  /** Recent candidates asked of peers on (re)connection, and answered to them (candidates/backfill.ts). */
  backfill: Record<string, number>;
  /** The API's refusal budget (api/refusalBudget.ts); absent when the config turns it off. */
  apiRefusals?: { charged: number; shed: number; sourcesOver: number };
  /** The human gate's counters (candidates/humanGate.ts); absent where no gate runs. */
  humanGate?: { accepted: number; refused: number; held: number; approved: number; rejected: number };
}

/** The timeline stages whose gaps are measured (src/candidates/timelines.ts). */
type Stages = Readonly<Record<string, number | undefined>>;

type StageMetric = "verification" | "signing" | "aggregation";
type Labels = Record<string, string>;
type Sample = { labels?: Labels; value: number };

/** Seconds: admission and signing take milliseconds, a check seconds, a relay up to minutes. */
const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const SLOW_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Gas of one recordVerdict: ~150k with a fresh attestation on a registry; a new validator set costs more. */
const GAS_BUCKETS = [50_000, 100_000, 150_000, 200_000, 250_000, 300_000, 400_000, 600_000, 1_000_000];

const OUTCOMES: Record<number, string> = { 1: "approved", 2: "rejected", 3: "revoked" };

export interface NodeMetricsOptions {
  /** prom-client's default process metrics (CPU, memory, event loop lag, GC). */
  defaultMetrics: boolean;
}

export interface NodeMetricsModules {
  /** Read once per scrape. */
  sources(): NodeMetricSources;
}

export class NodeMetrics {
  readonly registry = new Registry();
  readonly #m: NodeMetricsModules;
  /** The sources of the scrape in progress: read once, then by every series. */
  #current: NodeMetricSources | undefined;
  readonly #outcomes: Record<string, number> = { approved: 0, rejected: 0, revoked: 0 };
  readonly #admission: Histogram<"source" | "result">;
  readonly #checks: Histogram<"check">;
  readonly #stages: Record<StageMetric, Histogram>;
  readonly #relay: Histogram<"chain">;
  readonly #gas: Histogram<"chain">;

  constructor(options: NodeMetricsOptions, modules: NodeMetricsModules) {
    this.#m = modules;
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.#admission = new Histogram({ name: "sentinel_admission_seconds", help: "Admission of a candidate (all its rules, chain reads included), by source (api, gossip) and result (admitted, refused).", labelNames: ["source", "result"], buckets: FAST_BUCKETS, registers });
    this.#checks = new Histogram({ name: "sentinel_verification_check_seconds", help: "Each check of the verification pipeline, by check.", labelNames: ["check"], buckets: SLOW_BUCKETS, registers });
    this.#stages = {
      verification: new Histogram({ name: "sentinel_verification_seconds", help: "A candidate's whole verification on this node: bundle loaded to verdict decided.", buckets: SLOW_BUCKETS, registers }),
      signing: new Histogram({ name: "sentinel_signing_seconds", help: "Verdict decided to signed (the signing record written and fsync'd, the BLS signature made).", buckets: FAST_BUCKETS, registers }),
      aggregation: new Histogram({ name: "sentinel_aggregation_seconds", help: "This node's verdict signed to the attestation formed (a threshold of signatures collected).", buckets: SLOW_BUCKETS, registers }),
    };
    this.#relay = new Histogram({ name: "sentinel_relay_seconds", help: "A relay job, started to its transaction's receipt, by chain.", labelNames: ["chain"], buckets: SLOW_BUCKETS, registers });
    this.#gas = new Histogram({ name: "sentinel_relay_gas_used", help: "Gas used by each attestation this node recorded, by chain.", labelNames: ["chain"], buckets: GAS_BUCKETS, registers });
    this.#defineSampled();
  }

  /** The Prometheus text exposition of every series. */
  async render(): Promise<string> {
    this.#current = this.#m.sources();
    try {
      return await this.registry.metrics();
    } finally {
      this.#current = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Times one admission call: admitted when it resolves, refused when it throws. */
  async timeAdmission<T>(source: "api" | "gossip", admit: () => Promise<T>): Promise<T> {
    const end = this.#admission.startTimer({ source });
    try {
      const admitted = await admit();
      end({ result: "admitted" });
      return admitted;
    } catch (error) {
      end({ result: "refused" });
      throw error;
    }
  }

  /** The pipeline's per-check timings of one verification, in ms. */
  observeChecks(timings: Readonly<Record<string, number | undefined>>): void {
    for (const [check, ms] of Object.entries(timings)) if (ms !== undefined) this.#checks.observe({ check }, ms / 1000);
  }

  /** A candidate's timeline just got `stage` (its first time): the gap since the stage before it. */
  observeStage(stage: string, timeline: Stages): void {
    const gap = (from: string) => {
      const start = timeline[from];
      const end = timeline[stage];
      return start === undefined || end === undefined ? undefined : Math.max(0, end - start) / 1000;
    };
    const from: Record<string, [StageMetric, string]> = { verified: ["verification", "bundleLoaded"], signed: ["signing", "verified"], attestation: ["aggregation", "signed"] };
    const measured = from[stage];
    const seconds = measured && gap(measured[1]);
    if (measured && seconds !== undefined) this.#stages[measured[0]].observe(seconds);
  }

  /** An event of the node's event log: attestations by outcome, relay latency and gas. */
  onEvent(event: NodeEvent): void {
    const data = (event.data ?? {}) as Record<string, unknown>;
    if (event.type === "attestation.formed") {
      const outcome = OUTCOMES[Number(data["outcome"])];
      if (outcome) this.#outcomes[outcome]! += 1;
    }
    if (event.type === "relay.result" && data["status"] === "submitted") {
      const chain = String(data["chainId"]);
      const { startedAt, finishedAt, gasUsed } = data as { startedAt?: number; finishedAt?: number; gasUsed?: string };
      if (typeof startedAt === "number" && typeof finishedAt === "number") this.#relay.observe({ chain }, Math.max(0, finishedAt - startedAt) / 1000);
      if (gasUsed !== undefined && Number.isFinite(Number(gasUsed))) this.#gas.observe({ chain }, Number(gasUsed));
    }
  }

  /** The series read from the parts' counters at scrape time; names kept from the hand-rendered page. */
  #defineSampled(): void {
    const byLabel = (label: string, values: Record<string, number>): Sample[] => Object.entries(values).map(([key, value]) => ({ labels: { [label]: key }, value }));
    const one = (value: number): Sample[] => [{ value }];
    const sampled = (type: "counter" | "gauge", name: string, help: string, labelNames: string[], read: (s: NodeMetricSources) => Sample[]) => {
      const current = () => this.#current;
      const Metric = type === "counter" ? Counter : Gauge;
      new Metric({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect(this: Counter | Gauge) {
          const s = current();
          if (!s) return;
          this.reset();
          for (const { labels, value } of read(s)) {
            const finite = Number.isFinite(value) ? value : 0;
            if (this instanceof Gauge) this.set(labels ?? {}, finite);
            else (this as Counter).inc(labels ?? {}, Math.max(0, finite));
          }
        },
      });
    };
    sampled("gauge", "sentinel_peers", "Connected libp2p peers.", [], (s) => one(s.peers));
    sampled("counter", "sentinel_gossip_messages_total", "Gossip messages validated, by result (oversized, handler errors, timeouts and overload are also in rejected/ignored).", ["result"], (s) => byLabel("result", s.gossip));
    sampled("counter", "sentinel_gossip_validation_total", "Gossip validation results, by topic (candidate, verdict, attestation; inboxes count as verdict) and action (accept, ignore, reject).", ["topic", "action"], (s) =>
      Object.entries(s.gossipByKind).flatMap(([topic, actions]) => Object.entries(actions).map(([action, value]) => ({ labels: { topic, action }, value }))),
    );
    sampled("counter", "sentinel_verdict_signatures_total", "Verdict signatures ingested by the aggregator, by result.", ["result"], (s) => byLabel("result", s.aggregator));
    sampled("counter", "sentinel_bls_sets_verified_total", "BLS signature sets verified.", [], (s) => one(s.bls.sets));
    sampled("counter", "sentinel_bls_batches_total", "BLS verification batches.", [], (s) => one(s.bls.batches));
    sampled("counter", "sentinel_bls_batch_failures_total", "Batches that failed and were re-verified one by one.", [], (s) => one(s.bls.batchFailures));
    sampled("counter", "sentinel_relay_jobs_total", "Relay jobs finished, by chain and outcome.", ["chain", "outcome"], (s) =>
      s.relayers.flatMap(({ chainId, stats }) => (["submitted", "alreadyRecorded", "failed", "retries", "refusedBusy"] as const).map((outcome) => ({ labels: { chain: String(chainId), outcome }, value: stats[outcome] }))),
    );
    sampled("counter", "sentinel_relay_dispatches_total", "Durable relay dispatches, by kind: first dispatches, dispatches again after a failure, done, refused by a registry, records lost to a reorg.", ["kind"], (s) => byLabel("kind", s.relayDispatch));
    sampled("gauge", "sentinel_verify_queue_length", "Candidates waiting for verification.", [], (s) => one(s.verification.queued));
    sampled("gauge", "sentinel_verify_running", "Verifications running.", [], (s) => one(s.verification.running));
    sampled("counter", "sentinel_verify_queue_events_total", "Verification queue events: dropped (queue full; refilled from the store later), retries, refilled, expired unverified, failed, abstained (this node could not observe the candidate: nothing signed, retried).", ["event"], (s) => {
      const { dropped, retries, refilled, expired, failed, abstained } = s.verification;
      return byLabel("event", { dropped, retries, refilled, expired, failed, abstained });
    });
    sampled("counter", "sentinel_candidates_admitted_total", "Candidates admitted, by where the proposer's enrollment was found (the node's index, or a chain read).", ["enrollment"], (s) => [
      { labels: { enrollment: "index" }, value: s.admission.byIndex },
      { labels: { enrollment: "chain" }, value: s.admission.byChainRead },
    ]);
    sampled("counter", "sentinel_candidates_total", "Candidates by outcome on this node: approved, rejected or revoked (an attestation formed or was received), expired (unverified before its expiry).", ["outcome"], (s) =>
      byLabel("outcome", { ...this.#outcomes, expired: s.verification.expired }),
    );
    sampled("counter", "sentinel_queue_drops_total", "Items dropped by a bounded queue, by queue: verification (refilled later), gossip_validation (overload: ignored), event_log (database stuck), event_stream (slow clients cut off; they resume), aggregator (oldest candidates forgotten), gossip_peer_busy (a peer's share of validations in flight: ignored).", ["queue"], (s) => byLabel("queue", s.queueDrops));
    sampled("counter", "sentinel_gossip_peer_refused_total", "Gossip messages rejected before validation: their sender had spent its budget of refused or useless messages.", [], (s) => one(s.gossipPeerRefused));
    sampled("counter", "sentinel_rpc_disagreements_total", "Reads of a chain's endpoints that did not reach their quorum because the endpoints answered differently (the read failed; the node abstains rather than trust one), by chain and method.", ["chain", "method"], (s) =>
      s.rpcQuorums.flatMap(({ chainId, disagreements }) => Object.entries(disagreements).map(([method, value]) => ({ labels: { chain: String(chainId), method }, value }))),
    );
    sampled("counter", "sentinel_rpc_endpoint_failures_total", "Calls to one of a chain's quorum endpoints that got no answer (down, timed out, not JSON-RPC), by chain and endpoint index (never its URL).", ["chain", "endpoint"], (s) =>
      s.rpcQuorums.flatMap(({ chainId, endpointFailures }) => endpointFailures.map((value, endpoint) => ({ labels: { chain: String(chainId), endpoint: String(endpoint) }, value }))),
    );
    sampled("counter", "sentinel_equivocations_total", "Equivocation proofs kept: a validator signed two different verdicts for one candidate (GET /v1/evidence).", [], (s) => one(s.equivocations));
    sampled("counter", "sentinel_monitor_events_total", "Continuous monitoring: new blocks read, invariant readings, readings that could not be taken (no answer: never a breach), alerts raised, breaks suppressed as part of an ongoing episode (GET /v1/monitoring).", ["event"], (s) =>
      byLabel("event", s.monitor),
    );
    sampled("counter", "sentinel_webhook_deliveries_total", "Webhook delivery attempts and their ends, by webhook (its config name, never its URL) and result: delivered (2xx), failed (no answer, timeout, 5xx, 408, 429, a redirect: retried with backoff), refused (another 4xx: dropped), expired (not delivered within its maximum age: given up), dropped (the outbox was full: never queued).", ["webhook", "result"], (s) =>
      s.webhooks.flatMap(({ name, results }) => Object.entries(results).map(([result, value]) => ({ labels: { webhook: name, result }, value }))),
    );
    sampled("gauge", "sentinel_webhook_outbox", "Webhook deliveries pending in the outbox, by webhook.", ["webhook"], (s) => s.webhooks.map(({ name, outbox }) => ({ labels: { webhook: name }, value: outbox })));
    sampled("counter", "sentinel_candidate_backfill_total", "Recent candidates asked of a peer after a connection opened (candidates/backfill.ts), by event: requests, failures, skipped (asked too recently, or too many in flight), received, admitted (gossip had not brought them), refused (admission rejected them), and answers to peers: served, throttled.", ["event"], (s) =>
      byLabel("event", s.backfill),
    );
    sampled("counter", "sentinel_human_gate_events_total", "The human approval gate (docs/approvals.md): approvals accepted (counted), refused (invalid, or not for this report), held (arrived before this node's report), and candidates approved at the threshold or rejected when the window closed.", ["event"], (s) =>
      s.humanGate ? byLabel("event", s.humanGate) : [],
    );
    sampled("counter", "sentinel_api_refusals_total", "API requests refused and charged to their client's address (charged), answered 429 unread because the address was over its refusal budget (shed), and times an address went over it (sources_over) (docs/node.md#http-api).", ["result"], (s) =>
      s.apiRefusals ? byLabel("result", { charged: s.apiRefusals.charged, shed: s.apiRefusals.shed, sources_over: s.apiRefusals.sourcesOver }) : [],
    );
    sampled("gauge", "sentinel_enrollment_index_targets", "Enrolled targets in the node's enrollment index.", ["chain"], (s) => s.enrollmentTargets.map(({ chainId, size }) => ({ labels: { chain: String(chainId) }, value: size })));
    sampled("counter", "sentinel_attestations_total", "Attestations accepted by the store, by result.", ["result"], (s) => byLabel("result", s.attestations));
    sampled("counter", "sentinel_recorded_attestations_found_total", "Attestations read back from the chains' VerdictRecorded logs (history, and what this node missed).", [], (s) => one(s.follower.found));
    sampled("counter", "sentinel_recorded_attestations_read_failures_total", "Polls of a chain's recorded attestations that failed (retried at the next poll).", [], (s) => one(s.follower.failures));
  }
}
