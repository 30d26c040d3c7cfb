// The "shadow-deployment" check's findings, and both checks' findings when the run could not
// reach a report. The "proxy-safety" findings of a report are proxySafety.ts's.
import type { CheckName, Policy } from "../../codec/policy.ts";
import type { Finding } from "../pipeline.ts";
import { firstLine, ShadowDeploymentError, type ShadowErrorCode } from "./errors.ts";
import type { InvariantResult, InvariantValue } from "./invariants.ts";
import { PROXY_SAFETY_CHECK, proxySafetyFindings } from "./proxySafety.ts";
import type { ShadowReport, UpgradeOutcome } from "./report.ts";

export const SHADOW_DEPLOYMENT_CHECK: CheckName = "shadow-deployment";

/** Revert data in evidence is cut here: the new code chooses it. */
const MAX_EVIDENCE_HEX_BYTES = 256;

/** Findings of both checks the shadow deployment serves: "shadow-deployment" and "proxy-safety". */
export function shadowFindings(report: ShadowReport, policy: Pick<Policy, "allowAdminChange">): Finding[] {
  return [...shadowDeploymentFindings(report), ...proxySafetyFindings(report, policy)];
}

/**
 * The "shadow-deployment" findings:
 * - [REJECT] UPGRADE_REVERTED: nobody can upgrade, the upgrade reverts, or it leaves another implementation in the slot;
 * - [REJECT] INVARIANT_VIOLATED: one per invariant that does not hold after the upgrade;
 * - [REJECT] POLICY_INVALID: an invariant that cannot be evaluated as written;
 * - [REJECT] NOT_UPGRADEABLE_AFTER: the upgraded proxy cannot be upgraded again;
 * - always one info finding carrying the fork block and the state-diff digest.
 */
export function shadowDeploymentFindings(report: ShadowReport): Finding[] {
  const check = SHADOW_DEPLOYMENT_CHECK;
  const findings: Finding[] = [];
  const upgrade = report.upgrade;
  if (upgrade.status === "no-authority") {
    findings.push({ check, code: "UPGRADE_REVERTED", severity: "reject", message: `nobody can perform the upgrade: ${upgrade.message}`, evidence: { reason: upgrade.reason } });
  } else if (upgrade.status === "reverted") {
    findings.push({
      check,
      code: "UPGRADE_REVERTED",
      severity: "reject",
      message: `the upgrade reverts: ${upgrade.revert?.reason ?? "no revert data"}`,
      evidence: upgradeEvidence(upgrade),
    });
  } else if (report.after && report.after.implementation !== report.implementation) {
    findings.push({
      check,
      code: "UPGRADE_REVERTED",
      severity: "reject",
      message: `the upgrade succeeded but the implementation slot holds ${report.after.implementation}, not ${report.implementation}`,
      evidence: { expected: report.implementation, actual: report.after.implementation },
    });
  }

  for (const result of report.invariants) {
    const evidence = invariantEvidence(result);
    if (result.problem !== undefined) {
      findings.push({ check, code: "POLICY_INVALID", severity: "reject", message: `invariant ${result.name}: ${result.problem}`, evidence });
    } else if (result.holds === false) {
      const expected = result.expected === undefined ? "" : ` ${result.expected}`;
      findings.push({
        check,
        code: "INVARIANT_VIOLATED",
        severity: "reject",
        message: `invariant ${result.name} (${result.relation}${expected}) does not hold: ${valueText(result.before)} before, ${result.after ? valueText(result.after) : "nothing"} after`,
        evidence,
      });
    }
  }

  const second = report.secondUpgrade;
  if (second?.status === "no-authority") {
    findings.push({ check, code: "NOT_UPGRADEABLE_AFTER", severity: "reject", message: `after the upgrade nobody can upgrade the proxy: ${second.message}`, evidence: { reason: second.reason } });
  } else if (second?.status === "reverted") {
    findings.push({
      check,
      code: "NOT_UPGRADEABLE_AFTER",
      severity: "reject",
      message: `after the upgrade, upgrading again reverts: ${second.revert?.reason ?? "no revert data"}`,
      evidence: upgradeEvidence(second),
    });
  }

  const summary: Record<string, string> = {
    forkBlockNumber: report.forkBlockNumber.toString(),
    forkBlockHash: report.forkBlockHash,
    proxyKind: report.proxyKind,
    stateDiffDigest: report.stateDiff?.digest ?? "",
    stateDiffMethod: report.stateDiff?.method ?? "",
    storageChanges: String(report.stateDiff?.changes.length ?? 0),
  };
  if (upgrade.status !== "no-authority") Object.assign(summary, { authority: upgrade.authority, authorityKind: upgrade.kind });
  findings.push({ check, code: "OK", severity: "info", message: `shadow deployment on a fork at block ${report.forkBlockNumber}`, evidence: summary });
  return findings;
}

/** Findings for both checks when the shadow deployment could not run to the end. */
export function shadowFailureFindings(error: unknown): Finding[] {
  const code: ShadowErrorCode = error instanceof ShadowDeploymentError ? error.code : "CHECK_FAILED";
  const message = firstLine(error);
  return [SHADOW_DEPLOYMENT_CHECK, PROXY_SAFETY_CHECK].map((check) => ({ check, code, severity: "reject" as const, message }));
}

function valueText(value: InvariantValue): string {
  return "value" in value ? value.value : `reverted (${value.reverted})`;
}

function invariantEvidence(result: InvariantResult): Record<string, string> {
  const evidence: Record<string, string> = { invariant: result.name, relation: result.relation, before: valueText(result.before) };
  if (result.after) evidence["after"] = valueText(result.after);
  if (result.expected !== undefined) evidence["expected"] = result.expected;
  return evidence;
}

function upgradeEvidence(upgrade: UpgradeOutcome & { status: "success" | "reverted" }): Record<string, string> {
  const data = upgrade.revert?.data ?? "0x";
  return {
    authority: upgrade.authority,
    authorityKind: upgrade.kind,
    to: upgrade.to,
    method: upgrade.method,
    revertReason: upgrade.revert?.reason ?? "",
    revertSelector: data.length >= 10 ? data.slice(0, 10) : "",
    revertData: data.length > 2 + MAX_EVIDENCE_HEX_BYTES * 2 ? `${data.slice(0, 2 + MAX_EVIDENCE_HEX_BYTES * 2)}…` : data,
  };
}
