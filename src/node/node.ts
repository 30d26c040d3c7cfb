// The composition root: builds every part of a node from its config, wires them together,
// and stops them in reverse order. Flows:
//   candidate (API or gossip) -> admission -> store -> verify -> sign (signing record first)
//   -> gossip verdict -> aggregate -> attestation -> gossip + relay to every chain.
// A restarted node re-verifies its pending candidates (the signing record guarantees the same
// verdict or none) and catches up on attestations recorded while it was away from the chains.
import { join } from "node:path";
import type { PublicKey, SecretKey } from "@chainsafe/blst";
import type { Logger } from "pino";
import { decodeFunctionData, hexToBytes, type Address, type Hex } from "viem";
import { peerIdFromString } from "@libp2p/peer-id";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { EnrollmentIndex, type ChainEnrollment } from "../chains/enrollmentIndex.ts";
import { Admission, AdmissionError, DEFAULT_ADMISSION, type AdmittedCandidate } from "../admission/admission.ts";
import { startApiServer, toJson, type ApiBackend, type ApiServer, type Json } from "../api/server.ts";
import { connectChain, type ChainClients } from "../chains/clients.ts";
import { RegistryReader } from "../chains/registryReader.ts";
import { ChainRelayer, RELAYER_DEFAULTS, type RelayResult } from "../chains/relayer.ts";
import { relayOrder, relayRank } from "../chains/relayOrder.ts";
import { attestationCandidateId, decodeAttestation, encodeAttestation, type Attestation } from "../codec/attestation.ts";
import { parseSignedCandidate, signedCandidateToJson, type SignedCandidateJson } from "../codec/candidate.ts";
import { verdictDigest, type Verdict } from "../codec/types.ts";
import { decodeVerdictMessage, encodeVerdictMessage } from "../codec/verdictMessage.ts";
import type { NodeConfig } from "../config/schema.ts";
import { VerdictAggregator, type Evidence, type ValidatorSetView } from "../consensus/aggregator.ts";
import { BatchVerifier } from "../consensus/batchVerifier.ts";
import { ConflictingVerdictError, SigningRecord } from "../consensus/signingRecord.ts";
import { signerIndices } from "../consensus/validatorSet.ts";
import { publicKeyRaw } from "../crypto/bls.ts";
import { loadSecretKey, resolvePassword } from "../crypto/keystore.ts";
import { loadRelayerKey } from "../crypto/secp256k1.ts";
import { Database, type Sublevel } from "../db/database.ts";
import { killOrphanedAnvils } from "../verify/shadow/anvil.ts";
import { SentinelNetwork } from "../network/index.ts";
import { BundleFormatError, bundleHash, decodeBundle, encodeBundle, parseBundle, type SourceBundle } from "../codec/bundle.ts";
import type { Enrollment } from "../verify/context.ts";
import type { PipelineResult } from "../verify/pipeline.ts";
import { VERIFICATION_NICENESS } from "../verify/priority.ts";
import { PipelineWorker, PipelineWorkerError, type VerifyJob } from "../verify/worker/pipelineWorker.ts";
import { renderMetrics } from "../metrics/prometheus.ts";
import { checkAttestation } from "./attestationCheck.ts";
import { loadOrCreateP2pKey } from "./p2pKey.ts";

/**
 * Each check gets this long before it ends in a CHECK_TIMED_OUT finding: a cold compile of a
 * large contract in solc-js takes seconds, and a shadow fork waits on the chain's RPC.
 */
const CHECK_TIMEOUT_MS = 60_000;
/** Peers asked for a candidate's bundle in one attempt. */
const BUNDLE_FETCH_PEERS = 4;
/** Attempts to get a candidate's bundle, or to run its pipeline if the worker died, this far apart, before the node leaves it unverified. */
const BUNDLE_MAX_ATTEMPTS = 20;
const BUNDLE_RETRY_MS = 3_000;
/** How often pending candidates are re-checked against the chains (missed attestations). */
const CATCH_UP_INTERVAL_MS = 2_000;
/** Younger candidates are in flight, not missed: the sweep leaves them alone. */
const CATCH_UP_MIN_AGE_MS = 10_000;
/**
 * A verdict goes to the candidate's aggregators, not to every node: the first this many
 * validators of its relay order that the signer reaches (itself included). Everyone else learns
 * the attestation. Sent to every node, a verdict's copies were most of a committee's messages
 * (n - 1 per verdict, n(n - 1) per candidate). Three, so one aggregator crashing mid-candidate
 * still leaves a primary and a fallback relayer holding every verdict.
 */
const VERDICT_AGGREGATORS = 3;
/**
 * A signer whose candidate has no attestation this long after its verdict sends the verdict to
 * every node: the aggregators may be gone, or the verdicts split. Far above the time the
 * committee's slowest honest verifiers take to follow the first one.
 */
const VERDICT_BROADCAST_AFTER_MS = 10_000;
/**
 * Only the first two aggregators gossip the attestation they built; the other nodes learn it
 * from these two or from the chain. Sixteen copies of one attestation were a third of a 16-node
 * network's gossip.
 */
const ATTESTATION_PUBLISHERS = 2;
/** A relayer of rank r waits r steps before submitting: time for the primary to land it. */
const RELAY_FALLBACK_STEP_MS = 1_500;
/**
 * Admission and the origin check ask the chain the same question moments apart (and every
 * node asks it for every candidate); a short-lived answer saves those round trips. Short, so
 * an unenrollment takes effect within seconds.
 */
const ENROLLMENT_CACHE_MS = 3_000;

