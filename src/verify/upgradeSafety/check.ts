// upgrades-core's validation and storage-layout comparison, run once per candidate and reported
// as two checks, so a policy can make either advisory on its own.
import { withVerificationOutputs } from "../compiler/index.ts";
import type { CompiledBuild, VerificationContext } from "../context.ts";
import { proxyInitializable, type ProxyInitializable } from "../initializers/index.ts";
import type { Check, Finding } from "../pipeline.ts";
import { checkUpgradeSafety, namespacedCompilation } from "./analysis.ts";
import type { Compile, ProxyKind, UpgradeBuild, UpgradeSafetyFindings } from "./types.ts";

/** UUPS when the target's own owner() is its authority; transparent when it has an ERC-1967 admin. */
export async function proxyKind(context: VerificationContext): Promise<ProxyKind> {
  const { kind } = await context.need("upgrade authority", () => context.authority());
  return kind === "owner" ? "uups" : "transparent";
}

function analysis(context: VerificationContext): Promise<UpgradeSafetyFindings> {
  return context.shared("upgradeSafety", async () => {
    const compile: Compile = (version, input) => context.inputs.compileExactly(version, input);
    // Started from the ASTs, which are compiled apart from the code and ready first, so the
    // namespaced compilation runs while the code is still compiling. Awaited only through the
    // analysis below; if the build fails the analysis is skipped and this outcome is ignored.
    const namespaced = context.bundle().then(async (bundle) => {
      const syntax = await context.implementationSyntax();
      return namespacedCompilation({ version: bundle.implementation.compiler, input: withVerificationOutputs(bundle.implementation.input) }, syntax, compile);
    });
    namespaced.catch(() => undefined);
    const [implementation, reference, kind] = await Promise.all([
      context.need("implementation build", () => context.implementationBuild()),
      context.need("reference build", () => context.referenceBuild()),
      proxyKind(context),
    ]);
    const implementationBuild = { ...upgradeBuild(implementation), namespaced };
    // A bundle without its own reference input names a contract of the implementation's build.
    // checkUpgradeSafety validates such a build once only if both are the same objects; two
    // calls of withVerificationOutputs would make two inputs, and the namespaced compilation,
    // upgrades-core's validation and the NatSpec clean-up would all run twice.
    const referenceBuild = sameCompilation(reference, implementation)
      ? { ...implementationBuild, contract: reference.spec.contract }
      : upgradeBuild(reference);
    return checkUpgradeSafety({ implementation: implementationBuild, reference: referenceBuild, kind }, compile);
  });
}

function upgradeBuild(build: CompiledBuild): UpgradeBuild {
  return { version: build.spec.compiler, contract: build.spec.contract, input: withVerificationOutputs(build.spec.input), output: build.output as UpgradeBuild["output"] };
}

/**
 * Same compiler and the very same input object (the bundle's reference has no input of its own):
 * solc is deterministic, so the outputs are equal even when the cache handed out two copies.
 */
function sameCompilation(a: CompiledBuild, b: CompiledBuild): boolean {
  return a.spec.compiler === b.spec.compiler && a.spec.input === b.spec.input;
}

export const upgradeSafetyCheck: Check = {
  name: "upgrade-safety",
  async run(context): Promise<Finding[]> {
    const findings = (await analysis(context)).upgradeSafety;
    if (!findings.some((finding) => finding.code === "OZ_MISSING_INITIALIZER")) return findings;
    return inUpgradeContext(findings, await proxyInitializable(context));
  },
};

/**
 * upgrades-core's "missing-initializer" is a rule for deploying: a new proxy of this
 * implementation could not initialize its parents. An upgrade meets a proxy that already exists:
 * - [WARN] its Initializable is at version ≥ 1 and not initializing at the pinned block: the
 *   parents were initialized when it was deployed, and V1's initializer could only revert there;
 * - [REJECT] OZ_MISSING_INITIALIZER: the proxy is not initialized (version 0), so after the
 *   upgrade nothing can ever initialize it; or its state cannot be read (no OZ Initializable
 *   where the reference build says it is), so it is not proven initialized.
 */
function inUpgradeContext(findings: Finding[], state: ProxyInitializable): Finding[] {
  return findings.map((finding): Finding => {
    if (finding.code !== "OZ_MISSING_INITIALIZER") return finding;
    const evidence: Record<string, string> = { ...finding.evidence, proxyInitializable: state.flavour };
    if (state.flavour === "unknown") {
      return { ...finding, message: `${finding.message} (the proxy's Initializable state is unknown, so it is not proven initialized)`, evidence };
    }
    evidence["proxyInitializedVersion"] = state.version.toString();
    evidence["proxyInitializing"] = String(state.initializing);
    if (state.version >= 1n && !state.initializing) {
      const message = `${finding.message} (advisory: a rule for deploying a new proxy; this proxy is initialized, version ${state.version} at the pinned block)`;
      return { ...finding, severity: "warning", message, evidence };
    }
    const message = `${finding.message}: this proxy is not initialized (Initializable version ${state.version}${state.initializing ? ", initializing" : ""} at the pinned block) and the new implementation cannot initialize it`;
    return { ...finding, message, evidence };
  });
}

export const storageLayoutCheck: Check = {
  name: "storage-layout",
  async run(context): Promise<Finding[]> {
    return (await analysis(context)).storageLayout;
  },
};
