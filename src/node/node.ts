// The composition root: builds every part of a node from its config, wires them together, starts
// them, and closes them in reverse, also when a start fails half-way. No protocol logic lives
// here; docs/architecture.md shows the parts and the path of one candidate through them.
//   candidate (API or gossip) -> Intake (admission, store) -> VerificationScheduler ->
//   CandidateVerification (bundle, pipeline worker) -> Signer (signing record first) -> verdict
//   to the aggregators -> VerdictAggregator -> AttestationStore -> RelayDispatcher (durable) ->
//   every chain's registry. AttestationFollower reads back what the chains recorded (history, and
//   whatever this node missed while away).
import { join } from "node:path";
import type { PublicKey } from "@chainsafe/blst";
import type { Logger } from "pino";
import type { Hex } from "viem";
import { Admission, DEFAULT_ADMISSION } from "../admission/admission.ts";
import { NodeApi } from "../api/backend.ts";
import { EventStream } from "../api/eventStream.ts";
import { startApiServer, type ApiServer } from "../api/server.ts";
import { OVER_BUDGET, RefusalBudget } from "../api/refusalBudget.ts";
import type { Json } from "../util/json.ts";
import { AttestationStore } from "../attestations/attestationStore.ts";
import { AttestationFollower } from "../attestations/follower.ts";
import { RelayDispatcher } from "../attestations/relayDispatcher.ts";
import { BundleSource } from "../candidates/bundleSource.ts";
import { ApprovalStore } from "../candidates/approvalStore.ts";
import { CandidateStore } from "../candidates/candidateStore.ts";
import { HumanGate } from "../candidates/humanGate.ts";
import { isValidContractSignature } from "../chains/erc1271.ts";
import { Intake } from "../candidates/intake.ts";
import { CandidateBackfill } from "../candidates/backfill.ts";
import { RecentCandidates } from "../candidates/recent.ts";
import { peerIdFromString } from "@libp2p/peer-id";
import { ownedCandidates, resumeCandidates } from "../candidates/resume.ts";
import { VerificationScheduler } from "../candidates/scheduler.ts";
import { CandidateTimelines } from "../candidates/timelines.ts";
import { CandidateVerification } from "../candidates/verification.ts";
import { EnrollmentCache } from "../chains/enrollmentCache.ts";
import { recordState } from "../chains/registryRecords.ts";
import type { NodeConfig } from "../config/schema.ts";
import { VerdictAggregator } from "../consensus/aggregator.ts";
import { BatchVerifier } from "../consensus/batchVerifier.ts";
import { CandidateDuties, DEFAULT_DUTIES } from "../consensus/duties.ts";
import { DEFAULT_BROADCAST_AFTER_MS, Signer } from "../consensus/signer.ts";
import { SigningRecord } from "../consensus/signingRecord.ts";
import { readRotationApprovals, RotationSigner } from "../consensus/rotationSigner.ts";
import { publicKeyRaw } from "../crypto/bls.ts";
import { loadSecretKey, resolvePassword } from "../crypto/keystore.ts";
import { loadRelayerKey } from "../crypto/secp256k1.ts";
import { Database } from "../db/database.ts";
import { EventLog } from "../events/eventLog.ts";
import { createWebhooks, readWebhookSecrets } from "../notifications/webhooks.ts";
import { NodeMetrics } from "../metrics/nodeMetrics.ts";
import { killOrphanedAnvils } from "../verify/shadow/anvil.ts";
import { SentinelNetwork } from "../network/index.ts";
import { VERIFICATION_NICENESS } from "../verify/priority.ts";
import { WorkerRecovery } from "../crypto/signerRecovery.ts";
import { systemClock, type Clock } from "../util/clock.ts";
import { Closer } from "../util/closer.ts";
import { buildChainParts, type ChainParts } from "./chainParts.ts";
import { EvidenceStore } from "../consensus/evidenceStore.ts";
import { gossipHandlers } from "./gossipHandlers.ts";
import { DEFAULT_SET_WATCH_INTERVAL_MS, SetWatcher } from "./setWatcher.ts";
import { metricSources } from "./metricSources.ts";
import { loadOrCreateP2pKey } from "./p2pKey.ts";
import { PipelineWorker } from "../verify/worker/pipelineWorker.ts";
import { ApprovalSource, signRevocation } from "../monitoring/approvals.ts";
import { rpcLiveChain } from "../monitoring/liveChain.ts";
import { InvariantMonitor } from "../monitoring/monitor.ts";

/**
 * Each check gets this long before it ends in a CHECK_TIMED_OUT finding: a cold compile of a
 * large contract in solc-js takes seconds, and a shadow fork waits on the chain's RPC.
 */
