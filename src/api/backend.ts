// The HTTP API's view of a node: each route's answer, read from the parts that hold it. No
// state of its own.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PeerId } from "@libp2p/interface";
import type { Address, Hex } from "viem";
import type { AttestationStore } from "../attestations/attestationStore.ts";
import type { RelayDispatcher } from "../attestations/relayDispatcher.ts";
import type { CandidateStore } from "../candidates/candidateStore.ts";
import type { CandidateTimelines } from "../candidates/timelines.ts";
import type { EventStream } from "./eventStream.ts";
import type { RelayJobStatus } from "../chains/relayer.ts";
import type { SigningRecord } from "../consensus/signingRecord.ts";
import type { RotationVote } from "../consensus/rotationSigner.ts";
import { parseRotationRequest, type RotationRequest } from "../codec/rotation.ts";
import { renderMetrics } from "../metrics/prometheus.ts";
import { nodeMetrics, type NodeMetricSources } from "../metrics/nodeMetrics.ts";
import type { ApiBackend } from "./server.ts";
import { toJson, type Json } from "../util/json.ts";

export interface NodeApiModules {
  submit(body: unknown): Promise<{ candidateId: Hex; duplicate: boolean }>;
  /** This validator's rotation vote (src/consensus/rotationSigner.ts). */
  rotations: { vote(request: RotationRequest): Promise<RotationVote> };
  candidates: CandidateStore;
  attestations: AttestationStore;
  relay: RelayDispatcher;
  signingRecord: SigningRecord;
  timelines: CandidateTimelines;
  events: EventStream;
  /** Signers seen per verdict digest of a candidate. */
  verdictsSeen(candidateId: Hex): Json;
  /** The served chains, with each one's relayer's live job status (if it relays). */
  chains: readonly { chainId: number; liveRelay?(candidateId: Hex): RelayJobStatus | undefined; reachable(): Promise<boolean> }[];
  network: { peerId(): string; peers(): PeerId[]; scoreOf(peer: PeerId): number; counters(): Record<string, number> };
  identity: { validatorIndex: number | null; setIndex: number };
  /** Peers are expected (the node has bootstrap peers): none connected makes it unready. */
  expectsPeers: boolean;
  metricSources(): NodeMetricSources;
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
      /** Set while this node abstains: it could not observe the candidate (its RPC, a time limit). */
      abstention: record?.abstention ?? null,
      signedDigest: (await this.#m.signingRecord.signedDigest(id)) ?? null,
      verdictsSeen: this.#m.verdictsSeen(id),
      timeline: this.#m.timelines.get(id) as Json,
      attestation: attestation ?? null,
      relay: await this.#relayStatus(id),
    };
  }

  async attestation(id: Hex): Promise<Json | undefined> {
    const record = await this.#m.attestations.get(id);
    return record ? { ...record, relay: await this.#relayStatus(id) } : undefined;
  }

  attestationsByTarget(chainId: bigint, target: Hex): Promise<Json[]> {
    return this.#m.attestations.byTarget(chainId, target as Address);
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

  metrics(): string {
    return renderMetrics(nodeMetrics(this.#m.metricSources()));
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
