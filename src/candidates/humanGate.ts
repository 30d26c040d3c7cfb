// The human gate (docs/approvals.md): a candidate whose automated checks approve, under a policy
// with a `humanGate`, is signed only once m of the policy's k approvers have approved this
// node's own report of it (its findings digest). Until then it waits; when the approval window
// closes first, the node signs REJECT with HUMAN_APPROVAL_REQUIRED. An automated rejection
// never comes here: it is signed at once.
//
// Approvals arrive from the API (this node publishes them) and from gossip; each is verified by
// consensus/validation/approval.ts against this node's report, stored (fsync'd) and counted
// once per approver. An approval that arrives before this node has its report is held in memory
// (bounded) and verified when the report is ready. After a restart the candidate is verified
// again (candidates/resume.ts), comes back here, and finds its approvals in the store.
//
// The window closes at the candidate's createdAt plus the policy's windowSeconds, and never
// later than closingMarginSeconds before the candidate expires: the REJECT is an attestation the
// registry must still accept (it refuses one at or past expiresAt).
import type { Logger } from "pino";
import type { Address, Hex } from "viem";
import type { AdmittedCandidate } from "../admission/admission.ts";
import { ApprovalFormatError, decodeSignedApproval, encodeSignedApproval, parseSignedApproval, type SignedHumanApproval } from "../codec/humanApproval.ts";
import type { HumanGate as GatePolicy } from "../codec/policy.ts";
import { Outcome, type Verdict } from "../codec/types.ts";
import { ApprovalError, verifyApproval } from "../consensus/validation/approval.ts";
import type { Clock, Timer } from "../util/clock.ts";
import { ReasonCode } from "../verify/reasons.ts";
import type { ApprovalStore } from "./approvalStore.ts";

export interface HumanGateOptions {
  networkId: Hex;
  /** The window closes at least this long before the candidate expires, so the REJECT can be recorded. */
  closingMarginSeconds: number;
  /** Approvals held for candidates this node has no report of yet, in all. */
  maxHeld: number;
}

export const DEFAULT_HUMAN_GATE = { closingMarginSeconds: 30, maxHeld: 1024 } as const;
/** setTimeout's largest delay (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Approvals held for one candidate: a policy names at most 32 approvers, so twice that is plenty. */
const MAX_HELD_PER_CANDIDATE = 64;

export interface HumanGateModules {
  store: ApprovalStore;
  /** Whether this node holds the candidate (admitted). */
  hasCandidate(candidateId: Hex): Promise<boolean>;
  /** Signs the verdict through the node's signer path (signing record first). */
  sign(admitted: AdmittedCandidate, verdict: Verdict): Promise<void>;
  /** Gossips an approval this node took from its API. */
  publish(bytes: Uint8Array): Promise<void>;
  /** ERC-1271 on a chain at its confirmed head; throws when it could not ask. */
  isValidSignature(chainId: number, wallet: Address, hash: Hex, signature: Hex): Promise<boolean>;
  clock: Clock;
  logger: Logger;
}

export type GateState = "awaiting-approvals" | "approved" | "rejected";

export interface GateStatus {
  state: GateState;
  count: number;
  threshold: number;
  approvers: Address[];
  /** The approvers whose approvals this node holds. */
  approvedBy: Address[];
  findingsDigest: Hex;
  closesAt: string;
  message: string;
}

interface Waiting {
  admitted: AdmittedCandidate;
  verdict: Verdict;
  gate: GatePolicy;
  closesAtMs: number;
  timer: Timer | undefined;
  state: GateState;
  approvedBy: Address[];
  message: string;
}

export interface SubmitResult {
  /** False when this approver's approval was already held. */
  added: boolean;
  status: GateStatus;
}

export class HumanGate {
  readonly #options: HumanGateOptions;
  readonly #m: HumanGateModules;
  readonly #waiting = new Map<Hex, Waiting>();
  readonly #held = new Map<Hex, SignedHumanApproval[]>();
  #heldCount = 0;
  readonly stats = { accepted: 0, refused: 0, held: 0, approved: 0, rejected: 0 };

  constructor(options: Partial<HumanGateOptions> & { networkId: Hex }, modules: HumanGateModules) {
    this.#options = { ...DEFAULT_HUMAN_GATE, ...options };
    this.#m = modules;
  }

