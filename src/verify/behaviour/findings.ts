// The "behaviour" check's findings, from both sides of the differential (report.ts):
// - [REJECT] BEHAVIOUR_CHANGED: a call to a function both implementations have does something
//   else under V2 at the upgrade (status, return data, logs, storage, balances), unless the policy
//   declares that function's change intended;
// - [REJECT] LATENT_TRIGGER: a call that matched at the upgrade differs later (after the fork's
//   clock and blocks moved on, or from the k-th repetition of a probe on), or an invariant that
//   held at the upgrade breaks later under V2 while V1, moved the same way, keeps it;
// - [REJECT] POLICY_INVALID: a probe that cannot be made as written;
// - always one info finding: what was compared.
import { toFunctionSelector, type Hex } from "viem";
import type { CheckName, Policy } from "../../codec/policy.ts";
import type { Finding } from "../pipeline.ts";
import type { InvariantValue } from "../shadow/index.ts";
import { firstDifference } from "./effects.ts";
import type { BehaviourCall, BehaviourReport, Offset } from "./report.ts";

export const BEHAVIOUR_CHECK: CheckName = "behaviour";

export function behaviourFindings(report: BehaviourReport, policy: Pick<Policy, "intendedChanges">): Finding[] {
  const check = BEHAVIOUR_CHECK;
  const findings: Finding[] = [];
  for (const { probe, problem } of report.probeProblems) {
    findings.push({ check, code: "POLICY_INVALID", severity: "reject", message: `probe ${probe}: ${problem}`, evidence: { probe } });
  }
  const intended = new Set<Hex>((policy.intendedChanges ?? []).map((signature) => toFunctionSelector(signature)));
  // A replayed transaction carries only its selector: named from the policy's probes and intended changes when they know it.
  const names = new Map<Hex, string>([
    ...(policy.intendedChanges ?? []).map((signature): [Hex, string] => [toFunctionSelector(signature), signature]),
    ...report.calls.flatMap((call): [Hex, string][] => (call.signature === undefined ? [] : [[call.selector, call.signature]])),
  ]);
  const functionName = (call: BehaviourCall) => call.signature ?? names.get(call.selector) ?? `function ${call.selector}`;
  const summary: Record<string, string> = {
    forkBlockNumber: report.forkBlockNumber.toString(),
    callsCompared: String(report.calls.length),
    replays: String(report.calls.filter((c) => c.kind === "replay").length),
    probes: String(report.calls.filter((c) => c.kind === "probe").length),
    skipped: String(report.skipped.length),
    offsets: report.steps.map((s) => offsetText(s.offset)).join(", "),
  };
  if (report.notCompared !== undefined) {
    findings.push({ check, code: "OK", severity: "info", message: `behaviour not compared: ${report.notCompared} (the shadow deployment reports it)`, evidence: summary });
    return findings;
  }

  for (const [c, call] of report.calls.entries()) {
    if (intended.has(call.selector)) continue;
    const found = firstCallDifference(report, c);
    if (found === undefined) continue;
    const { step, repetition, what } = found;
    const evidence: Record<string, string> = { function: functionName(call), selector: call.selector, call: call.label, kind: call.kind, from: call.from, difference: what };
    if (step === 0 && repetition === 0) {
      findings.push({ check, code: "BEHAVIOUR_CHANGED", severity: "reject", message: `${functionName(call)} behaves differently after the upgrade (${callText(call)}): ${what}`, evidence });
      continue;
    }
    const offset = report.steps[step]!.offset;
    const when = step === 0 ? `from call ${repetition + 1} of ${call.repeat} on` : `${offsetText(offset)} after the upgrade${repetition > 0 ? `, call ${repetition + 1}` : ""}`;
    Object.assign(evidence, { offsetSeconds: String(offset.seconds), offsetBlocks: String(offset.blocks), repetition: String(repetition + 1) });
    findings.push({ check, code: "LATENT_TRIGGER", severity: "reject", message: `${functionName(call)} behaves as before at the upgrade but differently ${when} (${callText(call)}): ${what}`, evidence });
  }

  const atUpgrade = report.steps[0]?.invariants ?? [];
  for (const [i, first] of atUpgrade.entries()) {
    if (first.holds !== true) continue; // broken at the upgrade: the shadow deployment's INVARIANT_VIOLATED
    const later = report.steps.findIndex((step) => step.invariants[i]?.holds === false);
    if (later < 0) continue;
    const { offset, invariants } = report.steps[later]!;
    const outcome = invariants[i]!;
    findings.push({
      check,
      code: "LATENT_TRIGGER",
      severity: "reject",
      message: `invariant ${first.name} holds at the upgrade but not ${offsetText(offset)} later: ${valueText(outcome.v1)} under V1, ${valueText(outcome.v2)} under V2`,
      evidence: { invariant: first.name, offsetSeconds: String(offset.seconds), offsetBlocks: String(offset.blocks), v1: valueText(outcome.v1), v2: valueText(outcome.v2) },
    });
  }
  findings.push({ check, code: "OK", severity: "info", message: `behaviour compared on a fork at block ${report.forkBlockNumber}: ${report.calls.length} calls at ${report.steps.length} points in time`, evidence: summary });
  return findings;
}

/** The earliest difference of one call: at the upgrade first, repetition by repetition, then at each later offset. */
function firstCallDifference(report: BehaviourReport, c: number): { step: number; repetition: number; what: string } | undefined {
  for (const [step, outcome] of report.steps.entries()) {
    for (const [repetition, { v1, v2 }] of (outcome.effects[c] ?? []).entries()) {
      const what = firstDifference(v1, v2);
      if (what !== undefined) return { step, repetition, what };
    }
  }
  return undefined;
}

function callText(call: BehaviourCall): string {
  return call.kind === "replay" ? `replaying transaction ${call.label} from ${call.from}` : `probe ${call.label} from ${call.from}`;
}

function offsetText(offset: Offset): string {
  if (offset.seconds === 0) return "at the upgrade";
  const days = offset.seconds / 86_400;
  return `${Number.isInteger(days) ? `${days} days` : `${offset.seconds} s`} and ${offset.blocks} blocks`;
}

function valueText(value: InvariantValue | undefined): string {
  return value === undefined ? "not evaluated" : "value" in value ? value.value : `reverted (${value.reverted})`;
}
