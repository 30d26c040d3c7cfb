// upgrades-core's validation and storage-layout comparison, run once per candidate and reported
// as two checks, so a policy can make either advisory on its own.
import { withVerificationOutputs } from "../compiler/index.ts";
import type { CompiledBuild, VerificationContext } from "../context.ts";
import type { Check, Finding } from "../pipeline.ts";
import { checkUpgradeSafety } from "./analysis.ts";
import type { ProxyKind, UpgradeBuild, UpgradeSafetyFindings } from "./types.ts";

/** UUPS when the target's own owner() is its authority; transparent when it has an ERC-1967 admin. */
export async function proxyKind(context: VerificationContext): Promise<ProxyKind> {
  const { kind } = await context.need("upgrade authority", () => context.authority());
  return kind === "owner" ? "uups" : "transparent";
}

function analysis(context: VerificationContext): Promise<UpgradeSafetyFindings> {
  return context.shared("upgradeSafety", async () => {
    const [implementation, reference, kind] = await Promise.all([
      context.need("implementation build", () => context.implementationBuild()),
      context.need("reference build", () => context.referenceBuild()),
      proxyKind(context),
    ]);
    return checkUpgradeSafety({ implementation: upgradeBuild(implementation), reference: upgradeBuild(reference), kind }, (version, input) =>
      context.inputs.compileExactly(version, input),
    );
  });
}

function upgradeBuild(build: CompiledBuild): UpgradeBuild {
  return { version: build.spec.compiler, contract: build.spec.contract, input: withVerificationOutputs(build.spec.input), output: build.output as UpgradeBuild["output"] };
}

export const upgradeSafetyCheck: Check = {
  name: "upgrade-safety",
  async run(context): Promise<Finding[]> {
    return (await analysis(context)).upgradeSafety;
  },
};

export const storageLayoutCheck: Check = {
  name: "storage-layout",
  async run(context): Promise<Finding[]> {
    return (await analysis(context)).storageLayout;
  },
};
