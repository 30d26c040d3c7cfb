// The "behaviour" check: the differential of run.ts on its own fork, its findings from findings.ts.
import { keccak256 } from "viem";
import type { VerificationContext } from "../context.ts";
import { PrerequisiteUnavailable } from "../errors.ts";
import type { Check, Finding } from "../pipeline.ts";
import { firstLine, registryApprovalOverride, ShadowDeploymentError } from "../shadow/index.ts";
import { BEHAVIOUR_CHECK, behaviourFindings } from "./findings.ts";
import { DEFAULT_LATENT_STEPS, runBehaviourDifferential } from "./run.ts";

/**
 * Two sides × (the upgrade's point + the latent steps) × the calls, each a mined transaction and
 * two traces. Below a node's 60 s bound for a check, as the shadow deployment's, so that the run
 * stops its forks itself rather than outlive the check.
 */
export const BEHAVIOUR_TIMEOUT_MS = 45_000;

export const behaviourCheck: Check = {
  name: BEHAVIOUR_CHECK,
  async run(context: VerificationContext): Promise<Finding[]> {
    const [bundle, code] = await Promise.all([context.need("source bundle", () => context.bundle()), context.need("implementation code", () => context.code())]);
    const { policy } = bundle;
    const { registry } = context.inputs;
    try {
      const report = await runBehaviourDifferential(
        {
          rpcUrl: context.inputs.rpcUrl,
          chainId: Number(context.candidate.chainId),
          blockNumber: context.candidate.blockNumber,
          proxy: context.candidate.target,
          implementation: context.candidate.implementation,
          upgradeCall: bundle.upgradeCall,
          invariants: policy.invariants,
          probes: policy.probes ?? [],
          latentSteps: policy.latentSteps ?? DEFAULT_LATENT_STEPS,
          timeoutMs: BEHAVIOUR_TIMEOUT_MS,
          storageOverrides: registry ? [registryApprovalOverride(registry, context.candidate.chainId, context.candidate.target, keccak256(code ?? "0x"))] : [],
        },
        { startAnvil: (options) => context.inputs.startFork(options) },
      );
      return behaviourFindings(report, policy);
    } catch (error) {
      if (error instanceof PrerequisiteUnavailable) throw error;
      const code = error instanceof ShadowDeploymentError ? error.code : "CHECK_FAILED";
      return [{ check: BEHAVIOUR_CHECK, code, severity: "reject", message: firstLine(error) }];
    }
  },
};
