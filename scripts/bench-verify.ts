// npm run bench:verify — the verification pipeline on a typical OpenZeppelin upgradeable token
// upgrade (test/fixtures/corpus/approve-oz-token: ERC-20 + permit + Ownable + UUPS, V2 adds a
// capped mint in ERC-7201 storage and a reinitializer), on a real anvil chain, with real solc
// and a real shadow fork. Prints a table, then one JSON object as the last line.
//
// cold:        empty compile cache, compiler loaded (a running node; `sentinel check` after its first run)
// coldProcess: empty compile cache, compiler not loaded (the first `sentinel check` in a fresh CI job)
// warm:        compile cache holds both builds
// ozValidate:  @openzeppelin/upgrades-core alone on the same compiled outputs: validate(), the
//              validation errors of V2 and the storage-layout comparison V1 -> V2. It trusts the
//              build info it is given and does none of the other checks.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  getContractVersion,
  getErrors,
  getStorageLayout,
  getStorageUpgradeReport,
  makeNamespacedInput,
  solcInputOutputDecoder,
  validate,
  withValidationDefaults,
  type SolcInput as OzSolcInput,
  type SolcOutput as OzSolcOutput,
} from "@openzeppelin/upgrades-core";
import { connectChain } from "../src/chains/clients.ts";
import { referenceBuild } from "../src/codec/bundle.ts";
import type { CheckName } from "../src/codec/policy.ts";
import { Outcome } from "../src/codec/types.ts";
import { ANVIL_DEV_KEYS } from "../src/devnet/accounts.ts";
import { startAnvil } from "../src/verify/shadow/anvil.ts";
import { prepareUpgrade, readUpgradeCase } from "../src/devnet/upgradeFixture.ts";
import { BuildCompiler } from "../src/verify/reproducibleBuild/index.ts";
import { withVerificationOutputs } from "../src/verify/compiler/index.ts";
import { reasonsFromBitmap } from "../src/verify/reasons.ts";
import { verifyStandalone, type StandaloneVerification } from "../src/verify/standalone.ts";

const CASE = join(import.meta.dirname, "../test/fixtures/corpus/approve-oz-token");
const COLD_SAMPLES = 3;
const WARM_SAMPLES = 5;
const OZ_SAMPLES = 5;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number) => Math.round(value);

const anvil = await startAnvil({ chainId: 31337 });
const scratch = mkdtempSync(join(tmpdir(), "sentinel-bench-verify-"));
const compilers: BuildCompiler[] = [];
const newCompiler = (dir: string) => {
  // No in-memory cache: "cold" must mean compiled, and "warm" must mean read from disk as a restarted node would.
  const compiler = new BuildCompiler({ cacheDir: join(scratch, dir), memoryEntries: 0 });
  compilers.push(compiler);
  return compiler;
};
try {
  const chain = connectChain(31337, anvil.rpcUrl, ANVIL_DEV_KEYS[0]!);
  const prepared = await prepareUpgrade({ dir: CASE, upgrade: readUpgradeCase(CASE), chain, compiler: newCompiler("prepare") });
  const run = async (compiler: BuildCompiler) => {
    const options: StandaloneVerification = { candidate: prepared.candidate, bundle: prepared.bundle, rpcUrl: anvil.rpcUrl, compiler };
    const started = performance.now();
    const result = await verifyStandalone(options);
    const ms = performance.now() - started;
    if (result.outcome !== Outcome.Approve) {
      const why = result.findings.filter((f) => f.severity === "reject").map((f) => `${f.check}: ${f.message}`);
      throw new Error(`the benchmark upgrade was refused: ${reasonsFromBitmap(result.reasons).join(", ")}\n${why.join("\n")}`);
    }
    return { ms, timings: result.timings };
  };

  const coldProcess = await run(newCompiler("cold-process"));

  const compiler = newCompiler("cold");
  await compiler.compilers.warm(prepared.bundle.implementation.compiler);
  const cold: Awaited<ReturnType<typeof run>>[] = [];
  for (let i = 0; i < COLD_SAMPLES; i++) {
    rmSync(join(scratch, "cold"), { recursive: true, force: true });
    cold.push(await run(compiler));
  }
  const warm: Awaited<ReturnType<typeof run>>[] = [];
  for (let i = 0; i < WARM_SAMPLES; i++) warm.push(await run(compiler));

  // upgrades-core alone, on the outputs the pipeline compiled (from the cache: not timed).
  const implementation = await compiler.build(prepared.bundle.implementation);
  const reference = await compiler.build(referenceBuild(prepared.bundle));
  const input = withVerificationOutputs(implementation.spec.input) as unknown as OzSolcInput;
  const output = implementation.output as unknown as OzSolcOutput;
  const version = implementation.spec.compiler;
  const namespaced = (await compiler.compile(version, makeNamespacedInput(input, output, version) as never)) as unknown as OzSolcOutput;
  const ozTimes: number[] = [];
  for (let i = 0; i < OZ_SAMPLES; i++) {
    const started = performance.now();
    const data = [validate(output, solcInputOutputDecoder(input, output), version, input, namespaced)];
    const v1 = getContractVersion(data[0]!, reference.spec.contract);
    const v2 = getContractVersion(data[0]!, implementation.spec.contract);
    const errors = getErrors(data, v2, withValidationDefaults({ kind: "uups" }));
    const report = getStorageUpgradeReport(getStorageLayout(data, v1), getStorageLayout(data, v2), withValidationDefaults({ kind: "uups" }));
    ozTimes.push(performance.now() - started);
    if (errors.length > 0 || !report.ok) throw new Error("upgrades-core refuses the benchmark upgrade");
  }

  const checks = Object.keys(warm[0]!.timings) as CheckName[];
  const summary = {
    coldMs: round(median(cold.map((r) => r.ms))),
    warmMs: round(median(warm.map((r) => r.ms))),
    ozValidateMs: round(median(ozTimes)),
    coldProcessMs: round(coldProcess.ms),
    samples: { cold: COLD_SAMPLES, warm: WARM_SAMPLES, ozValidate: OZ_SAMPLES },
    checks: Object.fromEntries(
      checks.map((check) => [check, { coldMs: round(median(cold.map((r) => r.timings[check]!))), warmMs: round(median(warm.map((r) => r.timings[check]!))) }]),
    ),
  };

  console.log(`\nverification of ${readUpgradeCase(CASE).description}`);
  console.log(`(${prepared.bundle.implementation.contract}, solc ${version}, ${Object.keys(prepared.bundle.implementation.input.sources).length} sources)\n`);
  console.log("| check (they run concurrently) | cold, ms | warm, ms |\n|---|---|---|");
  for (const check of checks) console.log(`| ${check} | ${summary.checks[check]!.coldMs} | ${summary.checks[check]!.warmMs} |`);
  console.log(`| **whole pipeline** | **${summary.coldMs}** | **${summary.warmMs}** |`);
  console.log(`| whole pipeline, compiler not yet loaded | ${summary.coldProcessMs} | |`);
  console.log(`| @openzeppelin/upgrades-core validation alone (no compile, trusted build info) | | ${summary.ozValidateMs} |`);
  console.log(`\nbar: whole pipeline ≤ 3000 ms cold, ≤ 1000 ms warm; medians of ${COLD_SAMPLES} cold and ${WARM_SAMPLES} warm runs\n`);
  console.log(JSON.stringify(summary));
} finally {
  for (const compiler of compilers) await compiler.close();
  await anvil.stop();
  rmSync(scratch, { recursive: true, force: true });
}