  /**
   * The automated checks approved `verdict` under a gated policy: sign it now if m approvals are
   * held, else wait for them until the window closes. Idempotent (a re-verification after a
   * restart, or a retry, comes here again).
   */
  async wait(admitted: AdmittedCandidate, verdict: Verdict, gate: GatePolicy): Promise<void> {
    const id = admitted.id.toLowerCase() as Hex;
    if (this.#waiting.has(id)) return;
    this.#forgetExpired();
    const { createdAt, expiresAt } = admitted.signed.candidate;
    const latest = Number(expiresAt) - this.#options.closingMarginSeconds;
    const closes = gate.windowSeconds === undefined ? latest : Math.min(Number(createdAt) + gate.windowSeconds, latest);
    const entry: Waiting = { admitted, verdict, gate, closesAtMs: closes * 1000, timer: undefined, state: "awaiting-approvals", approvedBy: [], message: "" };
    this.#waiting.set(id, entry);
    for (const approval of await this.#m.store.list(id)) {
      // An approval gossiped in while the store was read is counted already: once per approver.
      if (gate.approvers.includes(approval.approver) && approval.findingsDigest === verdict.findingsDigest.toLowerCase() && !entry.approvedBy.includes(approval.approver)) {
        entry.approvedBy.push(approval.approver);
      }
    }
    const held = this.#held.get(id) ?? [];
    this.#held.delete(id);
    this.#heldCount -= held.length;
    for (const approval of held) await this.#accept(entry, approval).catch(() => undefined);
    entry.message = this.#describe(entry);
    this.#m.logger.info({ candidate: id, count: entry.approvedBy.length, threshold: gate.threshold, closesAt: new Date(entry.closesAtMs).toISOString() }, "automated checks passed: awaiting human approvals");
    await this.#decide(entry);
    this.#schedule(entry);
  }

  /** The window's close, in steps a timer can take (a window can be longer than setTimeout's 24.8 days). */
  #schedule(entry: Waiting): void {
    if (entry.state !== "awaiting-approvals") return;
    const delay = Math.max(0, entry.closesAtMs - this.#m.clock.now());
    const step = Math.min(delay, MAX_TIMER_MS);
    entry.timer = this.#m.clock.setTimeout(() => {
      if (step < delay) return this.#schedule(entry);
      void this.#close(entry).catch((error: unknown) => this.#m.logger.error({ err: error, candidate: entry.admitted.id }, "could not close the approval window"));
    }, step);
  }

  /** An approval from the API: verified, stored, published. Throws ApprovalError or ApprovalFormatError. */
  async submit(candidateId: Hex, body: unknown): Promise<SubmitResult> {
    const approval = parseSignedApproval(body);
    if (approval.candidateId !== candidateId.toLowerCase()) {
      throw new ApprovalError("UNKNOWN_CANDIDATE", `the approval is of candidate ${approval.candidateId}, not ${candidateId}`, { candidateId });
    }
    const entry = await this.#entryFor(approval);
    const added = await this.#accept(entry, approval);
    if (added) {
      await this.#m.publish(encodeSignedApproval(approval)).catch((error: unknown) => this.#m.logger.warn({ err: error, candidate: candidateId }, "could not gossip the approval"));
      await this.#decide(entry);
    }
    return { added, status: this.#status(entry) };
  }

  /** An approval from gossip: "accept" (counted, forwarded), or an ApprovalError carrying the action. */
  async fromGossip(bytes: Uint8Array): Promise<"accept" | "ignore"> {
    let approval: SignedHumanApproval;
    try {
      approval = decodeSignedApproval(bytes);
    } catch (error) {
      if (error instanceof ApprovalFormatError) throw new ApprovalError("MALFORMED", error.message, {}, { cause: error });
      throw error;
    }
    let entry: Waiting;
    try {
      entry = await this.#entryFor(approval);
    } catch (error) {
      // Not verified here yet: held until this node's report exists, not forwarded by this node.
      if (error instanceof ApprovalError && error.code === "NOT_VERIFIED") return this.#hold(approval);
      throw error;
    }
    if (!(await this.#accept(entry, approval))) return "ignore";
    await this.#decide(entry);
    return "accept";
  }

  status(candidateId: Hex): GateStatus | undefined {
    const entry = this.#waiting.get(candidateId.toLowerCase() as Hex);
    return entry === undefined ? undefined : this.#status(entry);
  }

  stop(): void {
    for (const entry of this.#waiting.values()) entry.timer?.cancel();
  }

  /** Expired candidates' entries and held approvals: nothing can be signed for them any more. */
  #forgetExpired(): void {
    const now = this.#m.clock.now();
    for (const [id, entry] of this.#waiting) {
      if (Number(entry.admitted.signed.candidate.expiresAt) * 1000 > now) continue;
      entry.timer?.cancel();
      this.#waiting.delete(id);
    }
    for (const [id, list] of this.#held) {
      if (list.every((approval) => Number(approval.expiresAt) * 1000 <= now)) {
        this.#held.delete(id);
        this.#heldCount -= list.length;
      }
    }
  }

  async #entryFor(approval: SignedHumanApproval): Promise<Waiting> {
    const id = approval.candidateId;
    const entry = this.#waiting.get(id);
    if (entry !== undefined) {
      if (entry.state !== "awaiting-approvals") throw new ApprovalError("DECIDED", `this node already signed the candidate's verdict (${entry.state})`, { candidateId: id });
      return entry;
    }
    if (!(await this.#m.hasCandidate(id))) throw new ApprovalError("UNKNOWN_CANDIDATE", "this node holds no such candidate", { candidateId: id });
    throw new ApprovalError("NOT_VERIFIED", "this node has no approving automated report of the candidate (not verified yet, rejected, or not under a human gate)", { candidateId: id });
  }

  /** Verifies and stores; true when it added an approver. Throws ApprovalError. */
  async #accept(entry: Waiting, approval: SignedHumanApproval): Promise<boolean> {
    if (entry.approvedBy.includes(approval.approver)) return false;
    const chainId = Number(entry.verdict.chainId);
    try {
      await verifyApproval(
        approval,
        { networkId: this.#options.networkId, gate: entry.gate, findingsDigest: entry.verdict.findingsDigest, nowSeconds: BigInt(Math.floor(this.#m.clock.now() / 1000)) },
        { isValidSignature: (wallet, hash, signature) => this.#m.isValidSignature(chainId, wallet, hash, signature) },
      );
    } catch (error) {
      this.stats.refused++;
      throw error;
    }
    const added = await this.#m.store.add(approval);
    // Checked again after the write: another path may have counted this approver meanwhile.
    if (entry.approvedBy.includes(approval.approver)) return false;
    entry.approvedBy.push(approval.approver);
    entry.message = this.#describe(entry);
    this.stats.accepted++;
    this.#m.logger.info({ candidate: entry.admitted.id, approver: approval.approver, count: entry.approvedBy.length, threshold: entry.gate.threshold }, "human approval accepted");
    if (!added) this.#m.logger.debug({ candidate: entry.admitted.id, approver: approval.approver }, "approval already stored");
    return true;
  }

  #hold(approval: SignedHumanApproval): "ignore" {
    if (this.#heldCount >= this.#options.maxHeld) return "ignore";
    const list = this.#held.get(approval.candidateId) ?? [];
    if (list.length >= MAX_HELD_PER_CANDIDATE) return "ignore";
    if (list.some((held) => held.approver === approval.approver && held.signature === approval.signature)) return "ignore";
    list.push(approval);
    this.#held.set(approval.candidateId, list);
    this.#heldCount++;
    this.stats.held++;
    return "ignore";
  }

  async #decide(entry: Waiting): Promise<void> {
    if (entry.state !== "awaiting-approvals" || entry.approvedBy.length < entry.gate.threshold) return;
    // Before the await: a second approval arriving meanwhile must not sign twice.
    entry.state = "approved";
    entry.timer?.cancel();
    entry.message = this.#describe(entry);
    this.stats.approved++;
    await this.#m.sign(entry.admitted, entry.verdict);
  }

  async #close(entry: Waiting): Promise<void> {
    if (entry.state !== "awaiting-approvals") return;
    entry.state = "rejected";
    entry.message = this.#describe(entry);
    this.stats.rejected++;
    this.#m.logger.warn({ candidate: entry.admitted.id, count: entry.approvedBy.length, threshold: entry.gate.threshold }, entry.message);
    await this.#m.sign(entry.admitted, rejectionOf(entry.verdict));
  }

  #describe(entry: Waiting): string {
    const held = `${entry.approvedBy.length} of the ${entry.gate.threshold} human approvals required (${entry.gate.approvers.length} approvers)`;
    if (entry.state === "approved") return `approved: ${held}`;
    if (entry.state === "rejected") return `the approval window closed with ${held}`;
    return `awaiting human approvals: ${held}`;
  }

  #status(entry: Waiting): GateStatus {
    return {
      state: entry.state,
      count: entry.approvedBy.length,
      threshold: entry.gate.threshold,
      approvers: entry.gate.approvers,
      approvedBy: [...entry.approvedBy],
      findingsDigest: entry.verdict.findingsDigest,
      closesAt: new Date(entry.closesAtMs).toISOString(),
      message: entry.message,
    };
  }
}

/**
 * The REJECT a closed window signs: the same automated findings digest (what the approvers were
 * asked about), HUMAN_APPROVAL_REQUIRED as the reason. It carries no count: nodes holding
 * different numbers of approvals must still sign one digest.
 */
export function rejectionOf(verdict: Verdict): Verdict {
  return { ...verdict, outcome: Outcome.Reject, reasons: 1n << BigInt(ReasonCode.HUMAN_APPROVAL_REQUIRED) };
}
