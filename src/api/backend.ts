// The HTTP API's view of a node: each route's answer, read from the parts that hold it. No
// state of its own.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PeerId } from "@libp2p/interface";
import type { Address, Hex } from "viem";
import type { AttestationStore } from "../attestations/attestationStore.ts";
import type { ChainHealthStatus } from "../chains/chainHealth.ts";
import type { RelayDispatcher } from "../attestations/relayDispatcher.ts";
import type { CandidateStore } from "../candidates/candidateStore.ts";
import type { HumanGate } from "../candidates/humanGate.ts";
import type { CandidateTimelines } from "../candidates/timelines.ts";
import type { EventStream } from "./eventStream.ts";
import type { RelayJobStatus } from "../chains/relayer.ts";
import type { EvidenceStore } from "../consensus/evidenceStore.ts";
import type { SigningRecord } from "../consensus/signingRecord.ts";
import type { RotationVote } from "../consensus/rotationSigner.ts";
import { parseRotationRequest, type RotationRequest } from "../codec/rotation.ts";
import type { ApiBackend } from "./server.ts";
import { toJson, type Json } from "../util/json.ts";

export interface NodeApiModules {
  submit(body: unknown): Promise<{ candidateId: Hex; duplicate: boolean }>;
  /** The human gate: approvals taken, and where each gated candidate stands. */
  humanGate: Pick<HumanGate, "submit" | "status">;
  /** This validator's rotation vote (src/consensus/rotationSigner.ts). */
  rotations: { vote(request: RotationRequest): Promise<RotationVote> };
  candidates: CandidateStore;
  attestations: AttestationStore;
  relay: RelayDispatcher;
  signingRecord: SigningRecord;
  timelines: CandidateTimelines;
  events: EventStream;
  evidence: Pick<EvidenceStore, "list">;
  /** Continuous monitoring's state: counters, the approvals watched, each invariant's episodes. */
  monitoring(): Json;
  /** Signers seen per verdict digest of a candidate. */
  verdictsSeen(candidateId: Hex): Json;
  /** The served chains, with each one's relayer's live job status (if it relays). */
  chains: readonly { chainId: number; liveRelay?(candidateId: Hex): RelayJobStatus | undefined; reachable(): Promise<boolean>; health?(): ChainHealthStatus }[];
  network: { peerId(): string; peers(): PeerId[]; scoreOf(peer: PeerId): number; counters(): Record<string, number> };
  identity: { name: string; validatorIndex: number | null; setIndex: number };
  /** The active validator set: its threshold and members' public keys (compressed, hex). */
  validatorSet: { threshold: number; publicKeys: readonly string[] };
  /** The candidates of the newest events, newest first, and the newest event's id (for the status page). */
  recentCandidates(limit: number): Promise<{ candidates: Hex[]; lastEventId: number }>;
  /** Peers are expected (the node has bootstrap peers): none connected makes it unready. */
  expectsPeers: boolean;
  /** The Prometheus text exposition of the node's metrics (src/metrics/nodeMetrics.ts). */
  metrics(): Promise<string>;
  healthExtra(): Record<string, Json>;
}

export class NodeApi implements ApiBackend {
  readonly #m: NodeApiModules;

  constructor(_options: object, modules: NodeApiModules) {
    this.#m = modules;
  }

  submitCandidate(body: unknown): Promise<{ candidateId: Hex; duplicate: boolean }> {
    return this.#m.submit(body);
  }

