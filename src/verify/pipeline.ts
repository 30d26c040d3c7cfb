// The check pipeline: each check is a small module returning findings; the pipeline turns
// findings into an outcome, a reason bitmap and a digest. Same inputs, same findings, same
// digest on every node: findings carry chain facts only (no timings, no node identity), and are
// digested in a canonical order.
import { keccak256, stringToHex, type Address, type Hex, type PublicClient } from "viem";
import type { Candidate } from "../codec/candidate.ts";
import { Outcome } from "../codec/types.ts";
import { reasonBitmap, type ReasonCode } from "./reasons.ts";

export type Severity = "info" | "reject";

export interface Finding {
  check: string;
  code: ReasonCode | "OK";
  severity: Severity;
  message: string;
  /** String values only, so the canonical JSON is unambiguous. */
  evidence?: Record<string, string>;
}

export interface CheckContext {
  candidateId: Hex;
  candidate: Candidate;
  proposer: Address;
  /** Client for the candidate's chain. */
  client: PublicClient;
  /** The implementation's runtime code, read once and shared by every check that needs it. */
  code(): Promise<Hex | undefined>;
}

/** A CheckContext whose `code()` reads the implementation's code at most once. */
export function checkContext(fields: Omit<CheckContext, "code">): CheckContext {
  let code: Promise<Hex | undefined> | undefined;
  return {
    ...fields,
    code: () =>
      (code ??= fields.client.getCode({ address: fields.candidate.implementation }).then((c) => (c && c !== "0x" ? c : undefined))),
  };
}

export interface Check {
  readonly name: string;
  run(context: CheckContext): Promise<Finding[]>;
}

export interface PipelineResult {
  outcome: Outcome;
  reasons: bigint;
  findings: Finding[];
  findingsDigest: Hex;
  /** The implementation's code hash (of empty code if it has none). */
  codehash: Hex;
}

/** keccak256 of empty code: the hash a verdict names when there is no code to approve. */
export const EMPTY_CODEHASH: Hex = keccak256("0x");

/** Runs every check at once (they only read), each bounded in time; findings keep check order. */
export async function runPipeline(context: CheckContext, checks: readonly Check[], options: { checkTimeoutMs: number }) {
  const perCheck = await Promise.all(checks.map((check) => runBounded(check, context, options.checkTimeoutMs)));
  const code = await context.code().catch(() => undefined);
  return summarise(perCheck.flat(), code ? keccak256(code) : EMPTY_CODEHASH);
}

export function summarise(findings: Finding[], codehash: Hex): PipelineResult {
  const rejecting = findings.filter((finding) => finding.severity === "reject");
  const codes = rejecting.map((finding) => finding.code).filter((code): code is ReasonCode => code !== "OK");
  return {
    outcome: rejecting.length === 0 ? Outcome.Approve : Outcome.Reject,
    reasons: reasonBitmap(codes),
    findings,
    findingsDigest: findingsDigest(findings),
    codehash,
  };
}

export function findingsDigest(findings: readonly Finding[]): Hex {
  const canonical = [...findings]
    .map((f) => [f.check, f.code, f.severity, f.message, Object.entries(f.evidence ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))])
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return keccak256(stringToHex(JSON.stringify(canonical)));
}

/** A check that throws or overruns ends in a reject finding, never in a hang or a crash. */
async function runBounded(check: Check, context: CheckContext, timeoutMs: number): Promise<Finding[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Finding[]>((resolve) => {
    timer = setTimeout(
      () => resolve([{ check: check.name, code: "CHECK_TIMED_OUT", severity: "reject", message: `timed out after ${timeoutMs} ms` }]),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      check.run(context).catch((error: unknown): Finding[] => [
        { check: check.name, code: "CHECK_FAILED", severity: "reject", message: `failed: ${(error as Error).message.split("\n")[0]}` },
      ]),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
