// Findings are either facts about the candidate or failures of this node to observe it: its RPC
// failed or timed out, a check ran over its time limit on a starved machine, the compiler
// version is missing here, the pinned block is not (yet) on this node's chain. Only facts may
// become a signed verdict. A node that could not observe abstains and tries again within the
// candidate's lifetime: a node whose RPC is down must not vote, and starved nodes must not split
// the committee with rejections the others did not find.
import type { Finding } from "./pipeline.ts";
import type { ReasonCode } from "./reasons.ts";

/** Reason codes that describe this node, not the candidate. */
export const UNOBSERVED_CODES: ReadonlySet<ReasonCode> = new Set<ReasonCode>(["CHECK_TIMED_OUT", "CHECK_FAILED", "COMPILER_UNAVAILABLE", "BLOCK_UNAVAILABLE"]);

/** The findings that are failures to observe (empty: every finding is a fact). */
export function failuresToObserve(findings: readonly Finding[]): Finding[] {
  return findings.filter((finding) => finding.code !== "OK" && finding.code !== "SKIPPED" && UNOBSERVED_CODES.has(finding.code));
}
