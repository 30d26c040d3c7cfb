import type { Hex } from "viem";
import { PrerequisiteUnavailable } from "../errors.ts";
import { deadInitializers, type DeadInitializer } from "../initializers/index.ts";
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
 * (a removed function breaks whoever calls it, unless the policy allows removals). A removed
 * initializer that can only revert on this proxy (initializers/proxyState.ts) is not a removal.
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
    const removedAll: Hex[] = [];
    if (current) {
      const before = new Set(functionSelectors(current));
      const after = new Set(functionSelectors(code));
      for (const selector of after) if (!before.has(selector)) added.push(selector);
      for (const selector of before) if (!after.has(selector)) removedAll.push(selector);
    }
    // A removed initializer that can only revert on this proxy is no capability anyone had.
    let dead = new Map<Hex, DeadInitializer>();
    if (removedAll.length > 0 && !policy.allowSelectorRemoval) {
      try {
        dead = await deadInitializers(context, removedAll);
      } catch (error) {
        // Without the reference build (its owner, reproducible-build, rejects) removals are not
        // judged: the opcode findings above still stand.
        if (!(error instanceof PrerequisiteUnavailable)) throw error;
        findings.push({ check: this.name, code: "SKIPPED", severity: "info", message: `selector removal not judged: ${error.prerequisite} unavailable (reported by the check that owns it)` });
        return findings;
      }
    }
    const removed = removedAll.filter((selector) => !dead.has(selector));
    const deadList = [...dead.values()];
    const selectorEvidence = {
      added: added.join(","),
      removed: removed.join(","),
      ...(deadList.length > 0 ? { deadInitializers: deadList.map((d) => d.selector).join(",") } : {}),
    };
    if (removed.length > 0 && !policy.allowSelectorRemoval) {
      findings.push({
        check: this.name,
        code: "SELECTORS_REMOVED",
        severity: "reject",
        message: `${removed.length} external function(s) removed: ${removed.join(", ")}`,
        evidence: selectorEvidence,
      });
    }
    for (const initializer of deadList) {
      const guard = initializer.modifier === "initializer" ? "initializer" : `reinitializer(${initializer.version})`;
      findings.push({
        check: this.name,
        code: "OK",
        severity: "info",
        message: `${initializer.signature} (${initializer.selector}) removed: guarded by ${guard}, it can only revert on this proxy (Initializable at version ${initializer.initializedVersion}), so no capability is lost`,
        evidence: {
          selector: initializer.selector,
          function: initializer.signature,
          guard,
          flavour: initializer.flavour,
          initializedVersion: initializer.initializedVersion.toString(),
        },
      });
    }
    if (!findings.some((finding) => finding.severity === "reject")) {
      findings.push({
        check: this.name,
        code: "OK",
        severity: "info",
        message: `no forbidden opcode reachable (${policy.forbiddenOpcodes.join(", ") || "none forbidden"}); ${added.length} function(s) added, ${removed.length} removed${deadList.length > 0 ? ` (and ${deadList.length} dead initializer(s), not counted)` : ""}`,
        evidence: selectorEvidence,
      });
    }
    return findings;
  },
};
