// Run by the determinism test in a process of its own: prints the findings digest of one case.
import { findingsDigest } from "../../../src/verify/pipeline.ts";
import { testCompiler } from "../../helpers/compiler.ts";
import { caseFindings } from "./caseAnalysis.ts";

const compiler = testCompiler();
try {
  const findings = await caseFindings(compiler, process.argv[2]!);
  process.stdout.write(`${JSON.stringify({ digest: findingsDigest(findings), findings })}\n`);
} finally {
  await compiler.close();
}