  async voteRotation(body: unknown): Promise<Json> {
    return { ...(await this.#m.rotations.vote(parseRotationRequest(body))) };
  }

  streamEvents(request: IncomingMessage, response: ServerResponse): Promise<void> {
    return this.#m.events.serve(request, response);
  }

  async candidateStatus(id: Hex): Promise<Json | undefined> {
    const record = await this.#m.candidates.get(id);
    const attestation = await this.#m.attestations.get(id);
    if (!record && !attestation) return undefined;
    return {
      candidateId: id,
      candidate: record?.signed ?? null,
      proposer: record?.proposer ?? null,
      admittedAt: record?.admittedAt ?? null,
      verification: record?.verification ?? null,
      /** Under a policy's human gate: approvals held, threshold, state (null otherwise, or not verified yet). */
      humanGate: (this.#m.humanGate.status(id) as Json | undefined) ?? null,
      /** Set while this node abstains: it could not observe the candidate (its RPC, a time limit). */
      abstention: record?.abstention ?? null,
      signedDigest: (await this.#m.signingRecord.signedDigest(id)) ?? null,
      verdictsSeen: this.#m.verdictsSeen(id),
      timeline: this.#m.timelines.get(id) as Json,
      attestation: attestation ?? null,
      relay: await this.#relayStatus(id),
    };
  }

  async submitApproval(candidateId: Hex, body: unknown): Promise<{ added: boolean; status: Json }> {
    const { added, status } = await this.#m.humanGate.submit(candidateId, body);
    return { added, status: status as unknown as Json };
  }

  async attestation(id: Hex): Promise<Json | undefined> {
    const record = await this.#m.attestations.get(id);
    return record ? { ...record, relay: await this.#relayStatus(id) } : undefined;
  }

  attestationsByTarget(chainId: bigint, target: Hex): Promise<Json[]> {
    return this.#m.attestations.byTarget(chainId, target as Address);
  }

  evidence(candidateId: Hex | undefined): Promise<Json[]> {
    return this.#m.evidence.list(candidateId);
  }

  monitoring(): Json {
    return this.#m.monitoring();
  }

  health(): Json {
    return {
      status: "ok",
      peerId: this.#m.network.peerId(),
      peers: this.#m.network.peers().length,
      validatorIndex: this.#m.identity.validatorIndex,
      setIndex: this.#m.identity.setIndex,
      gossip: this.#m.network.counters(),
      ...this.#m.healthExtra(),
    };
  }

  metrics(): Promise<string> {
    return this.#m.metrics();
  }

  /**
   * The network at a glance, as this node sees it (GET /v1/status, and the status page at /):
   * peers, the validator set and this node's place in it, chain health, and the recent
   * candidates with their verdict progress and each chain's relay state.
   */
  async status(): Promise<Json> {
    const { threshold, publicKeys } = this.#m.validatorSet;
    const candidates: Json[] = [];
    const recent = await this.#m.recentCandidates(STATUS_CANDIDATES);
    for (const id of recent.candidates) {
      const status = (await this.candidateStatus(id)) as CandidateStatusView | undefined;
      if (status) candidates.push(candidateSummary(status, threshold));
    }
    return {
      node: { name: this.#m.identity.name, peerId: this.#m.network.peerId() },
      validatorSet: {
        index: this.#m.identity.setIndex,
        size: publicKeys.length,
        threshold,
        self: this.#m.identity.validatorIndex,
        validators: publicKeys.map((publicKey, index) => ({ index, publicKey })),
      },
      peers: (this.peers() as { peers: Json[] }).peers,
      chains: this.#m.chains.map((chain) => (chain.health?.() ?? { chainId: chain.chainId, reachable: null, since: null, reason: null }) as unknown as Json),
      candidates,
      lastEventId: recent.lastEventId,
    };
  }

  peers(): Json {
    return { peers: this.#m.network.peers().map((peer) => ({ peerId: peer.toString(), score: this.#m.network.scoreOf(peer) })) };
  }

  async readiness(): Promise<{ ready: boolean; reasons: string[] }> {
    const reasons: string[] = [];
    if (this.#m.network.peers().length === 0 && this.#m.expectsPeers) reasons.push("no peers connected");
    for (const chain of this.#m.chains) {
      if (!(await chain.reachable())) reasons.push(`chain ${chain.chainId} unreachable`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  /**
   * Per chain: the relay's final result once it has one; while it is pending, where it stands
   * (the relayer's live job when one runs, else waiting for its next dispatch or for confirmations).
   */
  async #relayStatus(id: Hex): Promise<Json> {
    const out: Record<string, Json> = {};
    const pending = await this.#m.relay.pendingOf(id);
    for (const chain of this.#m.chains) {
      const result = await this.#m.relay.resultOf(id, chain.chainId);
      const entry = pending.get(chain.chainId);
      if (entry && (result === undefined || entry.state === "relaying")) {
        const live = chain.liveRelay?.(id);
        out[String(chain.chainId)] = toJson({
          ...(live ?? {}),
          state: entry.state === "confirming" ? "confirming" : (live?.state ?? "waiting"),
          pending: true,
          dispatches: entry.dispatches,
          lastError: entry.lastError,
          nextAt: entry.nextAt,
        });
      } else {
        out[String(chain.chainId)] = result ?? null;
      }
    }
    return out;
  }
}

/** Candidates the status shows at most. */
const STATUS_CANDIDATES = 20;

interface CandidateStatusView {
  candidateId: Hex;
  candidate: { candidate?: { chainId?: unknown; target?: string } } | null;
  admittedAt: string | null;
  verification: { outcome?: number } | null;
  abstention: Json;
  verdictsSeen: { signers: number[]; outcome: number }[];
  attestation: { outcome: number; signers: number[] } | null;
  relay: Record<string, { status?: string; state?: string; final?: boolean; pending?: boolean } | null>;
}

/** One candidate's line on the status page: what it is, its verdict progress, and where each chain's record stands. */
function candidateSummary(s: CandidateStatusView, threshold: number): Json {
  const signatures = Math.max(0, ...(Array.isArray(s.verdictsSeen) ? s.verdictsSeen : []).map((seen) => seen.signers.length));
  const relay: Record<string, string> = {};
  for (const [chainId, entry] of Object.entries(s.relay)) {
    relay[chainId] = entry === null ? "none" : entry.pending ? (entry.state ?? "pending") : entry.status === "submitted" || entry.status === "already-recorded" ? "recorded" : (entry.status ?? "unknown");
  }
  const chains = Object.values(relay);
  const stage = s.attestation
    ? chains.length > 0 && chains.every((state) => state === "recorded")
      ? "recorded"
      : "attested"
    : s.abstention
      ? "abstaining"
      : s.verification
        ? "collecting"
        : "verifying";
  return {
    candidateId: s.candidateId,
    chainId: s.candidate?.candidate?.chainId === undefined ? null : String(s.candidate.candidate.chainId),
    target: s.candidate?.candidate?.target ?? null,
    admittedAt: s.admittedAt,
    stage,
    outcome: s.attestation?.outcome ?? s.verification?.outcome ?? null,
    signatures: s.attestation ? Math.max(signatures, s.attestation.signers.length) : signatures,
    threshold,
    relay,
  };
}
