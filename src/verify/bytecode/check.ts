import { reachableOpcodes } from "./opcodes.ts";
import { functionSelectors } from "./selectors.ts";
import type { Check, Finding } from "../pipeline.ts";
import type { ReasonCode } from "../reasons.ts";

const REACHABLE_CODE: Record<string, ReasonCode> = {
  SELFDESTRUCT: "SELFDESTRUCT_REACHABLE",
  DELEGATECALL: "DELEGATECALL_REACHABLE",
  CALLCODE: "CALLCODE_REACHABLE",
};

/**
 * The new implementation's instructions: opcodes the policy forbids that some execution could
 * reach, and the external functions it adds or removes against the code the proxy runs now
 * (a removed function breaks whoever calls it, unless the policy allows removals).
 */
export const bytecodeCheck: Check = {
  name: "bytecode",
  async run(context) {
    const [code, bundle] = await Promise.all([context.need("implementation code", () => context.code()), context.need("source bundle", () => context.bundle())]);
    if (!code) return [];
    const { policy } = bundle;
    const findings: Finding[] = [];
    for (const hit of reachableOpcodes(code, policy.forbiddenOpcodes)) {
      findings.push({
        check: this.name,
        code: REACHABLE_CODE[hit.name] ?? "FORBIDDEN_OPCODE",
        severity: "reject",
        message: `${hit.name} reachable at pc ${hit.pc}`,
        evidence: { opcode: hit.name, pc: String(hit.pc) },
      });
    }
    const current = await context.need("current implementation code", () => context.currentCode());
    const added: string[] = [];
    const removed: string[] = [];
    if (current) {
      const before = new Set(functionSelectors(current));
      const after = new Set(functionSelectors(code));
      for (const selector of after) if (!before.has(selector)) added.push(selector);
      for (const selector of before) if (!after.has(selector)) removed.push(selector);
    }
    const selectorEvidence = { added: added.join(","), removed: removed.join(",") };
    if (removed.length > 0 && !policy.allowSelectorRemoval) {
      findings.push({
        check: this.name,
        code: "SELECTORS_REMOVED",
        severity: "reject",
        message: `${removed.length} external function(s) removed: ${removed.join(", ")}`,
        evidence: selectorEvidence,
      });
    }
    if (findings.length === 0) {
      findings.push({
        check: this.name,
        code: "OK",
        severity: "info",
        message: `no forbidden opcode reachable (${policy.forbiddenOpcodes.join(", ") || "none forbidden"}); ${added.length} function(s) added, ${removed.length} removed`,
        evidence: selectorEvidence,
      });
    }
    return findings;
  },
};
