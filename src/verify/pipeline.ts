// The check pipeline: each check is a small module returning findings; the pipeline turns
// findings into an outcome, a reason bitmap and a digest. Same inputs, same findings, same
// digest on every node: findings carry chain and source facts only (no timings, no cache state,
// no node identity), and are digested in a canonical order.
import { keccak256, type Hex } from "viem";
import { canonicalJson } from "../codec/canonicalJson.ts";
import { Outcome } from "../codec/types.ts";
import { checkMode, type CheckName, type Policy } from "../codec/policy.ts";
import type { VerificationContext } from "./context.ts";
import { PrerequisiteUnavailable } from "./errors.ts";
import { reasonBitmap, type ReasonCode } from "./reasons.ts";

/** "warning": a failure of a check the policy makes advisory; it does not reject. */
export type Severity = "info" | "warning" | "reject";

export interface Finding {
  check: CheckName;
  /** A reason code, "OK", or "SKIPPED" (a prerequisite another check reports was unavailable). */
  code: ReasonCode | "OK" | "SKIPPED";
  severity: Severity;
  message: string;
  /** String values only, so the canonical JSON is unambiguous. */
  evidence?: Record<string, string>;
}

export interface Check {
  readonly name: CheckName;
  run(context: VerificationContext): Promise<Finding[]>;
}

export interface PipelineResult {
  outcome: Outcome;
  reasons: bigint;
  findings: Finding[];
  findingsDigest: Hex;
  /** The implementation's code hash (of empty code if it has none). */
  codehash: Hex;
  /** Per check wall time, for reports and benchmarks; not part of the verdict. */
  timings: Partial<Record<CheckName, number>>;
  /** What a person reviewing the report reads beyond the findings (a human approver); not part of the verdict. */
  details?: ReportDetails;
}

/** The shadow deployment's facts in full, for people: the findings carry only their digest and violations. */
export interface ReportDetails {
  /** Every storage slot the upgrade wrote, at most MAX_DETAIL_CHANGES (then `stateDiffTruncated`). */
  stateDiff?: { address: string; slot: string; before: string; after: string }[];
  stateDiffTruncated?: boolean;
  /** Every policy invariant, before and after the upgrade. */
  invariants?: { name: string; relation: string; before: string; after?: string; expected?: string; holds?: boolean }[];
}

export const MAX_DETAIL_CHANGES = 256;

/** keccak256 of empty code: the hash a verdict names when there is no code to approve. */
export const EMPTY_CODEHASH: Hex = keccak256("0x");

export interface PipelineOptions {
  checkTimeoutMs: number;
}

/**
 * Runs every check at once (they share derived values through the context), each bounded in
 * time, then applies the policy: failures of advisory checks become warnings.
 */
export async function runPipeline(context: VerificationContext, checks: readonly Check[], options: PipelineOptions): Promise<PipelineResult> {
  const timings: Partial<Record<CheckName, number>> = {};
  const perCheck = await Promise.all(
    checks.map(async (check) => {
      const started = performance.now();
      const findings = await runBounded(check, context, options.checkTimeoutMs);
      timings[check.name] = Math.round(performance.now() - started);
      return findings;
    }),
  );
  // Both were awaited by checks that are over, so these settle at once, unless a check timed out
  // waiting on them: then they are bounded like a check.
  const policy = await bounded(context.bundle().then((bundle) => bundle.policy), options.checkTimeoutMs).catch(() => undefined);
  const codehash = await bounded(context.codehash(), options.checkTimeoutMs).catch(() => EMPTY_CODEHASH);
  const findings = applyPolicy(perCheck.flat(), policy);
  return { ...summarise(findings, codehash), timings };
}

/** Without a policy (no bundle) every check is required, the strict default. */
export function applyPolicy(findings: Finding[], policy: Policy | undefined): Finding[] {
  if (policy === undefined) return findings;
  return findings.map((finding) =>
    finding.severity === "reject" && checkMode(policy, finding.check) === "advisory" ? { ...finding, severity: "warning" as const } : finding,
  );
}

export function summarise(findings: Finding[], codehash: Hex): Omit<PipelineResult, "timings"> {
  const rejecting = findings.filter((finding) => finding.severity === "reject");
  const codes = rejecting.map((finding) => finding.code).filter((code): code is ReasonCode => code !== "OK" && code !== "SKIPPED");
  return {
    outcome: rejecting.length === 0 ? Outcome.Approve : Outcome.Reject,
    reasons: reasonBitmap(codes),
    findings,
    findingsDigest: findingsDigest(findings),
    codehash,
  };
}

export function findingsDigest(findings: readonly Finding[]): Hex {
  const canonical = findings.map((f) => canonicalJson(f)).sort();
  return keccak256(new TextEncoder().encode(`[${canonical.join(",")}]`));
}

/** A check that throws or overruns ends in a finding, never in a hang or a crash. */
async function runBounded(check: Check, context: VerificationContext, timeoutMs: number): Promise<Finding[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Finding[]>((resolve) => {
    timer = setTimeout(
      () => resolve([{ check: check.name, code: "CHECK_TIMED_OUT", severity: "reject", message: `timed out after ${timeoutMs} ms` }]),
      timeoutMs,
    );
  });
  try {
    // In a promise, so a check that throws before returning one ends in a finding too.
    const run = new Promise<Finding[]>((resolve) => resolve(check.run(context)));
    return await Promise.race([run.catch((error: unknown): Finding[] => [failureFinding(check.name, error)]), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function bounded<T>(value: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([value, timeout]).finally(() => clearTimeout(timer));
}

function failureFinding(check: CheckName, error: unknown): Finding {
  if (error instanceof PrerequisiteUnavailable) {
    return { check, code: "SKIPPED", severity: "info", message: `skipped: ${error.prerequisite} unavailable (reported by the check that owns it)` };
  }
  return { check, code: "CHECK_FAILED", severity: "reject", message: `failed: ${firstLine(error)}` };
}

export function firstLine(error: unknown): string {
  const line = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
  // viem's first line is generic ("RPC Request failed."); what the endpoint said is in `details`.
  const details = (error as { details?: unknown } | undefined)?.details;
  return typeof details === "string" && details !== "" && !line.includes(details) ? `${line.replace(/\.$/, "")}: ${details.split("\n")[0]}` : line;
}
