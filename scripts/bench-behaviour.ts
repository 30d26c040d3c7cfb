// The behaviour check's own time (npx node scripts/bench-behaviour.ts), on bench:verify's upgrade
// (test/fixtures/corpus/approve-oz-token), twice: as the case stands (no users' transactions, no
// probes: the fork, the upgrade, the invariants at four points in time) and with a protocol's
// everyday load (a history of 8 user transactions to the proxy, two probes, one of them repeated
// 4 times). Cold: the first run in this process; warm: the median of the next 4. The shadow
// deployment is timed the same way beside it, for scale. Prints one JSON object.
import { join } from "node:path";
import { getAddress, type Hex } from "viem";
import { prepareUpgrade, readUpgradeCase, type UpgradeCase } from "../src/devnet/upgradeFixture.ts";
import { DEFAULT_LATENT_STEPS, runBehaviourDifferential } from "../src/verify/behaviour/index.ts";
import { BuildCompiler } from "../src/verify/reproducibleBuild/index.ts";
import { AnvilProcesses, runShadowDeployment, startAnvil } from "../src/verify/shadow/index.ts";
import { connectChain } from "../src/chains/clients.ts";
import { ANVIL_DEV_KEYS } from "../src/devnet/accounts.ts";
import { tmpdir } from "node:os";

const CASE = join(import.meta.dirname, "../test/fixtures/corpus/approve-oz-token");
const ALICE = getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
const BOB = getAddress("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
const TRANSFER = "function transfer(address to, uint256 amount)";
const WARM_RUNS = 4;

const anvil = await startAnvil({ chainId: 31337 });
const chain = connectChain(31337, anvil.rpcUrl, ANVIL_DEV_KEYS[0]!);
const compiler = new BuildCompiler({ cacheDir: join(tmpdir(), "sentinel-test-compile-cache") });
const forks = new AnvilProcesses();
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
try {
  const plain = readUpgradeCase(CASE);
  const loaded: UpgradeCase = {
    ...plain,
    history: [
      { function: "function mint(address to, uint256 amount)", args: [ALICE, "1000000000000000000000"] },
      { function: "function mint(address to, uint256 amount)", args: [BOB, "1000000000000000000000"] },
      ...[1, 2, 3].map((n) => ({ from: ALICE, function: TRANSFER, args: [BOB, `${n}000000000000000000`] })),
      { from: BOB, function: TRANSFER, args: [ALICE, "5000000000000000000"] },
      { from: ALICE, function: "function approve(address spender, uint256 amount)", args: [BOB, "50000000000000000000"] },
      { from: BOB, function: "function transferFrom(address from, address to, uint256 amount)", args: [ALICE, BOB, "1000000000000000000"] },
    ],
    policy: {
      ...plain.policy,
      probes: [
        { name: "bob-pays-alice", from: BOB, function: TRANSFER, args: [ALICE, "1000000000000000000"], repeat: 4 },
        { name: "alice-approves", from: ALICE, function: "function approve(address spender, uint256 amount)", args: [BOB, "7"] },
      ],
    },
  };
  const results: Record<string, unknown> = {};
  for (const [label, upgrade] of [["asIs", plain], ["withUsers", loaded]] as const) {
    const prepared = await prepareUpgrade({ dir: CASE, upgrade, chain, compiler });
    const common = { rpcUrl: anvil.rpcUrl, chainId: 31337, blockNumber: prepared.candidate.blockNumber, proxy: prepared.proxy, implementation: prepared.implementation, upgradeCall: prepared.bundle.upgradeCall as Hex };
    const behaviour = async () => {
      const t0 = performance.now();
      const report = await runBehaviourDifferential(
        { ...common, invariants: prepared.bundle.policy.invariants, probes: prepared.bundle.policy.probes ?? [], latentSteps: DEFAULT_LATENT_STEPS, timeoutMs: 60_000 },
        { startAnvil: (options) => forks.start(options) },
      );
      return { ms: performance.now() - t0, calls: report.calls.length, transactions: 2 * report.steps.length * report.calls.reduce((n, c) => n + c.repeat, 0) };
    };
    const shadow = async () => {
      const t0 = performance.now();
      await runShadowDeployment({ ...common, invariants: prepared.bundle.policy.invariants, timeoutMs: 60_000 }, { startAnvil: (options) => forks.start(options) });
      return performance.now() - t0;
    };
    const cold = await behaviour();
    const warm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) warm.push((await behaviour()).ms);
    const shadowCold = await shadow();
    const shadowWarm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) shadowWarm.push(await shadow());
    results[label] = {
      callsCompared: cold.calls,
      forkTransactions: cold.transactions,
      behaviourColdMs: Math.round(cold.ms),
      behaviourWarmMs: Math.round(median(warm)),
      shadowColdMs: Math.round(shadowCold),
      shadowWarmMs: Math.round(median(shadowWarm)),
    };
  }
  console.log(JSON.stringify(results));
} finally {
  forks.killAll();
  await compiler.close();
  await anvil.stop();
}
