// npm run bench:verify — the verification pipeline on a typical OpenZeppelin upgradeable token
// upgrade (test/fixtures/corpus/approve-oz-token: ERC-20 + permit + Ownable + UUPS, V2 adds a
// capped mint in ERC-7201 storage and a reinitializer), on a real anvil chain, with real solc
// and a real shadow fork. Prints a table, then one JSON object as the last line.
//
// cli:         `sentinel check` as a protocol's CI runs it: a fresh process, an empty compile cache,
//              timed from outside (the whole process: start-up, compiler load, every check)
// coldProcess: in this process, empty compile cache, compiler not loaded
// cold:        empty compile cache, the version's workers loaded and warmed (a running node)
// warm:        compile cache holds both builds (on disk: as a restarted node would find it)
// v1Cached:    cold, but the cache holds what compiling V1 alone left (a V1-only input, built
//              first, untimed): the next candidate of a protocol whose V1 was seen before
// ozValidate:  @openzeppelin/upgrades-core alone on the same compiled outputs: validate(), the
//              validation errors of V2 and the storage-layout comparison V1 -> V2. It trusts the
//              build info it is given and does none of the other checks.
//
// Every run reports wall time and CPU time (this process with all its threads, and the child
// processes that ended meanwhile: shadow forks, the spawned CLI). Next to them: a fixed reference
// workload timed at the start and at the end, the load and the other processes' CPU at the start,
// and the test runs going on (do not time next to one: the figures would not be comparable).
//
// Old against new in one sitting: the script measures the checkout named by --root (default its
// own), so one bench script can time two revisions:
//   git worktree add /tmp/sentinel-old <rev> && ln -s "$PWD/node_modules" /tmp/sentinel-old/node_modules
//   (cd /tmp/sentinel-old && npm run build:contracts)
//   npm run bench:verify -- --root /tmp/sentinel-old --label old
//   npm run bench:verify -- --label new
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
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
import { cpuMark, cpuSince, machineState, referenceWorkload, type CpuSpent } from "./bench/contention.ts";

const { values: args } = parseArgs({
  options: {
    root: { type: "string" },
    label: { type: "string" },
    cold: { type: "string", default: "3" },
    warm: { type: "string", default: "5" },
    cli: { type: "string", default: "2" },
  },
});
const ROOT = resolve(args.root ?? join(import.meta.dirname, ".."));
const LABEL = args.label ?? "";
const COLD_SAMPLES = Number(args.cold);
const WARM_SAMPLES = Number(args.warm);
const CLI_SAMPLES = Number(args.cli);
const OZ_SAMPLES = 5;
const BARS = { coldMs: 2500, warmMs: 500, cliMs: 4000 };

/** A module of the measured checkout, typed as this checkout's (the APIs used here are in both). */
const load = <T>(path: string): Promise<T> => import(pathToFileURL(join(ROOT, path)).href) as Promise<T>;
const { connectChain } = await load<typeof import("../src/chains/clients.ts")>("src/chains/clients.ts");
const { referenceBuild } = await load<typeof import("../src/codec/bundle.ts")>("src/codec/bundle.ts");
const { signedCandidateToJson } = await load<typeof import("../src/codec/candidate.ts")>("src/codec/candidate.ts");
const { Outcome } = await load<typeof import("../src/codec/types.ts")>("src/codec/types.ts");
const { ANVIL_DEV_KEYS } = await load<typeof import("../src/devnet/accounts.ts")>("src/devnet/accounts.ts");
const { startAnvil } = await load<typeof import("../src/verify/shadow/anvil.ts")>("src/verify/shadow/anvil.ts");
const { DEFAULT_FIXTURE_SETTINGS, fixtureInput, prepareUpgrade, readUpgradeCase } = await load<typeof import("../src/devnet/upgradeFixture.ts")>("src/devnet/upgradeFixture.ts");
const { BuildCompiler } = await load<typeof import("../src/verify/reproducibleBuild/index.ts")>("src/verify/reproducibleBuild/index.ts");
const { withVerificationOutputs } = await load<typeof import("../src/verify/compiler/index.ts")>("src/verify/compiler/index.ts");
const { reasonsFromBitmap } = await load<typeof import("../src/verify/reasons.ts")>("src/verify/reasons.ts");
const { verifyStandalone } = await load<typeof import("../src/verify/standalone.ts")>("src/verify/standalone.ts");
type BuildCompiler = InstanceType<typeof BuildCompiler>;
type CheckName = import("../src/codec/policy.ts").CheckName;

