// BuildCompiler compiles a build as two halves at once (code; storage layouts and ASTs) and merges
// them: the merged output must be exactly what one compile asking for everything gives, on a real
// OpenZeppelin token (ERC-20 + permit + Ownable + UUPS, 33 sources) and on a source with warnings.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { BuildSpec, SolcInput } from "../../../src/codec/bundle.ts";
import { canonicalJson } from "../../../src/codec/canonicalJson.ts";
import { DEFAULT_FIXTURE_SETTINGS, fixtureInput } from "../../../src/devnet/upgradeFixture.ts";
import { withVerificationOutputs } from "../../../src/verify/compiler/index.ts";
import { BuildCompiler } from "../../../src/verify/reproducibleBuild/index.ts";
import { CORPUS_DIR } from "../../helpers/corpus.ts";

const V28 = "0.8.28+commit.7893614a";

describe("BuildCompiler", () => {
  // A cache of its own: the halves and the single compile must really be compiled here.
  const dir = mkdtempSync(join(tmpdir(), "sentinel-build-compiler-"));
  const compiler = new BuildCompiler({ cacheDir: dir });
  after(async () => {
    await compiler.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("merges its two halves into exactly the single compile's output (OpenZeppelin token)", async () => {
    const input = fixtureInput(join(CORPUS_DIR, "approve-oz-token"), ["V1.sol", "V2.sol"], DEFAULT_FIXTURE_SETTINGS, CORPUS_DIR);
    assert.ok(Object.keys(input.sources).length > 30);
    const v2: BuildSpec = { compiler: V28, contract: "V2.sol:TokenV2", input };
    const [implementation, reference, single] = await Promise.all([
      compiler.build(v2),
      compiler.build({ ...v2, contract: "V1.sol:TokenV1" }),
      compiler.compilers.compile(V28, withVerificationOutputs(input)),
    ]);
    assert.equal(canonicalJson(implementation.output), canonicalJson(single.output));
    assert.equal(implementation.output, reference.output, "two contracts of one build share its output");
    assert.ok(implementation.contract.storageLayout && implementation.contract.evm?.deployedBytecode?.object);
    assert.ok(Object.isFrozen(implementation.output.contracts["V2.sol"]?.["TokenV2"]));
    // Three compiles: the two halves and the single one.
    assert.equal(compiler.compilers.stats().compiles, 3);
  });

  it("keeps the single compile's messages, and fails as it does", async () => {
    const content = "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\ncontract W { function f(uint256 unused) external pure returns (uint256) { uint256 x; return 1; } }\n";
    const input: SolcInput = { language: "Solidity", sources: { "W.sol": { content } }, settings: { optimizer: { enabled: true, runs: 200 } } };
    const [build, single] = await Promise.all([compiler.build({ compiler: V28, contract: "W.sol:W", input }), compiler.compilers.compile(V28, withVerificationOutputs(input))]);
    assert.ok(single.output.errors.length >= 2, "the source has warnings");
    assert.equal(canonicalJson(build.output), canonicalJson(single.output));

    const broken: SolcInput = { ...input, sources: { "W.sol": { content: content.replace("return 1;", "return y;") } } };
    await assert.rejects(compiler.build({ compiler: V28, contract: "W.sol:W", input: broken }), (error: Error & { code?: string }) => error.code === "COMPILATION_FAILED");
  });
});
