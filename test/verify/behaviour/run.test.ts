// The behaviour differential on a real fork of a real chain: a corpus upgrade (users' history, a
// repeated probe, an upgrade call) is compared twice and reads the same both times (fixed accounts,
// fixed block, fork clock set from the pinned block), every fork it starts is stopped, and a run cut
// short by its time bound stops its fork too.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { prepareUpgrade, readUpgradeCase, type PreparedUpgrade } from "../../../src/devnet/upgradeFixture.ts";
import { behaviourFindings, DEFAULT_LATENT_STEPS, runBehaviourDifferential, type BehaviourParams } from "../../../src/verify/behaviour/index.ts";
import { AnvilProcesses, ShadowDeploymentError } from "../../../src/verify/shadow/index.ts";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { testCompiler } from "../../helpers/compiler.ts";
import { CORPUS_DIR } from "../../helpers/corpus.ts";

describe("runBehaviourDifferential", () => {
  let chain: TestChain;
  let prepared: PreparedUpgrade;
  const compiler = testCompiler();
  const forks = new AnvilProcesses();
  const params = (): BehaviourParams => ({
    rpcUrl: chain.anvil.rpcUrl,
    chainId: chain.chain.id,
    blockNumber: prepared.candidate.blockNumber,
    proxy: prepared.proxy,
    implementation: prepared.implementation,
    upgradeCall: prepared.bundle.upgradeCall,
    invariants: prepared.bundle.policy.invariants,
    probes: prepared.bundle.policy.probes ?? [],
    latentSteps: DEFAULT_LATENT_STEPS,
    timeoutMs: 60_000,
  });

  before(async () => {
    chain = await startTestChain();
    const dir = join(CORPUS_DIR, "latent-withdraw-after-kth-call");
    prepared = await prepareUpgrade({ dir, upgrade: readUpgradeCase(dir), chain, compiler });
  });
  after(async () => {
    forks.killAll();
    await compiler.close();
    await chain?.stop();
  });

  it("replays the users' transactions and the probe at every offset, and reads the same twice", async () => {
    const first = await runBehaviourDifferential(params(), { startAnvil: (options) => forks.start(options) });
    assert.equal(forks.size, 0, "the fork is stopped");
    assert.deepEqual(first.calls.map((c) => c.kind), ["replay", "replay", "probe"]);
    assert.deepEqual(first.steps.map((s) => s.offset), [{ seconds: 0, blocks: 0 }, ...DEFAULT_LATENT_STEPS]);
    assert.deepEqual(first.steps[0]!.effects.map((reps) => reps.length), [1, 1, 5]);
    const findings = behaviourFindings(first, prepared.bundle.policy).filter((f) => f.severity === "reject");
    assert.deepEqual(findings.map((f) => [f.code, f.evidence!["call"], f.evidence!["repetition"]]), [["LATENT_TRIGGER", "small-withdrawals", "4"]]);

    const second = await runBehaviourDifferential(params(), { startAnvil: (options) => forks.start(options) });
    assert.deepEqual(second, first);
  });

  it("stops its fork when its time bound cuts it short", async () => {
    await assert.rejects(
      runBehaviourDifferential({ ...params(), timeoutMs: 300 }, { startAnvil: (options) => forks.start(options) }),
      (error: unknown) => error instanceof ShadowDeploymentError && error.code === "CHECK_TIMED_OUT",
    );
    assert.equal(forks.size, 0);
  });

  it("compares nothing when nobody can upgrade the target (not a proxy)", async () => {
    const report = await runBehaviourDifferential({ ...params(), proxy: prepared.implementation }, { startAnvil: (options) => forks.start(options) });
    assert.match(report.notCompared ?? "", /nobody can perform the upgrade/);
    assert.deepEqual(report.steps, []);
  });
});