const CHECK_TIMEOUT_MS = 60_000;
/** How long stop() waits for relay dispatches in flight to write their outcome. */
const RELAY_DRAIN_MS = 5_000;

export interface NodeModules {
  logger: Logger;
  clock?: Clock;
  /** A rotation activated on the registry the node read its set from: restart it (`sentinel node start` does). */
  onValidatorSetChanged?(setIndex: number): void;
}

/** What a node is made of, once started: kept for the few accessors callers use. */
interface Started {
  network: SentinelNetwork;
  api: ApiServer;
}

export class SentinelNode {
  readonly #started: Started;
  readonly #closer: Closer;
  readonly #log: Logger;
  #stopping: Promise<void> | undefined;

  private constructor(started: Started, closer: Closer, log: Logger) {
    this.#started = started;
    this.#closer = closer;
    this.#log = log;
  }

  get apiUrl(): string {
    return this.#started.api.url;
  }

  get peerId(): string {
    return this.#started.network.peerId.toString();
  }

  multiaddrs(): string[] {
    return this.#started.network.multiaddrs().map((address) => address.toString());
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#closer.closeAll().then(() => this.#log.info("node stopped"));
    return this.#stopping;
  }

  /**
   * Starts a node: keys, chains and the validator set are read first, so a bad password, key
   * file or chain stops it before anything is written; then the data directory is opened
   * (refusing one another process holds), then every part. If any step fails, every part
   * already started is closed, in reverse, before the error is thrown.
   */
  static async start(config: NodeConfig, modules: NodeModules): Promise<SentinelNode> {
    const log = modules.logger;
    const clock = modules.clock ?? systemClock;
    const now = () => new Date(clock.now());
    const secretKey = await loadSecretKey(config.validator.keystore, resolvePassword(config.validator));
    const relayerKey = config.relayer.enabled ? loadRelayerKey(config.relayer.privateKeyFile) : undefined;
    const webhookSecrets = readWebhookSecrets(config.notifications);

    const closer = new Closer(log);
    const chains: ChainParts[] = [];
    let set: Awaited<ReturnType<ChainParts["reader"]["currentValidatorSet"]>>;
    let db: Database;
    try {
      for (const chain of config.chains) {
        const parts = await buildChainParts(chain, relayerKey, log, clock);
        chains.push(parts);
        if (parts.quorum) closer.add(`rpc quorum ${chain.chainId}`, () => parts.quorum!.stop());
      }
      // Every chain's registry holds the same set; the first configured chain is read.
      set = await chains[0]!.reader.currentValidatorSet();
      db = await Database.open(config.dataDir);
    } catch (error) {
      await closer.closeAll();
      throw error;
    }
    const ownKey = Buffer.from(publicKeyRaw(secretKey.toPublicKey()));
    const found = set.keys.findIndex((key: PublicKey) => ownKey.equals(Buffer.from(publicKeyRaw(key))));
    const validatorIndex = found >= 0 ? found : undefined;
    closer.add("database", () => db.close());
    try {
      // Holding the data directory, this process is the only one whose forks are recorded there.
      const forkRecordDir = join(config.dataDir, "shadow-forks");
      const orphans = killOrphanedAnvils(forkRecordDir);
      if (orphans > 0) log.warn({ killed: orphans }, "killed shadow forks the last run of this data directory left running");

      // The network is built last (its handlers need the parts); parts reach it through this.
      let network: SentinelNetwork | undefined;
      const net = () => {
        if (!network) throw new Error("the network is not started yet");
        return network;
      };

      const webhooks = createWebhooks(
        config.notifications,
        { nodeKey: ownKey.toString("hex"), nodeName: config.name },
        { db, clock, logger: log.child({ module: "webhooks" }), secrets: webhookSecrets },
      );
      await webhooks.outbox.open();
      const events = new EventLog({}, { db, clock, logger: log, recorders: [webhooks.outbox] });
      await events.open();
      webhooks.dispatcher.start();
      // Closed after the event log is flushed (closers run in reverse): the last events' deliveries are queued, then left for the next start.
      closer.add("webhooks", () => webhooks.dispatcher.stop());
      closer.add("event log", () => events.flush());
      // Its sources are read at scrape time, once every part exists (the API serves only then).
      let sources: (() => ReturnType<typeof metricSources>) | undefined;
      const metrics = new NodeMetrics({ defaultMetrics: true }, { sources: () => sources!() });
      const unsubscribeMetrics = events.subscribe((event) => metrics.onEvent(event));
      closer.add("metrics", () => void unsubscribeMetrics());
      const verifier = new BatchVerifier();
      closer.add("bls verifier", () => verifier.flush());
      const signingRecord = new SigningRecord(db);
      const rotations = new RotationSigner(
        { networkId: config.networkId },
        {
          secretKey,
          record: signingRecord,
          currentSets: () => Promise.all(chains.map((chain) => chain.reader.currentValidatorSet())),
          approvals: async () => readRotationApprovals(config.validator.rotationApprovals),
          clock,
        },
      );
      const setWatcher = new SetWatcher(
        { setIndex: set.index, intervalMs: DEFAULT_SET_WATCH_INTERVAL_MS },
        {
          currentSetIndex: async () => (await chains[0]!.reader.currentValidatorSet()).index,
          onChanged: (index) => modules.onValidatorSetChanged?.(index),
          clock,
          logger: log,
        },
      );
      setWatcher.start();
      closer.add("set watcher", () => setWatcher.stop());
      const timelines = new CandidateTimelines();
      const mark = (id: Hex, stage: Parameters<CandidateTimelines["mark"]>[1], at = clock.now()) => {
        const first = timelines.get(id)[stage] === undefined;
        timelines.mark(id, stage, at);
        if (first) metrics.observeStage(stage, timelines.get(id));
      };
      const candidates = new CandidateStore({}, { db });
      const recent = new RecentCandidates({}, { clock });
      await recent.seed(candidates);
      const enrollmentCache = new EnrollmentCache({}, { indexes: new Map(chains.map((chain) => [chain.chainId, chain.enrollments])), clock });
      const recovery = new WorkerRecovery();
      closer.add("signer recovery", () => recovery.close());
      const admission = new Admission(
        { networkId: config.networkId, ...DEFAULT_ADMISSION, chainIds: new Set(chains.map((chain) => BigInt(chain.chainId))) },
        {
          enrollment: (chainId, target) => enrollmentCache.enrollmentOf(chainId, target),
          indexedEnrollment: (chainId, target) => enrollmentCache.lookup(chainId, target),
          isKnown: (id) => candidates.has(id),
          now,
          recovery,
        },
      );
      const pipeline = new PipelineWorker(
        { compileCacheDir: config.verification.compileCacheDir, forkRecordDir, niceness: VERIFICATION_NICENESS, checkTimeoutMs: CHECK_TIMEOUT_MS },
        { enrollment: (job) => enrollmentCache.proposerEnrollment(job.candidate.chainId, job.candidate.target, job.proposer), logger: log },
      );
      closer.add("pipeline worker", () => pipeline.close());

      const duties = new CandidateDuties(
        { setSize: set.keys.length, validatorIndex, ...DEFAULT_DUTIES },
        { reachesInbox: (index) => network?.reachesInbox(index) ?? false },
      );
      const relayChains = chains.flatMap(({ chainId, confirmations, client, registry, relayer }) =>
        relayer
          ? [{ chainId, confirmations, relay: relayer.relay.bind(relayer), forget: relayer.forget.bind(relayer), timesOf: relayer.timesOf.bind(relayer), recordState: (digest: Hex) => recordState({ client, registry, confirmations }, digest) }]
          : [],
      );
      const relay = new RelayDispatcher({}, { db, chains: relayChains, rankOf: (id) => duties.relayRank(id), events, clock, logger: log.child({ module: "relay" }) });
      const anticipateRelay = (id: Hex) => {
        if (duties.relayRank(id) === 0) for (const chain of chains) void chain.relayer?.anticipate();
      };
      // Registered before the relayers: closed after them, once their jobs have ended.
      closer.add("relay drain", () => Promise.race([relay.whenIdle(), new Promise((resolve) => setTimeout(resolve, RELAY_DRAIN_MS).unref())]));
      for (const chain of chains) if (chain.relayer) closer.add(`relayer ${chain.chainId}`, () => chain.relayer!.stop());

      const follower = new AttestationFollower(
        { networkId: config.networkId },
        {
          chains,
          accept: (attestation, digest, recordedOn) => attestations.accept(attestation, digest, "chain", recordedOn),
          hasAttestation: (id) => attestations.has(id),
          clock,
          logger: log.child({ module: "follower" }),
        },
      );
      const attestations = new AttestationStore(
        {},
        {
          db,
          relay,
          duties,
          events,
          publish: async (bytes) => void (await net().publish("attestation", bytes)),
          onAccepted: (id) => mark(id, "attestation"),
          clock,
          logger: log,
        },
      );
      const evidence = new EvidenceStore({}, { db, events, logger: log });
      const aggregator = new VerdictAggregator(
        { networkId: config.networkId, set },
        {
          verifier,
          // The store never rejects: it logs and counts its own failures.
          onAttestation: (attestation, digest) => void attestations.accept(attestation, digest, "aggregated"),
          onEvidence: (proof) => void evidence.record(proof),
        },
      );

      // Approvals are taken, checked and stored by every node; only a validator's are ever signed on.
      const humanGate = new HumanGate(
        { networkId: config.networkId },
        {
          store: new ApprovalStore({}, { db }),
          hasCandidate: (id) => candidates.has(id),
          sign: async (admitted, verdict) => verification?.sign(admitted, verdict),
          publish: async (bytes) => void (await net().publish("approval", bytes)),
          isValidSignature: (chainId, wallet, hash, signature) => {
            const chain = chains.find((parts) => parts.chainId === chainId);
            if (!chain) throw new Error(`chain ${chainId} is not served`);
            return isValidContractSignature(chain, wallet, hash, signature);
          },
          clock,
          logger: log.child({ module: "human-gate" }),
        },
      );
      closer.add("human gate", () => humanGate.stop());
      let scheduler: VerificationScheduler | undefined;
      let verification: CandidateVerification | undefined;
      let signer: Signer | undefined;
      if (validatorIndex !== undefined) {
        signer = new Signer(
          { networkId: config.networkId, setIndex: set.index, validatorIndex, broadcastAfterMs: DEFAULT_BROADCAST_AFTER_MS },
          {
            record: signingRecord,
            sign: (digest) => secretKey.sign(digest).toBytes(true),
            ingest: (message) => aggregator.ingest(message),
            duties,
            network: {
              publish: async (bytes) => void (await net().publish("verdict", bytes)),
              sendToInbox: async (index, bytes) => void (await net().sendToInbox(index, bytes)),
            },
            hasAttestation: (id) => attestations.has(id),
            clock,
            logger: log,
          },
        );
        closer.add("signer", () => signer!.stop());
        verification = new CandidateVerification(
          {},
          {
            networkId: config.networkId,
            store: candidates,
            bundles: new BundleSource({}, { store: candidates, network: { peers: () => net().peers(), fetchBundle: (peer, hash) => net().fetchBundle(peer, hash) } }),
            pipeline: {
              verify: async (job) => {
                const result = await pipeline.verify(job);
                metrics.observeChecks(result.timings);
                return result;
              },
            },
            chains: new Map(chains.map(({ chainId, rpcUrl, registry }) => [chainId, { chainId, rpcUrl, registry }])),
            signer: signer!,
            humanGate,
            mark,
            onSigned: anticipateRelay,
            events,
            clock,
            logger: log,
          },
        );
        scheduler = new VerificationScheduler(
          {},
          { run: (admitted) => verification!.run(admitted), backlog: () => ownedCandidates({ candidates, attestations, clock }), clock, logger: log },
        );
        closer.add("verification scheduler", () => scheduler!.stop());
      }

      // Approved code, watched on every new block; a breach is signed as a revocation (validators only).
      const monitorRpc = new AbortController();
      const approvals = new ApprovalSource({}, { networkId: config.networkId, attestations, candidates, nowSeconds: () => BigInt(Math.floor(clock.now() / 1000)) });
      const monitor = new InvariantMonitor(
        { pollMs: config.monitoring.pollMs, cooldownBlocks: config.monitoring.cooldownBlocks },
        {
          approvals: () => approvals.list(),
          chains: new Map(chains.map(({ chainId, rpcUrl, confirmations }) => [chainId, rpcLiveChain(rpcUrl, confirmations, monitorRpc.signal)])),
          onBreach: async (breach) => {
            if (signer) await signRevocation({ networkId: config.networkId, attestations, signer, events }, breach);
          },
          events,
          clock,
          logger: log.child({ module: "monitor" }),
        },
      );

      const intake = new Intake(
        {},
        {
          admission: {
            admit: (json, claim) => metrics.timeAdmission("api", () => admission.admit(json, claim)),
            admitBytes: (bytes) => metrics.timeAdmission("gossip", () => admission.admitBytes(bytes)),
          },
          store: candidates,
          publish: async (bytes) => void (await net().publish("candidate", bytes)),
          onAdmitted: (admitted, source, receivedAt) => {
            const { chainId, target, implementation } = admitted.signed.candidate;
            events.emit("candidate.admitted", admitted.id, { source, chainId: chainId.toString(), target, implementation, proposer: admitted.proposer });
            if (receivedAt !== undefined) mark(admitted.id, "received", receivedAt);
            mark(admitted.id, "admitted");
            anticipateRelay(admitted.id);
            recent.add(admitted);
            scheduler?.enqueue(admitted);
          },
          clock,
          logger: log,
        },
      );

      const backfill = new CandidateBackfill(
        {},
        {
          fetch: (peer) => net().fetchRecentCandidates(peerIdFromString(peer)),
          admit: (payload, from) => intake.fromGossip(payload, from),
          clock,
          logger: log.child({ module: "backfill" }),
        },
      );
      network = await SentinelNetwork.create(
        {
          networkId: config.networkId,
          listen: [...config.p2p.listen],
          bootstrap: [...config.p2p.bootstrap],
          privateKey: await loadOrCreateP2pKey(config.dataDir),
          // Each verdict reaches its aggregators straight from its signer (flood publish to their
          // inboxes in a fully connected committee); relaying it again would only send duplicates.
          // A node that misses verdicts still gets the attestation, which is forwarded as usual.
          noForward: ["verdict"],
          inboxes: set.keys.length,
          ...(validatorIndex !== undefined && { inbox: validatorIndex }),
        },
        {
          handlers: gossipHandlers({ networkId: config.networkId, set }, { intake, aggregator, attestations, humanGate }),
          bundles: { get: (hash) => candidates.bundleBytes(hash) },
          logger: log,
          metricsRegistry: metrics.registry,
          recentCandidates: recent,
          onPeerConnected: (peer) => backfill.connected(peer.toString()),
        },
      );
      const started = network;
      closer.add("network", () => started.stop());
      closer.add("candidate backfill", () => backfill.stop());
      const eventStream = new EventStream({}, { log: events });
      const { refusalBudget: budgetConfig, ...apiAddress } = config.api;
      const refusalBudget = budgetConfig ? new RefusalBudget(budgetConfig, { clock, onOver: (source) => log.warn({ source }, OVER_BUDGET) }) : undefined;
      sources = () => metricSources({ network: started, aggregator, verifier, chains, relay, scheduler, verification, admission, attestations, follower, events, eventStream, evidence, monitor, webhooks, backfill, humanGate, ...(refusalBudget && { refusalBudget }) });

      const api = await startApiServer(
        { ...apiAddress, ...(refusalBudget && { refusalBudget }) },
        new NodeApi(
          {},
          {
            submit: (body) => intake.submit(body),
            humanGate,
            rotations,
            candidates,
            attestations,
            relay,
            signingRecord,
            timelines,
            events: eventStream,
            evidence,
            monitoring: () => ({ stats: monitor.stats, ...monitor.state() }) as unknown as Json,
            verdictsSeen: (id) => aggregator.signersOf(id) as unknown as Json,
            chains: chains.map(({ chainId, client, relayer, health }) => ({
              chainId,
              liveRelay: (id: Hex) => relayer?.status(id).at(-1),
              reachable: () =>
                client.getBlockNumber().then(
                  () => (health.up(), true),
                  (error: unknown) => (health.down(error), false),
                ),
              health: () => health.status,
            })),
            network: { peerId: () => started.peerId.toString(), peers: () => started.peers(), scoreOf: (peer) => started.scoreOf(peer), counters: () => ({ ...started.counters() }) },
            identity: { name: config.name, validatorIndex: validatorIndex ?? null, setIndex: set.index },
            validatorSet: { threshold: set.threshold, publicKeys: set.keys.map((key: PublicKey) => `0x${Buffer.from(key.toBytes(true)).toString("hex")}`) },
            recentCandidates: (limit) => events.recentCandidates(limit),
            expectsPeers: config.p2p.bootstrap.length > 0,
            healthExtra: () => ({ aggregator: aggregator.stats, verifier: verifier.stats }),
            metrics: () => metrics.render(),
          },
        ),
      );
      closer.add("api", () => api.close());

      for (const chain of chains) {
        chain.enrollments.start();
        closer.add(`enrollments ${chain.chainId}`, () => chain.enrollments.stop());
      }
      closer.add("relay dispatcher", () => relay.stop());
      await relay.start();
      await resumeCandidates({ candidates, attestations, scheduler, clock });
      closer.add("attestation follower", () => follower.stop());
      follower.start();
      closer.add("monitor", async () => {
        monitorRpc.abort();
        await monitor.stop();
      });
      monitor.start();

      log.info(
        { peerId: started.peerId.toString(), api: api.url, validatorIndex: validatorIndex ?? null, setIndex: set.index, threshold: set.threshold, size: set.keys.length },
        validatorIndex === undefined ? "node started (not in the validator set: observing)" : "node started",
      );
      return new SentinelNode({ network: started, api }, closer, log);
    } catch (error) {
      await closer.closeAll();
      throw error;
    }
  }
}
