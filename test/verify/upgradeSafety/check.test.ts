// The upgrade-safety and storage-layout checks as the pipeline runs them, through a verification
// context: a bundle whose reference is a contract of the implementation's own build is validated
// once, so upgrades-core's namespaced compilation runs once per candidate, not once per build;
// and that compilation starts from the ASTs, before the build's code is compiled.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { getAddress, keccak256, stringToHex, type PublicClient } from "viem";
import { BUNDLE_SCHEMA, parseBundle, type SolcInput, type SourceBundle } from "../../../src/codec/bundle.ts";
import type { Candidate } from "../../../src/codec/candidate.ts";
import { DEFAULT_POLICY } from "../../../src/codec/policy.ts";
import { DEFAULT_FIXTURE_SETTINGS, fixtureInput, readUpgradeCase } from "../../../src/devnet/upgradeFixture.ts";
import { VerificationContext } from "../../../src/verify/context.ts";
import { storageLayoutCheck, upgradeSafetyCheck } from "../../../src/verify/upgradeSafety/index.ts";
import { testCompiler } from "../../helpers/compiler.ts";
import { CORPUS_DIR } from "../../helpers/corpus.ts";
import { FIXED_CANDIDATE } from "../../helpers/fixedCandidate.ts";

const candidate: Candidate = FIXED_CANDIDATE;

describe("upgrade-safety and storage-layout checks in a context", () => {
  const compiler = testCompiler();
  after(() => compiler.close());

  async function namespacedCase() {
    // V1 and V2 both keep their state in an ERC-7201 namespace, so a namespaced compilation is needed.
    const dir = join(CORPUS_DIR, "approve-namespace-field-appended");
    const upgrade = readUpgradeCase(dir);
    const version = await compiler.compilers.fullVersion(upgrade.compiler ?? "0.8.28");
    const files = [upgrade.reference, upgrade.implementation].map((name) => name.slice(0, name.lastIndexOf(":")));
    return parseBundle({
      schema: BUNDLE_SCHEMA,
      implementation: { compiler: version, contract: upgrade.implementation, input: fixtureInput(dir, files, DEFAULT_FIXTURE_SETTINGS, CORPUS_DIR) },
      reference: { contract: upgrade.reference },
      upgradeCall: "0x",
      policy: DEFAULT_POLICY,
    });
  }

  /** A context over the real compiler; `gate` holds the whole build (its code) back until it opens. */
  function contextFor(bundle: SourceBundle, namespaced: SolcInput[], gate: Promise<void> = Promise.resolve()): VerificationContext {
    const context = new VerificationContext({
      candidateId: keccak256(stringToHex("candidate")),
      candidate,
      proposer: getAddress("0x3000000000000000000000000000000000000003"),
      client: {} as PublicClient,
      rpcUrl: "http://127.0.0.1:1",
      loadBundle: async () => bundle,
      compile: async (spec) => {
        await gate;
        return compiler.build(spec);
      },
      compileSyntax: (spec) => compiler.syntax(spec),
      compileExactly: (compilerVersion, input) => {
        namespaced.push(input);
        return compiler.compile(compilerVersion, input);
      },
      startFork: async () => {
        throw new Error("no fork in this test");
      },
    });
    // The proxy's kind comes from the chain; this test has none.
    void context.shared("authority", async () => ({ authority: getAddress("0x4000000000000000000000000000000000000004"), kind: "owner" as const }));
    return context;
  }

  it("compile the namespaced input once when the reference is a contract of the implementation's build", async () => {
    const namespaced: SolcInput[] = [];
    const context = contextFor(await namespacedCase(), namespaced);
    const [safety, layout] = await Promise.all([upgradeSafetyCheck.run(context), storageLayoutCheck.run(context)]);
    assert.deepEqual(safety.map((f) => [f.code, f.severity]), [["OK", "info"]], JSON.stringify(safety));
    assert.deepEqual(layout.map((f) => [f.code, f.severity]), [["OK", "info"]], JSON.stringify(layout));
    assert.equal(namespaced.length, 1, "one namespaced compilation for the one build both contracts come from");
  });

  it("start the namespaced compilation from the ASTs, before the code is compiled", async () => {
    const namespaced: SolcInput[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const context = contextFor(await namespacedCase(), namespaced, gate);
    const checks = Promise.all([upgradeSafetyCheck.run(context), storageLayoutCheck.run(context)]);
    // The build is held back; the namespaced compilation must be asked for all the same.
    const deadline = Date.now() + 30_000;
    while (namespaced.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(namespaced.length, 1, "the namespaced compilation waited for the code");
    open();
    const [safety, layout] = await checks;
    assert.deepEqual([...safety, ...layout].map((f) => [f.code, f.severity]), [["OK", "info"], ["OK", "info"]]);
    assert.equal(namespaced.length, 1);
  });
});
