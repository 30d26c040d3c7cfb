import { bundleHash } from "../../codec/bundle.ts";
import { firstLine, type Check } from "../pipeline.ts";

/** The source bundle the candidate names: it must be had, parse, and hash to candidate.sourceHash. */
export const sourceCheck: Check = {
  name: "source",
  async run(context) {
    const { sourceHash } = context.candidate;
    let bundle;
    try {
      bundle = await context.bundle();
    } catch (error) {
      return [{ check: this.name, code: "SOURCE_UNAVAILABLE", severity: "reject", message: `source bundle unavailable: ${firstLine(error)}`, evidence: { sourceHash } }];
    }
    if (bundleHash(bundle) !== sourceHash) {
      return [{ check: this.name, code: "SOURCE_UNAVAILABLE", severity: "reject", message: "the bundle does not hash to candidate.sourceHash", evidence: { sourceHash, bundleHash: bundleHash(bundle) } }];
    }
    return [
      {
        check: this.name,
        code: "OK",
        severity: "info",
        message: "source bundle available",
        evidence: {
          sourceHash,
          implementation: bundle.implementation.contract,
          compiler: bundle.implementation.compiler,
          reference: bundle.reference.contract,
          sources: String(Object.keys(bundle.implementation.input.sources).length),
        },
      },
    ];
  },
};
