import type { Hex } from "viem";
import type { CheckName } from "../../codec/policy.ts";
import { compareRuntimeCode, type RuntimeMatch } from "../bytecode/index.ts";
import { CompileTimeoutError, CompilerUnavailableError } from "../compiler/index.ts";
import type { CompiledBuild } from "../context.ts";
import { firstLine, type Check, type Finding } from "../pipeline.ts";

/**
 * Recompiles both builds of the bundle with the exact compiler each names and compares them with
 * the chain, as Sourcify does (immutables masked, metadata tolerated): the new implementation
 * with the candidate's code, the reference with the code the proxy runs now, so the layout the
 * upgrade is checked against is proven rather than trusted.
 */
export const reproducibleBuildCheck: Check = {
  name: "reproducible-build",
  async run(context) {
    const [implementation, reference] = await Promise.all([
      compiled(this.name, () => context.implementationBuild(), "implementation"),
      compiled(this.name, () => context.referenceBuild(), "reference"),
    ]);
    const findings: Finding[] = [];
    if ("finding" in implementation) findings.push(implementation.finding);
    else {
      const code = await context.need("implementation code", () => context.code());
      if (code) findings.push(compare(this.name, "implementation", code, implementation.build, "BYTECODE_MISMATCH"));
    }
    if ("finding" in reference) findings.push(reference.finding);
    else {
      const current = await context.currentImplementation();
      const code = await context.currentCode();
      if (!current || !code) {
        findings.push({
          check: this.name,
          code: "REFERENCE_MISMATCH",
          severity: "reject",
          message: current ? `the current implementation ${current} has no code` : "the target has no ERC-1967 implementation to compare the reference with",
        });
      } else {
        findings.push(compare(this.name, "reference", code, reference.build, "REFERENCE_MISMATCH", { address: current }));
      }
    }
    return findings;
  },
};

async function compiled(check: CheckName, build: () => Promise<CompiledBuild>, role: string): Promise<{ build: CompiledBuild } | { finding: Finding }> {
  try {
    return { build: await build() };
  } catch (error) {
    const code = error instanceof CompilerUnavailableError ? "COMPILER_UNAVAILABLE" : error instanceof CompileTimeoutError ? "CHECK_TIMED_OUT" : "COMPILATION_FAILED";
    return { finding: { check, code, severity: "reject", message: `${role}: ${firstLine(error)}`, evidence: { role } } };
  }
}

function compare(
  check: CheckName,
  role: "implementation" | "reference",
  deployed: Hex,
  build: CompiledBuild,
  mismatchCode: "BYTECODE_MISMATCH" | "REFERENCE_MISMATCH",
  extra: Record<string, string> = {},
): Finding {
  const runtime = build.contract.evm?.deployedBytecode;
  const evidence: Record<string, string> = { role, contract: build.spec.contract, compiler: build.spec.compiler, ...extra };
  if (!runtime?.object) {
    return { check, code: mismatchCode, severity: "reject", message: `${role}: ${build.spec.contract} has no runtime code (abstract or an interface)`, evidence };
  }
  let match: RuntimeMatch;
  try {
    match = compareRuntimeCode(deployed, runtime);
  } catch (error) {
    return { check, code: mismatchCode, severity: "reject", message: `${role}: ${firstLine(error)}`, evidence };
  }
  for (const [id, value] of Object.entries(match.immutables)) evidence[`immutable.${id}`] = value;
  for (const [library, address] of Object.entries(match.libraries)) evidence[`library.${library}`] = address;
  if (match.status === "mismatch") {
    return {
      check,
      code: mismatchCode,
      severity: "reject",
      message: `${role}: the deployed code is not ${build.spec.contract} compiled from the bundle (${match.reason} differ at byte ${match.offset}; deployed ${match.deployedLength} bytes, compiled ${match.compiledLength})`,
      evidence: { ...evidence, offset: String(match.offset) },
    };
  }
  return {
    check,
    code: "OK",
    severity: "info",
    message: match.status === "exact" ? `${role}: exact match with ${build.spec.contract}` : `${role}: executable matches ${build.spec.contract}; metadata differs`,
    evidence: { ...evidence, match: match.status },
  };
}
