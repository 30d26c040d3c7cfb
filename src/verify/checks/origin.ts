import type { Address } from "viem";
import type { Check, CheckContext } from "../pipeline.ts";

export type EnrollmentLookup = (context: CheckContext) => Promise<{ enrolled: boolean; authority?: Address }>;

/**
 * Re-checks, at verification time, that the proposer is still enrolled by the target's upgrade
 * authority (admission checked it when the candidate arrived; an unenrollment since then wins).
 */
export function originCheck(lookup: EnrollmentLookup): Check {
  return {
    name: "origin",
    async run(context) {
      const { enrolled, authority } = await lookup(context);
      const evidence: Record<string, string> = { proposer: context.proposer };
      if (authority) evidence["authority"] = authority;
      if (!enrolled) {
        return [{ check: "origin", code: "ORIGIN_INVALID", severity: "reject", message: "proposer not enrolled for target", evidence }];
      }
      return [{ check: "origin", code: "OK", severity: "info", message: "proposer enrolled by the upgrade authority", evidence }];
    },
  };
}
