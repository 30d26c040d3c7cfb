import { EnrollmentNotChecked } from "../errors.ts";
import { firstLine, type Check, type Finding } from "../pipeline.ts";

/**
 * Who may upgrade the target at the pinned block, and whether the proposer is enrolled by that
 * authority now (admission checked it when the candidate arrived; an unenrollment since wins).
 * The authority is this mandatory check's to report: the upgrade-safety checks need it to know
 * the proxy kind and are skipped without it.
 */
export const originCheck: Check = {
  name: "origin",
  async run(context) {
    let authority;
    try {
      authority = await context.authority();
    } catch (error) {
      return [{ check: "origin", code: "ORIGIN_INVALID", severity: "reject", message: `no upgrade authority at the pinned block: ${firstLine(error)}` }];
    }
    const evidence: Record<string, string> = { authority: authority.authority, authorityKind: authority.kind };
    let enrollment;
    try {
      enrollment = await context.enrollment();
    } catch (error) {
      if (!(error instanceof EnrollmentNotChecked)) throw error;
      return [{ check: "origin", code: "SKIPPED", severity: "info", message: "enrollment not checked: a dry run without a registry and a proposer", evidence }];
    }
    evidence["proposer"] = context.inputs.proposer;
    const finding = (code: Finding["code"], severity: Finding["severity"], message: string): Finding[] => [{ check: "origin", code, severity, message, evidence }];
    if (!enrollment.enrolled) return finding("ORIGIN_INVALID", "reject", "proposer not enrolled for target");
    return finding("OK", "info", "proposer enrolled by the upgrade authority");
  },
};