/** RPC failures get this many attempts, backing off between them. */
const RELAY_MAX_ATTEMPTS = 5;
const RELAY_BACKOFF_MS = { initial: 250, max: 5_000 };
/** Receipt polling: a fast local chain mines at once; a slow one just costs a few more polls. */
const RECEIPT_POLL_MS = 50;
/** Verifications at once: each is mostly waiting on RPC. */
const VERIFY_CONCURRENCY = 4;
/** Bounds the verification queue; beyond it candidates wait for the catch-up sweep. */
const MAX_VERIFY_QUEUE = 1024;

interface CandidateRecord {
  [key: string]: Json;
  signed: SignedCandidateJson & { [key: string]: Json };
  proposer: string;
  admittedAt: string;
  source: string;
  /** The peer that forwarded it (gossip): asked first for the source bundle. */
  from: string | null;
  verification: Json;
}

/**
 * Milliseconds since the epoch at which each stage happened on this node. Kept in memory for the
 * most recent candidates (diagnostics: where a candidate's time went), not across restarts.
 */
export interface CandidateTimeline {
  [key: string]: number | undefined;
  /** A gossiped candidate's arrival, before admission's checks (absent for one sent to the API). */
  received?: number;
  admitted?: number;
  bundleLoaded?: number;
  verified?: number;
  /** The signing record was fsync'd: the signature may leave the process. */
  signed?: number;
  /** The verdict was handed to gossip. */
  published?: number;
  attestation?: number;
}
const MAX_TIMELINES = 4096;

interface AttestationRecord {
  [key: string]: Json;
  candidateId: string;
  digest: string;
  encoded: string;
  setIndex: number;
  signers: number[];
  outcome: number;
  chainId: string;
  target: string;
  codehash: string;
  receivedAt: string;
}

interface ChainParts extends ChainClients {
  chainId: number;
  rpcUrl: string;
  registry: Address;
  reader: RegistryReader;
  /** Who may propose for each enrolled target, kept current from the chain's logs: admission reads it instead of the chain. */
  enrollments: EnrollmentIndex;
  relayer?: ChainRelayer;
}

export interface NodeModules {
  logger: Logger;
  now?: () => Date;
}

export class SentinelNode {
  private readonly config: NodeConfig;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly db: Database;
  private readonly chains: Map<number, ChainParts>;
  private readonly secretKey: SecretKey;
  private readonly set: ValidatorSetView;
  private readonly validatorIndex: number | undefined;
  private readonly signingRecord: SigningRecord;
  private readonly aggregator: VerdictAggregator;
  private readonly verifier = new BatchVerifier();
  private readonly admission: Admission;
  /** The check pipeline, in a worker thread below this one's priority. */
  private readonly pipeline: PipelineWorker;
  private readonly bundles: Sublevel<string>;
  private readonly candidates: Sublevel<CandidateRecord>;
  private readonly attestations: Sublevel<AttestationRecord>;
  private readonly relayResults: Sublevel<Json>;
  private readonly evidence: Sublevel<Json>;
  private network!: SentinelNetwork;
  private api!: ApiServer;
  private readonly verifyQueue: AdmittedCandidate[] = [];
  private verifying = 0;
  private readonly inFlight = new Set<Hex>();
  private readonly bundleAttempts = new Map<Hex, number>();
  private catchUpTimer: NodeJS.Timeout | undefined;
  private readonly broadcastTimers = new Set<NodeJS.Timeout>();
  /**
   * Candidates this node signed and holds no attestation for: what the catch-up sweep looks for
   * on the chains. Kept in memory (rebuilt at start) so a sweep every 2 s costs what is pending,
   * not a read of every candidate ever stored.
   */
  private readonly awaitingAttestation = new Map<Hex, { digest: Hex; admittedAt: number; expiresAt: number }>();
  private readonly enrollmentCache = new Map<string, { at: number; answer: Promise<ChainEnrollment> }>();
  /** When each stage of a recent candidate happened here (ms since the epoch): for the status API. */
  private readonly timelines = new Map<Hex, CandidateTimeline>();
  private readonly storingAttestation = new Set<Hex>();
  private stopping: Promise<void> | undefined;

  private constructor(parts: {
    config: NodeConfig;
    modules: NodeModules;
    db: Database;
    chains: Map<number, ChainParts>;
    secretKey: SecretKey;
    set: ValidatorSetView;
  }) {
    this.config = parts.config;
    this.log = parts.modules.logger;
    this.now = parts.modules.now ?? (() => new Date());
    this.db = parts.db;
    this.chains = parts.chains;
    this.secretKey = parts.secretKey;
    this.set = parts.set;
    const ownKey = Buffer.from(publicKeyRaw(parts.secretKey.toPublicKey()));
    const index = parts.set.keys.findIndex((key: PublicKey) => ownKey.equals(Buffer.from(publicKeyRaw(key))));
    this.validatorIndex = index >= 0 ? index : undefined;
    this.signingRecord = new SigningRecord(parts.db);
    this.candidates = parts.db.sublevel<CandidateRecord>("candidates");
    this.attestations = parts.db.sublevel<AttestationRecord>("attestations");
    this.relayResults = parts.db.sublevel<Json>("relay");
    this.evidence = parts.db.sublevel<Json>("evidence");
    this.bundles = parts.db.sublevel<string>("bundles");
    this.pipeline = new PipelineWorker(
      {
        compileCacheDir: parts.config.verification.compileCacheDir,
        forkRecordDir: forkRecordDir(parts.config.dataDir),
        niceness: VERIFICATION_NICENESS,
        checkTimeoutMs: CHECK_TIMEOUT_MS,
      },
      {
        enrollment: (job) => this.isEnrolled(job.candidate.chainId, job.candidate.target, job.proposer),
        logger: this.log,
      },
    );
    this.aggregator = new VerdictAggregator(
      { networkId: parts.config.networkId, set: parts.set },
      {
        verifier: this.verifier,
        onAttestation: (attestation, digest) => void this.onAttestation(attestation, digest, "aggregated"),
        onEvidence: (evidence) => void this.onEvidence(evidence),
      },
    );
    this.admission = new Admission(
      { networkId: parts.config.networkId, ...DEFAULT_ADMISSION, chainIds: new Set([...parts.chains.keys()].map(BigInt)) },
      {
        enrollment: (chainId, target) => this.enrollmentOf(chainId, target),
        indexedEnrollment: (chainId, target) => this.chains.get(Number(chainId))?.enrollments.lookup(target),
        isKnown: async (id) => (await this.candidates.get(id)) !== undefined,
        now: this.now,
      },
    );
  }

