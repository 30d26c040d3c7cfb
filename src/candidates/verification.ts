// One candidate's verification, from its bundle to its signed verdict: the bundle is loaded (from
// the store or from peers), the check pipeline runs in its worker thread, the result is stored
// with the candidate, and the verdict goes to the signer. What only this node failed at (no peer
// served the bundle yet, the worker died) is not a finding: it is VerifyLaterError, retried by
// the scheduler. A bundle that arrived but does not parse is the proposer's fault, the same on
// every node: the pipeline reports it as a finding. Findings that are failures to observe (this
// node's RPC, time limit or compiler; verify/observation.ts) are not signed either: the node
// abstains, records why, and the scheduler retries until the candidate expires.
import type { Logger } from "pino";
import type { Address, Hex } from "viem";
import type { AdmittedCandidate } from "../admission/admission.ts";
import { BundleFormatError } from "../codec/bundle.ts";
import type { HumanGate } from "../codec/policy.ts";
import { Outcome, verdictDigest, type Verdict } from "../codec/types.ts";
import type { Signer } from "../consensus/signer.ts";
import { failuresToObserve } from "../verify/observation.ts";
import type { PipelineResult } from "../verify/pipeline.ts";
import { PipelineWorkerError, type VerifyJob } from "../verify/worker/pipelineWorker.ts";
import type { EventSink } from "../events/eventLog.ts";
import type { Clock } from "../util/clock.ts";
import { BundleUnavailableError, type BundleSource } from "./bundleSource.ts";
import type { CandidateStore } from "./candidateStore.ts";
import { VerifyLaterError } from "./scheduler.ts";
import type { Stage } from "./timelines.ts";
import type { Json } from "../util/json.ts";

export interface VerificationModules {
  networkId: Hex;
  store: CandidateStore;
  bundles: BundleSource;
  pipeline: { verify(job: VerifyJob): Promise<PipelineResult> };
  /** The served chains' coordinates, as the pipeline reads them. */
  chains: ReadonlyMap<number, { chainId: number; rpcUrl: string; registry: Address }>;
  signer: Signer;
  /** Where an automated approval under a policy with a human gate waits for its approvers (candidates/humanGate.ts). */
  humanGate?: { wait(admitted: AdmittedCandidate, verdict: Verdict, gate: HumanGate): Promise<void> };
  /** Timeline marks, and the signer's hook for the rest of the node (relay warm-up). */
  mark(candidateId: Hex, stage: Stage): void;
  onSigned(candidateId: Hex): void;
  events?: EventSink;
  clock: Clock;
  logger: Logger;
}

export class CandidateVerification {
  readonly #m: VerificationModules;
  /** Verifications this node abstained from: it could not observe (RPC, time limit, compiler). */
  readonly stats = { abstained: 0 };

  constructor(_options: object, modules: VerificationModules) {
    this.#m = modules;
  }

  async run(admitted: AdmittedCandidate): Promise<void> {
    const { candidate } = admitted.signed;
    const chain = this.#m.chains.get(Number(candidate.chainId));
    // Admission only lets in candidates for served chains; a record from another config is left.
    if (!chain) return;
    const started = performance.now();
    const record = await this.#m.store.get(admitted.id);
    let bundle: VerifyJob["bundle"];
    try {
      bundle = { ok: true, value: await this.#m.bundles.load(candidate.sourceHash, record?.from ?? null) };
    } catch (error) {
      if (error instanceof BundleFormatError) bundle = { ok: false, field: error.field, reason: error.reason };
      else if (error instanceof BundleUnavailableError) throw new VerifyLaterError("VERIFY_LATER", error.message, { candidateId: admitted.id }, { cause: error });
      else throw error;
    }
    this.#m.mark(admitted.id, "bundleLoaded");
    let result: PipelineResult;
    try {
      result = await this.#m.pipeline.verify({ candidateId: admitted.id, candidate, proposer: admitted.proposer, chain, bundle });
    } catch (error) {
      if (error instanceof PipelineWorkerError) throw new VerifyLaterError("VERIFY_LATER", error.message, { candidateId: admitted.id }, { cause: error });
      throw error;
    }
    const verificationMs = performance.now() - started;
    // Abstain, don't vote: a check this node could not carry out says nothing about the candidate.
    const unobserved = failuresToObserve(result.findings);
    if (unobserved.length > 0) {
      this.stats.abstained++;
      const abstention = { at: this.#m.clock.now(), findings: unobserved.map(({ check, code, message }) => ({ check, code, message })) };
      await this.#m.store.setAbstention(admitted.id, abstention);
      const { chainId, target } = admitted.signed.candidate;
      this.#m.events?.emit("verification.deferred", admitted.id, { ...abstention, chainId: chainId.toString(), target });
      this.#m.logger.warn({ candidate: admitted.id, codes: unobserved.map((f) => f.code) }, "could not observe the candidate: abstaining, retrying later");
      throw new VerifyLaterError("VERIFY_LATER", `this node could not observe: ${unobserved.map((f) => `${f.check} ${f.code}`).join(", ")}`, { candidateId: admitted.id });
    }
    this.#m.mark(admitted.id, "verified");
    const verdict = toVerdict(admitted, result);
    const digest = verdictDigest(this.#m.networkId, verdict);
    await this.#m.store.setVerification(admitted.id, {
      outcome: result.outcome,
      reasons: result.reasons.toString(),
      findings: result.findings as never,
      findingsDigest: result.findingsDigest,
      codehash: result.codehash,
      digest,
      verificationMs: Math.round(verificationMs),
      timings: result.timings,
      ...(result.details !== undefined && { details: result.details as Json }),
    });
    const gate = bundle.ok ? bundle.value.policy?.humanGate : undefined;
    // An automated rejection never waits for humans.
    if (gate !== undefined && verdict.outcome === Outcome.Approve && this.#m.humanGate !== undefined) {
      await this.#m.humanGate.wait(admitted, verdict, gate);
      return;
    }
    await this.sign(admitted, verdict, verificationMs);
  }

  /** The verdict through the signer (signing record first), and the node told. */
  async sign(admitted: AdmittedCandidate, verdict: Verdict, verificationMs?: number): Promise<void> {
    const outcome = await this.#m.signer.signAndSend(verdict, {
      onSigned: () => {
        this.#m.mark(admitted.id, "signed");
        this.#m.onSigned(admitted.id);
      },
    });
    if (outcome.status !== "signed") return;
    this.#m.logger.info({ candidate: admitted.id, outcome: verdict.outcome, reasons: verdict.reasons.toString(), ...(verificationMs !== undefined && { verificationMs: Math.round(verificationMs) }) }, "verdict signed");
    this.#m.mark(admitted.id, "published");
    this.#m.events?.emit("verdict.signed", admitted.id, {
      chainId: verdict.chainId.toString(),
      target: verdict.target,
      digest: outcome.digest,
      outcome: verdict.outcome,
      reasons: verdict.reasons.toString(),
      codehash: verdict.codehash,
      findingsDigest: verdict.findingsDigest,
    });
  }
}

export function toVerdict(admitted: AdmittedCandidate, result: PipelineResult): Verdict {
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
    // The proposer signed it; verification neither checks nor changes it (the shadow
    // deployment of a bound candidate is the same as an unbound one's).
    ...(candidate.binding !== undefined ? { binding: candidate.binding } : {}),
  };
}
