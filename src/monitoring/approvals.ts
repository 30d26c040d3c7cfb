// Where monitoring meets the node's stores and its signer. The approvals watched are the ones
// this node holds an approval attestation for AND whose candidate and source bundle it holds (so
// it knows the policy's invariants and the pinned block): code this node saw approved. The
// revocation it signs is built from that held attestation alone (codec/revocation.ts), never
// from a peer's claim, and goes through the ordinary signer: the signing record allows one
// digest per revocation id, the aggregator counts it towards the threshold like any verdict, and
// the attestation it forms is relayed to every chain by the durable relay.
import type { Hex } from "viem";
import type { AttestationStore } from "../attestations/attestationStore.ts";
import type { CandidateStore } from "../candidates/candidateStore.ts";
import { decodeAttestation } from "../codec/attestation.ts";
import { parseSignedCandidate } from "../codec/candidate.ts";
import { revocationId, revocationVerdict } from "../codec/revocation.ts";
import type { Invariant } from "../codec/policy.ts";
import { Outcome, type Verdict } from "../codec/types.ts";
import type { SignOutcome } from "../consensus/signer.ts";
import type { EventSink } from "../events/eventLog.ts";
import type { Breach, MonitoredApproval } from "./monitor.ts";

/** Approvals watched at most: each costs a few calls per block and invariant. */
export const MAX_MONITORED_APPROVALS = 256;

export interface ApprovalSourceModules {
  networkId: Hex;
  attestations: Pick<AttestationStore, "withOutcome" | "has">;
  candidates: Pick<CandidateStore, "get" | "bundle">;
  /** Seconds since the epoch. */
  nowSeconds(): bigint;
}

/**
 * The approvals to watch: held, unexpired, with their policy known, and not yet revoked. Read
 * again on every refresh; what a candidate's bundle says (its invariants) is parsed once.
 */
export class ApprovalSource {
  readonly #m: ApprovalSourceModules;
  /** approval id -> its pinned block and invariants, or null: this node lacks its candidate or bundle. */
  readonly #policies = new Map<Hex, { pinnedBlock: bigint; invariants: readonly Invariant[] } | null>();

  constructor(_options: object, modules: ApprovalSourceModules) {
    this.#m = modules;
  }

  async list(): Promise<MonitoredApproval[]> {
    const out: MonitoredApproval[] = [];
    for (const record of await this.#m.attestations.withOutcome(Outcome.Approve, MAX_MONITORED_APPROVALS * 4)) {
      if (out.length >= MAX_MONITORED_APPROVALS) break;
      const approvalId = record.candidateId as Hex;
      const approval = decodeAttestation(record.encoded as Hex).verdict;
      if (approval.expiresAt <= this.#m.nowSeconds()) continue;
      const policy = await this.#policyOf(approvalId);
      if (!policy) continue;
      // Revoked for any invariant: the code is withdrawn, there is nothing left to watch.
      const revoked = await someAsync(policy.invariants, (invariant) =>
        this.#m.attestations.has(revocationId(this.#m.networkId, { approvalId, approval, invariant: invariant.name })),
      );
      if (!revoked) out.push({ approvalId, approval, ...policy });
    }
    return out;
  }

  async #policyOf(approvalId: Hex): Promise<{ pinnedBlock: bigint; invariants: readonly Invariant[] } | null> {
    const known = this.#policies.get(approvalId);
    if (known !== undefined) return known;
    const candidate = await this.#m.candidates.get(approvalId);
    const fields = candidate && parseSignedCandidate(candidate.signed).candidate;
    const bundle = fields && (await this.#m.candidates.bundle(fields.sourceHash));
    // Not cached when missing: the bundle may still arrive from a peer.
    if (!fields || !bundle) return null;
    const policy = { pinnedBlock: fields.blockNumber, invariants: bundle.policy.invariants };
    if (this.#policies.size >= MAX_MONITORED_APPROVALS * 4) this.#policies.delete(this.#policies.keys().next().value!);
    this.#policies.set(approvalId, policy);
    return policy;
  }
}

export interface RevocationSignerModules {
  networkId: Hex;
  attestations: Pick<AttestationStore, "get">;
  signer: { signAndSend(verdict: Verdict): Promise<SignOutcome> };
  events?: EventSink;
}

/**
 * Signs the revocation of a breached approval. Refuses unless the approval attestation is held
 * here and still says approve for the same subject: a node revokes only code it saw approved.
 */
export async function signRevocation(m: RevocationSignerModules, breach: Breach): Promise<SignOutcome | undefined> {
  const held = await m.attestations.get(breach.approval.approvalId);
  if (!held || held.outcome !== Outcome.Approve) return undefined;
  const approval = decodeAttestation(held.encoded as Hex).verdict;
  if (approval.codehash !== breach.approval.approval.codehash || approval.target !== breach.approval.approval.target) return undefined;
  const verdict = revocationVerdict(m.networkId, { approvalId: breach.approval.approvalId, approval, invariant: breach.invariant });
  const outcome = await m.signer.signAndSend(verdict);
  m.events?.emit("revocation.signed", verdict.candidateId, {
    approvalId: breach.approval.approvalId,
    chainId: approval.chainId.toString(),
    target: approval.target,
    codehash: approval.codehash,
    invariant: breach.invariant,
    episode: breach.start.episode,
    block: breach.start.block.toString(),
    status: outcome.status,
  });
  return outcome;
}

async function someAsync<T>(items: readonly T[], test: (item: T) => Promise<boolean>): Promise<boolean> {
  for (const item of items) if (await test(item)) return true;
  return false;
}