const CASE = join(ROOT, "test/fixtures/corpus/approve-oz-token");
const CLI = join(ROOT, "src/cli/sentinel.ts");

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number) => Math.round(value);
const revision = (() => {
  try {
    return execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
})();

// Before anything of ours runs: what else the machine is doing, and how fast it does fixed work.
const machineAtStart = await machineState();
const referenceAtStart = referenceWorkload();
if (machineAtStart.testRunners > 0) console.error(`warning: ${machineAtStart.testRunners} test run(s) going on: these figures are not comparable`);

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
  const refused = (reasons: bigint, why: string[]) => new Error(`the benchmark upgrade was refused: ${reasonsFromBitmap(reasons).join(", ")}\n${why.join("\n")}`);
  const run = async (compiler: BuildCompiler) => {
    const options = { candidate: prepared.candidate, bundle: prepared.bundle, rpcUrl: anvil.rpcUrl, compiler };
    const mark = cpuMark();
    const result = await verifyStandalone(options);
    const spent = cpuSince(mark);
    if (result.outcome !== Outcome.Approve) {
      throw refused(result.reasons, result.findings.filter((f) => f.severity === "reject").map((f) => `${f.check}: ${f.message}`));
    }
    return { ...spent, timings: result.timings, findingsDigest: result.findingsDigest };
  };

  // `sentinel check` as a user runs it: a new process, an empty cache, no registry on this chain.
  const candidateFile = join(scratch, "candidate.json");
  writeFileSync(candidateFile, JSON.stringify({ candidate: signedCandidateToJson({ candidate: prepared.candidate, signature: "0x" }).candidate, bundle: prepared.bundle }));
  const cliRun = async (i: number): Promise<CpuSpent & { findingsDigest: string }> => {
    const cacheDir = join(scratch, `cli-cache-${i}`);
    const argv = [CLI, "check", candidateFile, "--rpc", anvil.rpcUrl, "--skip-enrollment", "--cache-dir", cacheDir, "--json"];
    const mark = cpuMark();
    const stdout = await new Promise<string>((resolveRun, reject) => {
      execFile(process.execPath, argv, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, out, err) => {
        if (error) reject(new Error(`sentinel check exited ${String(error.code)}: ${err || out}`));
        else resolveRun(out);
      });
    });
    const spent = cpuSince(mark);
    const report = JSON.parse(stdout) as { outcome?: string; findingsDigest?: string };
    return { ...spent, findingsDigest: String(report.findingsDigest) };
  };
  const cli: Awaited<ReturnType<typeof cliRun>>[] = [];
  for (let i = 0; i < CLI_SAMPLES; i++) cli.push(await cliRun(i));

  const coldProcess = await run(newCompiler("cold-process"));

  const compiler = newCompiler("cold");
  await compiler.compilers.warm(prepared.bundle.implementation.compiler);
  // Cache files may still be being written after a run: a cold run must not find the last one's
  // (written after the directory was emptied), and "warm" means they are on disk. An older
  // checkout measured with --root may not have flush(): it then waits a moment instead.
  const flush = async () => {
    const compilers = compiler.compilers as { flush?: () => Promise<void> };
    await (compilers.flush ? compilers.flush() : new Promise((resolveWait) => setTimeout(resolveWait, 1000)));
  };
  const cold: Awaited<ReturnType<typeof run>>[] = [];
  for (let i = 0; i < COLD_SAMPLES; i++) {
    await flush();
    rmSync(join(scratch, "cold"), { recursive: true, force: true });
    cold.push(await run(compiler));
  }
  await flush();
  const v1Cached: Awaited<ReturnType<typeof run>>[] = [];
  const upgrade = readUpgradeCase(CASE);
  const v1Only = { ...referenceBuild(prepared.bundle), input: fixtureInput(CASE, [upgrade.reference.split(":")[0]!], upgrade.settings ?? DEFAULT_FIXTURE_SETTINGS, join(CASE, "..")) };
  const v1Compiler = newCompiler("v1-cached");
  await v1Compiler.compilers.warm(prepared.bundle.implementation.compiler);
  for (let i = 0; i < COLD_SAMPLES; i++) {
    await (v1Compiler.compilers as { flush?: () => Promise<void> }).flush?.();
    rmSync(join(scratch, "v1-cached"), { recursive: true, force: true });
    await v1Compiler.build(v1Only);
    await (v1Compiler.compilers as { flush?: () => Promise<void> }).flush?.();
    v1Cached.push(await run(v1Compiler));
  }
  const warm: Awaited<ReturnType<typeof run>>[] = [];
  for (let i = 0; i < WARM_SAMPLES; i++) warm.push(await run(compiler));
  const digests = new Set([coldProcess, ...cold, ...v1Cached, ...warm].map((r) => r.findingsDigest));
  if (digests.size !== 1) throw new Error(`the findings digest differs between runs: ${[...digests].join(", ")}`);

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
  const referenceAtEnd = referenceWorkload();

  const figures = (runs: CpuSpent[]) => ({
    wallMs: round(median(runs.map((r) => r.wallMs))),
    cpuMs: round(median(runs.map((r) => r.cpuMs))),
    childCpuMs: round(median(runs.map((r) => r.childCpuMs))),
    runs: runs.map((r) => ({ wallMs: round(r.wallMs), cpuMs: round(r.cpuMs), childCpuMs: round(r.childCpuMs) })),
  });
  const checks = Object.keys(warm[0]!.timings) as CheckName[];
  const summary = {
    label: LABEL,
    revision,
    root: ROOT,
    coldMs: round(median(cold.map((r) => r.wallMs))),
    warmMs: round(median(warm.map((r) => r.wallMs))),
    v1CachedMs: round(median(v1Cached.map((r) => r.wallMs))),
    cliMs: cli.length > 0 ? round(median(cli.map((r) => r.wallMs))) : null,
    coldProcessMs: round(coldProcess.wallMs),
    ozValidateMs: round(median(ozTimes)),
    cold: figures(cold),
    warm: figures(warm),
    v1Cached: figures(v1Cached),
    cli: cli.length > 0 ? figures(cli) : null,
    coldProcess: figures([coldProcess]),
    findingsDigest: [...digests][0],
    cliFindingsDigest: [...new Set(cli.map((r) => r.findingsDigest))],
    referenceWorkloadMs: {
      start: round(referenceAtStart.wallMs),
      startCpu: round(referenceAtStart.cpuMs),
      end: round(referenceAtEnd.wallMs),
      endCpu: round(referenceAtEnd.cpuMs),
    },
    machine: { ...machineAtStart, loadAverageAtEnd: (await machineState(0)).loadAverage },
    samples: { cold: COLD_SAMPLES, warm: WARM_SAMPLES, cli: CLI_SAMPLES, ozValidate: OZ_SAMPLES },
    bars: BARS,
    checks: Object.fromEntries(
      checks.map((check) => [check, { coldMs: round(median(cold.map((r) => r.timings[check]!))), warmMs: round(median(warm.map((r) => r.timings[check]!))) }]),
    ),
  };

  const row = (name: string, f: ReturnType<typeof figures> | null) =>
    f ? `| ${name} | ${f.wallMs} | ${f.cpuMs} | ${f.childCpuMs} | ${f.runs.map((r) => r.wallMs).join(", ")} |` : `| ${name} | skipped | | | |`;
  console.log(`\nverification of ${readUpgradeCase(CASE).description}`);
  console.log(`(${prepared.bundle.implementation.contract}, solc ${version}, ${Object.keys(prepared.bundle.implementation.input.sources).length} sources)`);
  console.log(`measured: ${ROOT} at ${revision}${LABEL ? ` (${LABEL})` : ""}\n`);
  console.log("| check (they run concurrently) | cold, ms | warm, ms |\n|---|---|---|");
  for (const check of checks) console.log(`| ${check} | ${summary.checks[check]!.coldMs} | ${summary.checks[check]!.warmMs} |`);
  console.log(`\n| run (medians) | wall, ms | CPU of this process, ms | CPU of ended children, ms | every run, wall ms |\n|---|---|---|---|---|`);
  console.log(row("**cold** (compiler loaded, empty cache)", summary.cold));
  console.log(row("**warm** (builds in the disk cache)", summary.warm));
  console.log(row("cold but V1 seen before (the cache holds a V1-only compile)", summary.v1Cached));
  console.log(row("cold, compiler not yet loaded (in process)", summary.coldProcess));
  console.log(row("**`sentinel check`**, fresh process, empty cache (measured from outside; CPU is the child's)", summary.cli));
  console.log(`| @openzeppelin/upgrades-core validation alone (no compile, trusted build info) | ${summary.ozValidateMs} | | | |`);
  console.log(`\nthe machine: ${machineAtStart.cores} cores, load ${machineAtStart.loadAverage.join(" / ")} at the start, ${summary.machine.loadAverageAtEnd.join(" / ")} at the end;` +
    ` other processes used ${machineAtStart.otherProcessesCores ?? "?"} cores at the start; ${machineAtStart.testRunners} test run(s) going on`);
  console.log(`reference workload (fixed sha256 work): ${summary.referenceWorkloadMs.start} ms wall / ${summary.referenceWorkloadMs.startCpu} ms CPU at the start, ` +
    `${summary.referenceWorkloadMs.end} / ${summary.referenceWorkloadMs.endCpu} at the end (wall well above CPU, or above the quiet machine's: contended)`);
  console.log(`\nbar: cold ≤ ${BARS.coldMs} ms, warm ≤ ${BARS.warmMs} ms, \`sentinel check\` fresh ≤ ${BARS.cliMs} ms wall; medians of ${COLD_SAMPLES} cold, ${WARM_SAMPLES} warm, ${CLI_SAMPLES} CLI runs\n`);
  console.log(JSON.stringify(summary));
} finally {
  for (const compiler of compilers) await compiler.close();
  await anvil.stop();
  rmSync(scratch, { recursive: true, force: true });
}