  /** Starts a node: opens its data directory (refusing one in use), keys, chains, network, API. */
  /**
   * Starts a node: keys, chains and the validator set are read first, so a bad password, key
   * file or chain stops it before anything is written; then the data directory is opened
   * (refusing one another process holds), then the network and the API.
   */
  static async start(config: NodeConfig, modules: NodeModules): Promise<SentinelNode> {
    const log = modules.logger;
    const password = resolvePassword(config.validator);
    const secretKey = await loadSecretKey(config.validator.keystore, password);
    const relayerKey = config.relayer.enabled ? loadRelayerKey(config.relayer.privateKeyFile) : undefined;
    const chains = new Map<number, ChainParts>();
    for (const chain of config.chains) {
      // Without a relayer key the clients still read; a throwaway key is never used to send.
      const clients = connectChain(chain.chainId, chain.rpcUrl, relayerKey ?? `0x${"11".repeat(32)}`);
      const reader = new RegistryReader({ chainId: chain.chainId, registry: chain.registry }, { client: clients.client });
      const enrollments = new EnrollmentIndex({}, { client: clients.client, reader, logger: log.child({ module: "enrollments", chainId: chain.chainId }) });
      const parts: ChainParts = { ...clients, chainId: chain.chainId, rpcUrl: chain.rpcUrl, registry: chain.registry, reader, enrollments };
      if (config.relayer.enabled && relayerKey) {
        parts.relayer = new ChainRelayer(
          {
            ...RELAYER_DEFAULTS,
            chainId: chain.chainId,
            registry: chain.registry,
            fallbackStepMs: RELAY_FALLBACK_STEP_MS,
            maxAttempts: RELAY_MAX_ATTEMPTS,
            backoffMs: RELAY_BACKOFF_MS,
            receiptPollMs: RECEIPT_POLL_MS,
          },
          { client: clients.client, wallet: clients.wallet, logger: log.child({ module: "relayer", chainId: chain.chainId }) },
        );
      }
      chains.set(chain.chainId, parts);
    }
    // Every chain's registry holds the same set; the first configured chain is read.
    const set = await chains.values().next().value!.reader.currentValidatorSet();
    const db = await Database.open(config.dataDir);
    // Holding the data directory, this process is the only one whose forks are recorded there.
    const orphans = killOrphanedAnvils(forkRecordDir(config.dataDir));
    if (orphans > 0) log.warn({ killed: orphans }, "killed shadow forks the last run of this data directory left running");
    try {
      const node = new SentinelNode({ config, modules, db, chains, secretKey, set });
      await node.startServices(await loadOrCreateP2pKey(config.dataDir));
      return node;
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  private async startServices(p2pKey: Awaited<ReturnType<typeof loadOrCreateP2pKey>>): Promise<void> {
    this.network = await SentinelNetwork.create(
      {
        networkId: this.config.networkId,
        listen: [...this.config.p2p.listen],
        bootstrap: [...this.config.p2p.bootstrap],
        privateKey: p2pKey,
        // Each verdict reaches its aggregators straight from its signer (flood publish to their
        // inboxes in a fully connected committee); relaying it again would only send duplicates.
        // A node that misses verdicts still gets the attestation, which is forwarded as usual.
        noForward: ["verdict"],
        inboxes: this.set.keys.length,
        ...(this.validatorIndex !== undefined && { inbox: this.validatorIndex }),
      },
      {
        handlers: {
          candidate: (data, from) => this.onGossipCandidate(data, from.toString()),
          verdict: (data) => this.onGossipVerdict(data),
          attestation: (data) => this.onGossipAttestation(data),
        },
        bundles: { get: async (hash) => this.storedBundleBytes(hash) },
        logger: this.log,
      },
    );
    this.api = await startApiServer(this.config.api, this.apiBackend());
    this.log.info(
      {
        peerId: this.network.peerId.toString(),
        api: this.api.url,
        validatorIndex: this.validatorIndex ?? null,
        setIndex: this.set.index,
        threshold: this.set.threshold,
        size: this.set.keys.length,
      },
      this.validatorIndex === undefined ? "node started (not in the validator set: observing)" : "node started",
    );
    for (const chain of this.chains.values()) chain.enrollments.start();
    await this.resumePending();
    this.catchUpTimer = setInterval(() => void this.catchUp(), CATCH_UP_INTERVAL_MS);
  }

  get apiUrl(): string {
    return this.api.url;
  }

  get peerId(): string {
    return this.network.peerId.toString();
  }

  multiaddrs(): string[] {
    return this.network.multiaddrs().map((address) => address.toString());
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.catchUpTimer);
      for (const timer of this.broadcastTimers) clearTimeout(timer);
      for (const chain of this.chains.values()) chain.enrollments.stop();
      await this.api?.close();
      for (const chain of this.chains.values()) await chain.relayer?.stop();
      await this.network?.stop();
      await this.pipeline.close();
      this.verifier.flush();
      await this.db.close();
      this.log.info("node stopped");
    })();
    return this.stopping;
  }

  // ------------------------------------------------------------------ candidates

  private async isEnrolled(chainId: bigint, target: Address, proposer: Address): Promise<Enrollment> {
    const { proposers, authority, policyHash } = await this.enrollmentOf(chainId, target);
    return { enrolled: proposers.includes(proposer), ...(authority && { authority }), ...(policyHash && { policyHash }) };
  }

  private enrollmentOf(chainId: bigint, target: Address): Promise<ChainEnrollment> {
    const key = `${chainId}:${target}`;
    const now = Date.now();
    const cached = this.enrollmentCache.get(key);
    if (cached && now - cached.at < ENROLLMENT_CACHE_MS) return cached.answer;
    const answer = this.readEnrollment(chainId, target);
    if (this.enrollmentCache.size >= 1024) this.enrollmentCache.clear();
    this.enrollmentCache.set(key, { at: now, answer });
    // A failed read is not kept: the next candidate asks the chain again.
    answer.catch(() => this.enrollmentCache.get(key)?.answer === answer && this.enrollmentCache.delete(key));
    return answer;
  }

  /**
   * Rejects when the chain could not be read; a target without an upgrade authority has no
   * proposers. An enrollment read here is indexed, so the next candidate for it needs no read.
   */
  private async readEnrollment(chainId: bigint, target: Address): Promise<ChainEnrollment> {
    const chain = this.chains.get(Number(chainId));
    if (!chain) return { proposers: [] };
    return chain.enrollments.read(target);
  }

  private async submitCandidate(body: unknown): Promise<{ candidateId: Hex; duplicate: boolean }> {
    const bundle = await this.bundleOfSubmission(body);
    const keepBundle = async () => {
      if (bundle) await this.bundles.put(bundleHash(bundle), new TextDecoder().decode(encodeBundle(bundle)));
    };
    try {
      const admitted = await this.admission.admit(body);
      await keepBundle();
      await this.store(admitted, "api");
      await this.network.publish("candidate", new TextEncoder().encode(JSON.stringify(signedCandidateToJson(admitted.signed))));
      return { candidateId: admitted.id, duplicate: false };
    } catch (error) {
      if (error instanceof AdmissionError && error.code === "DUPLICATE" && error.candidateId) {
        // A known candidate sent again with its bundle: keep the bundle, so that this node can
        // serve it to peers still waiting for it.
        await keepBundle();
        return { candidateId: error.candidateId, duplicate: true };
      }
      throw error;
    }
  }

  /**
   * The bundle sent with a candidate through the API: it must parse and hash to the candidate's
   * sourceHash. It may be left out only if this node already holds it (the proposer sent it
   * before); otherwise no node could verify the candidate.
   */
  private async bundleOfSubmission(body: unknown): Promise<SourceBundle | undefined> {
    const sourceHash = (body as { candidate?: { sourceHash?: unknown } } | null)?.candidate?.sourceHash;
    const raw = (body as { bundle?: unknown } | null)?.bundle;
    if (raw === undefined) {
      if (typeof sourceHash === "string" && (await this.bundles.get(sourceHash.toLowerCase()))) return undefined;
      throw new AdmissionError("BUNDLE_REQUIRED", "send the candidate's source bundle in the `bundle` field (docs/verification.md)");
    }
    let bundle: SourceBundle;
    try {
      bundle = parseBundle(raw);
    } catch (error) {
      throw new AdmissionError("BUNDLE_INVALID", `bundle.${(error as Error).message}`);
    }
    if (typeof sourceHash !== "string" || bundleHash(bundle) !== sourceHash.toLowerCase()) {
      throw new AdmissionError("BUNDLE_INVALID", `the bundle hashes to ${bundleHash(bundle)}, not to candidate.sourceHash`);
    }
    return bundle;
  }

  private async storedBundleBytes(hash: Hex): Promise<Uint8Array | undefined> {
    const text = await this.bundles.get(hash.toLowerCase());
    return text === undefined ? undefined : new TextEncoder().encode(text);
  }

  /** The candidate's bundle: from the store, else from the peer that forwarded it, else from others. */
  private async loadBundle(hash: Hex, from: string | null): Promise<SourceBundle> {
    const stored = await this.storedBundleBytes(hash);
    if (stored) return decodeBundle(stored);
    const peers = this.network.peers();
    const ordered = [...(from ? [peerIdFromString(from)] : []), ...peers.filter((peer) => peer.toString() !== from)].slice(0, BUNDLE_FETCH_PEERS);
    const failures: string[] = [];
    for (const peer of ordered) {
      try {
        const bytes = await this.network.fetchBundle(peer, hash);
        const bundle = decodeBundle(bytes);
        await this.bundles.put(hash.toLowerCase(), new TextDecoder().decode(bytes));
        return bundle;
      } catch (error) {
        failures.push(`${peer.toString().slice(-8)}: ${(error as Error).message.split(": ").at(-1)}`);
      }
    }
    throw new Error(`no peer served bundle ${hash} (${failures.join("; ") || "no peers"})`);
  }

  private async onGossipCandidate(data: Uint8Array, from: string) {
    const received = this.now().getTime();
    try {
      const admitted = await this.admission.admitBytes(data);
      this.mark(admitted.id, "received", received);
      await this.store(admitted, "gossip", from);
      return "accept" as const;
    } catch (error) {
      if (error instanceof AdmissionError) {
        this.log.debug({ code: error.code }, "gossip candidate refused");
        return error.action;
      }
      throw error;
    }
  }

  private async store(admitted: AdmittedCandidate, source: "api" | "gossip", from: string | null = null): Promise<void> {
    const record: CandidateRecord = {
      signed: signedCandidateToJson(admitted.signed) as CandidateRecord["signed"],
      proposer: admitted.proposer,
      admittedAt: this.now().toISOString(),
      source,
      from,
      verification: null,
    };
    // Not fsync'd: a candidate lost with the machine is re-sent by its proposer; only the
    // signing record must survive everything.
    await this.candidates.put(admitted.id, record);
    this.mark(admitted.id, "admitted");
    this.log.info({ candidate: admitted.id, source, target: admitted.signed.candidate.target }, "candidate admitted");
    this.anticipateRelay(admitted.id);
    this.enqueueVerification(admitted);
  }

  private enqueueVerification(admitted: AdmittedCandidate): void {
    if (this.validatorIndex === undefined || this.inFlight.has(admitted.id)) return;
    if (this.verifyQueue.length >= MAX_VERIFY_QUEUE) {
      this.log.warn({ candidate: admitted.id }, "verification queue full; the catch-up sweep will retry");
      return;
    }
    this.inFlight.add(admitted.id);
    this.verifyQueue.push(admitted);
    this.drainVerifyQueue();
  }

  private drainVerifyQueue(): void {
    while (this.verifying < VERIFY_CONCURRENCY && this.verifyQueue.length > 0) {
      const next = this.verifyQueue.shift()!;
      this.verifying++;
      void this.verifyAndSign(next)
        .catch((error: unknown) => this.log.error({ err: error, candidate: next.id }, "verification failed"))
        .finally(() => {
          this.verifying--;
          this.inFlight.delete(next.id);
          this.drainVerifyQueue();
        });
    }
  }

  private async verifyAndSign(admitted: AdmittedCandidate): Promise<void> {
    const { candidate } = admitted.signed;
    const chain = this.chains.get(Number(candidate.chainId))!;
    const started = performance.now();
    const from = ((await this.candidates.get(admitted.id))?.from as string | null | undefined) ?? null;
    // A bundle no peer could serve yet is this node's problem, not the candidate's: verify later
    // rather than sign a rejection. A bundle that arrived but does not parse is the proposer's
    // problem, the same on every node: the pipeline reports it.
    let bundle: VerifyJob["bundle"];
    try {
      bundle = { ok: true, value: await this.loadBundle(candidate.sourceHash, from) };
    } catch (error) {
      if (!(error instanceof BundleFormatError)) {
        this.retryVerificationLater(admitted, error);
        return;
      }
      bundle = { ok: false, field: error.field, reason: error.reason };
    }
    this.bundleAttempts.delete(admitted.id);
    this.mark(admitted.id, "bundleLoaded");
    let result: PipelineResult;
    try {
      result = await this.pipeline.verify({
        candidateId: admitted.id,
        candidate,
        proposer: admitted.proposer,
        chain: { chainId: chain.chainId, rpcUrl: chain.rpcUrl, registry: chain.registry },
        bundle,
      });
    } catch (error) {
      // The worker died or the pipeline threw: this node's failure, not a finding. Try again later.
      if (!(error instanceof PipelineWorkerError)) throw error;
      this.retryVerificationLater(admitted, error);
      return;
    }
    const verificationMs = performance.now() - started;
    this.mark(admitted.id, "verified");
    const verdict = toVerdict(admitted, result);
    const digest = verdictDigest(this.config.networkId, verdict);
    const record = await this.candidates.get(admitted.id);
    if (record) {
      record.verification = {
        outcome: result.outcome,
        reasons: result.reasons.toString(),
        findings: result.findings as unknown as Json,
        findingsDigest: result.findingsDigest,
        codehash: result.codehash,
        digest,
        verificationMs: Math.round(verificationMs),
        timings: result.timings,
      };
      await this.candidates.put(admitted.id, record);
      this.awaitAttestation(admitted.id, digest, record.admittedAt, candidate.expiresAt);
    }
    let signature: Hex;
    try {
      signature = await this.signingRecord.signOnce(admitted.id, digest, this.now(), () =>
        `0x${Buffer.from(this.secretKey.sign(hexToBytes(digest)).toBytes(true)).toString("hex")}` as Hex,
      );
    } catch (error) {
      if (error instanceof ConflictingVerdictError) {
        this.log.error({ candidate: admitted.id, signed: error.signedDigest, refused: error.refusedDigest }, "refused to sign a conflicting verdict");
        return;
      }
      throw error;
    }
    this.mark(admitted.id, "signed");
    this.anticipateRelay(admitted.id);
    const message = { setIndex: this.set.index, validatorIndex: this.validatorIndex!, verdict, signature };
    this.log.info({ candidate: admitted.id, outcome: verdict.outcome, reasons: verdict.reasons.toString(), verificationMs: Math.round(verificationMs) }, "verdict signed");
    await this.aggregator.ingest(message);
    await this.sendVerdict(admitted.id, encodeVerdictMessage(message));
    this.mark(admitted.id, "published");
  }

  private mark(candidateId: Hex, stage: keyof CandidateTimeline & string, at = this.now().getTime()): void {
    let timeline = this.timelines.get(candidateId);
    if (!timeline) {
      if (this.timelines.size >= MAX_TIMELINES) this.timelines.delete(this.timelines.keys().next().value!);
      timeline = {};
      this.timelines.set(candidateId, timeline);
    }
    timeline[stage] ??= at;
  }

  private retryVerificationLater(admitted: AdmittedCandidate, error: unknown): void {
    const attempts = (this.bundleAttempts.get(admitted.id) ?? 0) + 1;
    const expired = admitted.signed.candidate.expiresAt * 1000n <= BigInt(this.now().getTime());
    if (attempts > BUNDLE_MAX_ATTEMPTS || expired || this.stopping) {
      this.bundleAttempts.delete(admitted.id);
      this.log.warn({ candidate: admitted.id, attempts, err: error }, "not verified: the source bundle or the pipeline stayed unavailable (a restart retries)");
      return;
    }
    this.bundleAttempts.set(admitted.id, attempts);
    this.log.info({ candidate: admitted.id, attempt: attempts, reason: (error as Error).message }, "not verified yet; retrying");
    setTimeout(() => {
      if (!this.stopping) this.enqueueVerification(admitted);
    }, BUNDLE_RETRY_MS).unref();
  }

  // ------------------------------------------------------------------ verdicts and attestations

  /**
   * The candidate's aggregators as this node sees them: the first VERDICT_AGGREGATORS validators
   * of its relay order whose inbox a connected peer reads, this node always counting. Nodes
   * that see the same peers agree; one that does not just sends to a different node.
   */
  private aggregatorsOf(candidateId: Hex): number[] {
    const chosen: number[] = [];
    for (const index of relayOrder(candidateId, this.set.keys.length)) {
      if (chosen.length === VERDICT_AGGREGATORS) break;
      if (index === this.validatorIndex || this.network.reachesInbox(index)) chosen.push(index);
    }
    return chosen;
  }

  private async sendVerdict(candidateId: Hex, bytes: Uint8Array): Promise<void> {
    const aggregators = this.aggregatorsOf(candidateId);
    // Fewer than wanted: this node reaches every validator there is to reach (or has not heard
    // their subscriptions yet), so the verdict goes to all of them.
    if (aggregators.length < VERDICT_AGGREGATORS) {
      await this.network.publish("verdict", bytes);
      return;
    }
    await Promise.all(aggregators.filter((index) => index !== this.validatorIndex).map((index) => this.network.sendToInbox(index, bytes)));
    const timer = setTimeout(() => {
      this.broadcastTimers.delete(timer);
      void this.broadcastIfUnattested(candidateId, bytes).catch((error: unknown) =>
        this.log.warn({ err: error, candidate: candidateId }, "could not send the verdict to every node"),
      );
    }, VERDICT_BROADCAST_AFTER_MS);
    timer.unref();
    this.broadcastTimers.add(timer);
  }

  private async broadcastIfUnattested(candidateId: Hex, bytes: Uint8Array): Promise<void> {
    if (this.stopping || (await this.attestations.get(candidateId))) return;
    this.log.info({ candidate: candidateId }, "no attestation yet: sending the verdict to every node");
    await this.network.publish("verdict", bytes);
  }

  private async onGossipVerdict(data: Uint8Array) {
    let message;
    try {
      message = decodeVerdictMessage(data);
    } catch {
      return "reject" as const;
    }
    return this.aggregator.ingest(message);
  }

  private async onGossipAttestation(data: Uint8Array) {
    // [IGNORE] an attestation for a candidate this node already holds one for: no pairing needed.
    const candidateId = attestationCandidateId(data);
    if (candidateId && (await this.attestations.get(candidateId))) return "ignore" as const;
    const check = checkAttestation(data, this.config.networkId, this.set);
    if (!check.ok) return check.action;
    await this.onAttestation(check.attestation, check.digest, "gossip");
    return "accept" as const;
  }

  private async onAttestation(attestation: Attestation, digest: Hex, source: "aggregated" | "gossip" | "chain"): Promise<void> {
    const { verdict } = attestation;
    // The same attestation can come from aggregation and from gossip at once: the first one is
    // stored and relayed, the other is dropped here (not after the read: both would pass it).
    if (this.storingAttestation.has(verdict.candidateId)) return;
    this.storingAttestation.add(verdict.candidateId);
    try {
      await this.storeAttestation(attestation, digest, source);
    } finally {
      this.storingAttestation.delete(verdict.candidateId);
    }
  }

  private async storeAttestation(attestation: Attestation, digest: Hex, source: "aggregated" | "gossip" | "chain"): Promise<void> {
    const { verdict } = attestation;
    if (await this.attestations.get(verdict.candidateId)) return;
    const encoded = encodeAttestation(attestation);
    const record: AttestationRecord = {
      candidateId: verdict.candidateId,
      digest,
      encoded,
      setIndex: attestation.setIndex,
      signers: signerIndices(attestation.signers),
      outcome: verdict.outcome,
      chainId: verdict.chainId.toString(),
      target: verdict.target,
      codehash: verdict.codehash,
      receivedAt: this.now().toISOString(),
    };
    this.mark(verdict.candidateId, "attestation");
    this.awaitingAttestation.delete(verdict.candidateId);
    // The relay first, before the write (the relayer keeps its own record of what it sent, and
    // the attestation is recoverable from peers and chains) and before the gossip publish, which
    // encrypts and writes the attestation to every peer: the publish waits a turn of the event
    // loop, by which time the primary has signed its transaction and handed it to the HTTP client.
    this.relay(verdict.candidateId, digest, encoded);
    await this.db.batch(
      [
        { sublevel: "attestations", key: verdict.candidateId, value: record },
        { sublevel: "attestations", key: targetKey(verdict.chainId, verdict.target, verdict.candidateId), value: verdict.candidateId },
      ],
      // Recoverable from peers and from the chains: atomic, not fsync'd.
      { sync: false },
    );
    this.log.info({ candidate: verdict.candidateId, outcome: verdict.outcome, signers: record.signers, source }, "attestation");
    const place = this.validatorIndex === undefined ? -1 : this.aggregatorsOf(verdict.candidateId).indexOf(this.validatorIndex);
    if (source === "aggregated" && place >= 0 && place < ATTESTATION_PUBLISHERS) {
      await new Promise((resolve) => setImmediate(resolve));
      await this.network.publish("attestation", hexToBytes(encoded));
    }
  }

  /** This node's place in the candidate's relay order; an observer goes last. */
  private relayRankOf(candidateId: Hex): number {
    return relayRank(candidateId, this.validatorIndex ?? this.set.keys.length - 1, this.set.keys.length);
  }

  /** As the candidate's primary relayer, have every chain's nonce and fees ready for its attestation. */
  private anticipateRelay(candidateId: Hex): void {
    if (this.relayRankOf(candidateId) !== 0) return;
    for (const chain of this.chains.values()) void chain.relayer?.anticipate();
  }

  private relay(candidateId: Hex, digest: Hex, attestation: Hex): void {
    const rank = this.relayRankOf(candidateId);
    for (const chain of this.chains.values()) {
      if (!chain.relayer) continue;
      void chain.relayer.relay({ candidateId, digest, attestation, rank }).then(
        (result) => this.recordRelay(candidateId, chain.chainId, result),
        (error: unknown) => this.log.error({ err: error, candidate: candidateId, chainId: chain.chainId }, "relay crashed"),
      );
    }
  }

  private async recordRelay(candidateId: Hex, chainId: number, result: RelayResult): Promise<void> {
    if (this.stopping) return;
    const job = this.chains.get(chainId)?.relayer?.status(candidateId).at(-1);
    const times = job ? { startedAt: job.createdAt, sentAt: job.sentAt, finishedAt: job.updatedAt } : {};
    await this.relayResults.put(`${candidateId}:${chainId}`, toJson({ ...result, ...times }));
    this.log.info({ candidate: candidateId, chainId, status: result.status }, "relay finished");
  }

  private async onEvidence(evidence: Evidence): Promise<void> {
    this.log.warn({ candidate: evidence.candidateId, validatorIndex: evidence.validatorIndex }, "conflicting verdicts from one validator");
    await this.evidence.put(`${evidence.candidateId}:${evidence.validatorIndex}`, evidence as unknown as Json);
  }

  // ------------------------------------------------------------------ restart and catch-up

  /** After a restart: re-verify pending candidates; the signing record keeps the verdict the same. */
  private async resumePending(): Promise<void> {
    for await (const [id, record] of this.candidates.entries()) {
      if (await this.attestations.get(id)) continue;
      const signed = parseSignedCandidate(record.signed);
      if (signed.candidate.expiresAt * 1000n <= BigInt(this.now().getTime())) continue;
      const digest = (record.verification as { digest?: Hex } | null)?.digest;
      if (digest) this.awaitAttestation(id as Hex, digest, record.admittedAt, signed.candidate.expiresAt);
      this.enqueueVerification({ id: id as Hex, signed, proposer: record.proposer as Address });
    }
  }

  private awaitAttestation(id: Hex, digest: Hex, admittedAt: string, expiresAtSeconds: bigint): void {
    this.awaitingAttestation.set(id, { digest, admittedAt: Date.parse(admittedAt), expiresAt: Number(expiresAtSeconds) * 1000 });
  }

  /** Pending candidates whose verdict is already recorded on a chain: take the attestation from there. */
  private async catchUp(): Promise<void> {
    if (this.stopping) return;
    try {
      const now = this.now().getTime();
      for (const [id, { digest, admittedAt, expiresAt }] of this.awaitingAttestation) {
        if (expiresAt <= now || (await this.attestations.get(id))) {
          this.awaitingAttestation.delete(id);
          continue;
        }
        if (admittedAt > now - CATCH_UP_MIN_AGE_MS) continue;
        const found = await this.attestationFromChains(digest);
        if (found) await this.onAttestation(found, digest, "chain");
      }
    } catch (error) {
      this.log.debug({ err: error }, "catch-up sweep failed; next sweep retries");
    }
  }

  private async attestationFromChains(digest: Hex): Promise<Attestation | undefined> {
    for (const chain of this.chains.values()) {
      const logs = await chain.client.getContractEvents({
        address: chain.registry,
        abi: SentinelRegistry.abi,
        eventName: "VerdictRecorded",
        args: { digest },
        fromBlock: 0n,
      });
      const log = logs[0];
      if (!log?.transactionHash) continue;
      const transaction = await chain.client.getTransaction({ hash: log.transactionHash });
      const call = decodeFunctionData({ abi: SentinelRegistry.abi, data: transaction.input });
      if (call.functionName !== "submitAttestation") continue;
      const attestation = decodeAttestation(call.args[0]);
      if (verdictDigest(this.config.networkId, attestation.verdict) === digest) return attestation;
    }
    return undefined;
  }

  // ------------------------------------------------------------------ API

  private apiBackend(): ApiBackend {
    return {
      submitCandidate: (body) => this.submitCandidate(body),
      candidateStatus: (id) => this.candidateStatus(id),
      attestation: async (id) => {
        const record = await this.attestations.get(id);
        return record ? { ...record, relay: await this.relayStatus(id) } : undefined;
      },
      attestationsByTarget: async (chainId, target) => {
        const prefix = targetKey(chainId, target as Address, "");
        const out: Json[] = [];
        for await (const [, candidateId] of this.attestations.entries({ gte: prefix, lt: `${prefix}~`, limit: 100 })) {
          const record = await this.attestations.get(candidateId as unknown as string);
          if (record) out.push(record);
        }
        return out;
      },
      health: () => ({
        status: "ok",
        peerId: this.network.peerId.toString(),
        peers: this.network.peers().length,
        validatorIndex: this.validatorIndex ?? null,
        setIndex: this.set.index,
        gossip: this.network.counters() as unknown as Json,
        aggregator: this.aggregator.stats,
        verifier: this.verifier.stats,
      }),
      metrics: () => this.metrics(),
      peers: () => ({
        peers: this.network.peers().map((peer) => ({ peerId: peer.toString(), score: this.network.scoreOf(peer) })),
      }),
      readiness: async () => {
        const reasons: string[] = [];
        if (this.network.peers().length === 0 && this.config.p2p.bootstrap.length > 0) reasons.push("no peers connected");
        for (const chain of this.chains.values()) {
          try {
            await chain.client.getBlockNumber();
          } catch {
            reasons.push(`chain ${chain.chainId} unreachable`);
          }
        }
        return { ready: reasons.length === 0, reasons };
      },
    };
  }

  private metrics(): string {
    const gossip = this.network.counters();
    const relayers = [...this.chains.values()].flatMap((chain) =>
      chain.relayer ? [{ chainId: String(chain.chainId), stats: chain.relayer.stats() }] : [],
    );
    return renderMetrics([
      { name: "sentinel_peers", help: "Connected libp2p peers.", type: "gauge", samples: [{ value: this.network.peers().length }] },
      {
        name: "sentinel_gossip_messages_total",
        help: "Gossip messages validated, by result (oversized, handler errors, timeouts and overload are also in rejected/ignored).",
        type: "counter",
        samples: Object.entries(gossip).map(([result, value]) => ({ labels: { result }, value })),
      },
      {
        name: "sentinel_verdict_signatures_total",
        help: "Verdict signatures ingested by the aggregator, by result.",
        type: "counter",
        samples: Object.entries(this.aggregator.stats).map(([result, value]) => ({ labels: { result }, value })),
      },
      { name: "sentinel_bls_sets_verified_total", help: "BLS signature sets verified.", type: "counter", samples: [{ value: this.verifier.stats.sets }] },
      { name: "sentinel_bls_batches_total", help: "BLS verification batches.", type: "counter", samples: [{ value: this.verifier.stats.batches }] },
      {
        name: "sentinel_bls_batch_failures_total",
        help: "Batches that failed and were re-verified one by one.",
        type: "counter",
        samples: [{ value: this.verifier.stats.batchFailures }],
      },
      {
        name: "sentinel_relay_jobs_total",
        help: "Relay jobs finished, by chain and outcome.",
        type: "counter",
        samples: relayers.flatMap(({ chainId, stats }) =>
          (["submitted", "alreadyRecorded", "failed", "retries", "refusedBusy"] as const).map((outcome) => ({
            labels: { chain: chainId, outcome },
            value: stats[outcome],
          })),
        ),
      },
      { name: "sentinel_verify_queue_length", help: "Candidates waiting for verification.", type: "gauge", samples: [{ value: this.verifyQueue.length }] },
      {
        name: "sentinel_candidates_admitted_total",
        help: "Candidates admitted, by where the proposer's enrollment was found (the node's index, or a chain read).",
        type: "counter",
        samples: [
          { labels: { enrollment: "index" }, value: this.admission.stats.byIndex },
          { labels: { enrollment: "chain" }, value: this.admission.stats.byChainRead },
        ],
      },
      {
        name: "sentinel_enrollment_index_targets",
        help: "Enrolled targets in the node's enrollment index.",
        type: "gauge",
        samples: [...this.chains.values()].map((chain) => ({ labels: { chain: String(chain.chainId) }, value: chain.enrollments.size })),
      },
    ]);
  }

  private async candidateStatus(id: Hex): Promise<Json | undefined> {
    const record = await this.candidates.get(id);
    const attestation = await this.attestations.get(id);
    if (!record && !attestation) return undefined;
    return {
      candidateId: id,
      candidate: record?.signed ?? null,
      proposer: record?.proposer ?? null,
      admittedAt: record?.admittedAt ?? null,
      verification: record?.verification ?? null,
      signedDigest: (await this.signingRecord.signedDigest(id)) ?? null,
      verdictsSeen: this.aggregator.signersOf(id) as unknown as Json,
      timeline: (this.timelines.get(id) ?? {}) as Json,
      attestation: attestation ?? null,
      relay: await this.relayStatus(id),
    };
  }

  private async relayStatus(id: Hex): Promise<Json> {
    const out: Record<string, Json> = {};
    for (const chain of this.chains.values()) {
      const stored = await this.relayResults.get(`${id}:${chain.chainId}`);
      const live = chain.relayer?.status(id).at(-1);
      out[String(chain.chainId)] =
        stored ?? (live ? toJson(live) : null);
    }
    return out;
  }
}

function toVerdict(admitted: AdmittedCandidate, result: PipelineResult): Verdict {
  const { candidate } = admitted.signed;
  return {
    candidateId: admitted.id,
    chainId: candidate.chainId,
    target: candidate.target,
    codehash: result.codehash,
    outcome: result.outcome,
    policyHash: candidate.policyHash,
    reasons: result.reasons,
    findingsDigest: result.findingsDigest,
    // Both come from the signed candidate, so every node signs the same digest.
    issuedAt: candidate.createdAt,
    expiresAt: candidate.expiresAt,
  };
}

function targetKey(chainId: bigint, target: Address, candidateId: string): string {
  return `t:${chainId}:${target.toLowerCase()}:${candidateId}`;
}

/** Where the pipeline worker writes down its running shadow forks (see killOrphanedAnvils). */
function forkRecordDir(dataDir: string): string {
  return join(dataDir, "shadow-forks");
}
