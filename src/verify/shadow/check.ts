// The shadow deployment (fork at the pinned block, upgrade as the real authority, invariants,
// upgrade again) runs once per candidate and is reported as two checks.
import { keccak256 } from "viem";
import type { CheckName } from "../../codec/policy.ts";
import type { VerificationContext } from "../context.ts";
import { PrerequisiteUnavailable } from "../errors.ts";
import { MAX_DETAIL_CHANGES, type Check, type Finding, type ReportDetails } from "../pipeline.ts";
import type { InvariantResult } from "./invariants.ts";
import { shadowDeploymentFindings, shadowFailureFindings } from "./findings.ts";
import { proxySafetyFindings } from "./proxySafety.ts";
import { registryApprovalOverride } from "./registryApproval.ts";
import type { ShadowReport } from "./report.ts";
import { runShadowDeployment } from "./run.ts";

/** The fork, the upgrade and two rounds of invariant calls: most of it is anvil fetching state. */
export const SHADOW_TIMEOUT_MS = 45_000;

function report(context: VerificationContext): Promise<ShadowReport> {
  return context.shared("shadow", async () => {
    // Not waiting for the compiler (seconds, cold): the selector-clash check reads the new
    // implementation's selectors from its dispatcher, which the bytecode tests pin to solc's
    // methodIdentifiers.
    const [bundle, code] = await Promise.all([context.need("source bundle", () => context.bundle()), context.need("implementation code", () => context.code())]);
    const { registry } = context.inputs;
    return runShadowDeployment(
      {
        rpcUrl: context.inputs.rpcUrl,
        chainId: Number(context.candidate.chainId),
        blockNumber: context.candidate.blockNumber,
        proxy: context.candidate.target,
        implementation: context.candidate.implementation,
        upgradeCall: bundle.upgradeCall,
        invariants: bundle.policy.invariants,
        timeoutMs: SHADOW_TIMEOUT_MS,
        storageOverrides: registry ? [registryApprovalOverride(registry, context.candidate.chainId, context.candidate.target, keccak256(code ?? "0x"))] : [],
      },
      { startAnvil: (options) => context.inputs.startFork(options) },
    );
  });
}

async function findings(context: VerificationContext, pick: (report: ShadowReport, allowAdminChange: boolean) => Finding[], check: CheckName): Promise<Finding[]> {
  let shadow: ShadowReport;
  try {
    shadow = await report(context);
  } catch (error) {
    if (error instanceof PrerequisiteUnavailable) throw error;
    return shadowFailureFindings(error).filter((finding) => finding.check === check);
  }
  const { policy } = await context.need("source bundle", () => context.bundle());
  return pick(shadow, policy.allowAdminChange);
}

/** The shadow deployment's state diff and invariant values, once the checks ran (undefined if it did not complete). */
export async function shadowDetails(context: VerificationContext): Promise<ReportDetails | undefined> {
  let shadow: ShadowReport;
  try {
    shadow = await report(context);
  } catch {
    return undefined;
  }
  const changes = shadow.stateDiff?.changes ?? [];
  const text = (value: InvariantResult["before"]) => ("value" in value ? value.value : `reverted (${value.reverted})`);
  return {
    stateDiff: changes.slice(0, MAX_DETAIL_CHANGES).map(({ address, slot, before, after }) => ({ address, slot, before, after })),
    ...(changes.length > MAX_DETAIL_CHANGES && { stateDiffTruncated: true }),
    invariants: shadow.invariants.map((result) => ({
      name: result.name,
      relation: result.relation,
      before: text(result.before),
      ...(result.after !== undefined && { after: text(result.after) }),
      ...(result.expected !== undefined && { expected: result.expected }),
      ...(result.holds !== undefined && { holds: result.holds }),
    })),
  };
}

export const shadowDeploymentCheck: Check = {
  name: "shadow-deployment",
  run: (context) => findings(context, (shadow) => shadowDeploymentFindings(shadow), "shadow-deployment"),
};

export const proxySafetyCheck: Check = {
  name: "proxy-safety",
  run: (context) => findings(context, (shadow, allowAdminChange) => proxySafetyFindings(shadow, { allowAdminChange }), "proxy-safety"),
};
