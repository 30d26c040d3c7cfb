// The verification corpus (test/fixtures/corpus): every upgrade through the whole pipeline, on a
// real chain, with real compilers and a real shadow fork. Each must come out exactly as labelled:
// zero missed, zero false alarms, and the right reason codes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Outcome } from "../../src/codec/types.ts";
import { prepareUpgrade, readUpgradeCase } from "../../src/devnet/upgradeFixture.ts";
import { reasonsFromBitmap } from "../../src/verify/reasons.ts";
import { verifyStandalone } from "../../src/verify/standalone.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";
import { testCompiler } from "../helpers/compiler.ts";
import { CORPUS_DIR, corpusCases } from "../helpers/corpus.ts";

const cases = corpusCases();

describe("verification corpus", () => {
  let chain: TestChain;
  const compiler = testCompiler();
  before(async () => {
    chain = await startTestChain();
  });
  after(async () => {
    await compiler.close();
    await chain?.stop();
  });

  it("has at least one case of every kind the issue names", () => {
    assert.ok(cases.length >= 25, `only ${cases.length} cases`);
    assert.ok(cases.some((name) => readUpgradeCase(join(CORPUS_DIR, name)).expect === "approve"));
  });

  for (const name of cases) {
    const dir = join(CORPUS_DIR, name);
    const upgrade = readUpgradeCase(dir);
    it(`${name}: ${upgrade.expect} ${upgrade.reasons.join(", ")}`, async () => {
      const prepared = await prepareUpgrade({ dir, upgrade, chain, compiler });
      const result = await verifyStandalone({ candidate: prepared.candidate, bundle: prepared.bundle, rpcUrl: chain.anvil.rpcUrl, compiler });
      const found = reasonsFromBitmap(result.reasons).sort();
      const explain = () =>
        result.findings
          .filter((f) => f.severity !== "info")
          .map((f) => `${f.check}: ${f.code} ${f.message}`)
          .join("\n");
      assert.deepEqual(found, [...upgrade.reasons].sort(), `reasons differ from the label:\n${explain()}`);
      assert.equal(result.outcome, upgrade.expect === "approve" ? Outcome.Approve : Outcome.Reject, explain());
    });
  }
});
