// npx node scripts/measure-access-control.ts — the access-control check alone on the benchmark
// upgrade (test/fixtures/corpus/approve-oz-token, as bench:verify): cold (first run in a fresh
// process: z3's start, exploration, queries) and warm (the same candidate again: the cache by code
// hash). The builds and the chain reads other checks own are fetched before the clock starts, so
// the figures are what this check adds. One JSON line.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, http, type PublicClient } from "viem";
import { connectChain } from "../src/chains/clients.ts";
import { ANVIL_DEV_KEYS } from "../src/devnet/accounts.ts";
import { prepareUpgrade, readUpgradeCase } from "../src/devnet/upgradeFixture.ts";
import { accessControlCheck } from "../src/verify/capabilities/index.ts";
import { VerificationContext } from "../src/verify/context.ts";
import { BuildCompiler } from "../src/verify/reproducibleBuild/index.ts";
import { startAnvil } from "../src/verify/shadow/anvil.ts";

const CASE = join(import.meta.dirname, "../test/fixtures/corpus/approve-oz-token");
const WARM_SAMPLES = 5;

const anvil = await startAnvil({ chainId: 31337 });
const compiler = new BuildCompiler({ cacheDir: join(tmpdir(), "sentinel-measure-access-control") });
try {
  const chain = connectChain(31337, anvil.rpcUrl, ANVIL_DEV_KEYS[0]!);
  const prepared = await prepareUpgrade({ dir: CASE, upgrade: readUpgradeCase(CASE), chain, compiler });
  const client = createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient;
  const context = () => {
    const c = new VerificationContext({
      candidateId: `0x${"00".repeat(32)}`,
      candidate: prepared.candidate,
      proposer: "0x0000000000000000000000000000000000000000",
      client,
      rpcUrl: anvil.rpcUrl,
      loadBundle: async () => prepared.bundle,
      compile: (spec) => compiler.build(spec),
      compileExactly: (version, input) => compiler.compile(version, input),
      startFork: () => Promise.reject(new Error("no fork here")),
    });
    return c;
  };
  const prefetch = async (c: VerificationContext) => {
    await Promise.all([c.bundle(), c.block(), c.code(), c.currentCode(), c.currentImplementation(), c.authority(), c.implementationBuild(), c.referenceBuild()]);
    return c;
  };
  const check = accessControlCheck();
  const timed = async () => {
    const c = await prefetch(context());
    const started = performance.now();
    const findings = await check.run(c);
    return { ms: Math.round(performance.now() - started), findings };
  };
  const cold = await timed();
  const warm: number[] = [];
  for (let i = 0; i < WARM_SAMPLES; i++) warm.push((await timed()).ms);
  warm.sort((a, b) => a - b);
  console.log(JSON.stringify({ coldMs: cold.ms, warmMedianMs: warm[Math.floor(warm.length / 2)], warmMs: warm, findings: cold.findings.map((f) => `${f.code} ${f.message}`) }));
} finally {
  await compiler.close();
  await anvil.stop();
}
