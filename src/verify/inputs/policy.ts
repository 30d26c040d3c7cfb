import { zeroHash } from "viem";
import { EnrollmentNotChecked, PrerequisiteUnavailable } from "../errors.ts";
import { DEFAULT_POLICY, policyHash } from "../../codec/policy.ts";
import type { Check, Finding } from "../pipeline.ts";

/**
 * The policy the checks apply is the one the upgrade authority enrolled: the candidate names it,
 * the bundle carries it, and all three hashes agree (an enrolled zero hash means the default).
 */
export const policyCheck: Check = {
  name: "policy",
  async run(context) {
    const claimed = context.candidate.policyHash;
    const bundle = await context.need("source bundle", () => context.bundle());
    const enrollment = await context.enrollment().catch((error: unknown) => {
      if (error instanceof EnrollmentNotChecked) return undefined;
      throw new PrerequisiteUnavailable("enrollment", error);
    });
    const carried = policyHash(bundle.policy);
    const enrolled = enrollment === undefined ? undefined : enrollment.policyHash === undefined || enrollment.policyHash === zeroHash ? policyHash(DEFAULT_POLICY) : enrollment.policyHash;
    const evidence = { policyHash: claimed, enrolled: enrolled ?? "not checked (dry run)", bundled: carried, policy: `${bundle.policy.name} v${bundle.policy.version}` };
    const findings: Finding[] = [];
    if (carried !== claimed) {
      findings.push({ check: this.name, code: "POLICY_MISMATCH", severity: "reject", message: "the bundle's policy does not hash to candidate.policyHash", evidence });
    }
    if (enrollment?.enrolled && enrolled !== claimed) {
      findings.push({ check: this.name, code: "POLICY_MISMATCH", severity: "reject", message: "candidate.policyHash is not the policy the upgrade authority enrolled", evidence });
    }
    const gate = bundle.policy.humanGate;
    if (gate !== undefined) {
      // Not a finding: the human gate comes after the automated report (candidates/humanGate.ts),
      // and its approvers sign that report's findings digest.
      Object.assign(evidence, { humanGate: `${gate.threshold} of ${gate.approvers.length}: ${gate.approvers.join(", ")}` });
    } else if (bundle.policy.requireHumanApproval) {
      findings.push({ check: this.name, code: "HUMAN_APPROVAL_REQUIRED", severity: "reject", message: "the policy requires human approval but names no approvers (policy.humanGate)", evidence });
    }
    return findings.length > 0 ? findings : [{ check: this.name, code: "OK", severity: "info", message: "policy is the enrolled one", evidence }];
  },
};
