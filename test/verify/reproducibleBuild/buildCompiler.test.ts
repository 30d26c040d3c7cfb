// BuildCompiler compiles a build as two halves at once (code; storage layouts and ASTs) and merges
// them: the merged output must be exactly what one compile asking for everything gives, on a real
// OpenZeppelin token (ERC-20 + permit + Ownable + UUPS, 33 sources) and on a source with warnings.
// The code is cached per source file: a bundle whose V2 changed takes V1's and the libraries'
// code from an earlier compile, a changed dependency is a miss, and an entry whose metadata is
// not this input's is never used.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { BuildSpec, SolcInput } from "../../../src/codec/bundle.ts";
import { canonicalJson } from "../../../src/codec/canonicalJson.ts";
import { DEFAULT_FIXTURE_SETTINGS, fixtureInput } from "../../../src/devnet/upgradeFixture.ts";
import { fileCodeKeys, withVerificationOutputs } from "../../../src/verify/compiler/index.ts";
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

  describe("per-file code cache", () => {
    const tokenInput = () => fixtureInput(join(CORPUS_DIR, "approve-oz-token"), ["V1.sol", "V2.sol"], DEFAULT_FIXTURE_SETTINGS, CORPUS_DIR);
    const changed = (input: SolcInput, file: string): SolcInput => ({
      ...input,
      sources: { ...input.sources, [file]: { content: `${input.sources[file]!.content}\n// changed\n` } },
    });
    const OWNABLE = "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
    let cache: BuildCompiler;
    let cacheDir: string;
    after(() => cache?.close());

    /** A build of `input` and the single compile of it, compared; the per-file counts it took. */
    async function buildAndCompare(input: SolcInput, contract: string) {
      const before = cache.compilers.stats();
      const build = await cache.build({ compiler: V28, contract, input });
      const after = cache.compilers.stats();
      const single = await cache.compilers.compile(V28, withVerificationOutputs(input));
      assert.equal(canonicalJson(build.output), canonicalJson(single.output), "the build is what one compile of everything gives");
      await cache.compilers.flush();
      return { hits: after.fileCodeHits - before.fileCodeHits, refused: after.fileCodeRefused - before.fileCodeRefused, compiles: after.compiles - before.compiles };
    }

    it("fills from a first build, then takes V1's and the libraries' code from it when only V2 changed", async () => {
      cacheDir = mkdtempSync(join(dir, "per-file-"));
      cache = new BuildCompiler({ cacheDir });
      const first = await buildAndCompare(tokenInput(), "V2.sol:TokenV2");
      assert.deepEqual(first, { hits: 0, refused: 0, compiles: 2 }, "nothing cached: one code and one syntax compile");

      const input = changed(tokenInput(), "V2.sol");
      const files = Object.keys(input.sources).length;
      const second = await buildAndCompare(input, "V1.sol:TokenV1");
      assert.deepEqual(second, { hits: files - 1, refused: 0, compiles: 2 }, "every file but V2.sol from the cache; V2.sol's code and the syntax compiled");
    });

    it("misses every file that depends on a changed source", async () => {
      const base = tokenInput();
      const input = changed(base, OWNABLE);
      const [before, after] = [fileCodeKeys(V28, base)!, fileCodeKeys(V28, input)!];
      const same = [...after].filter(([file, key]) => before.get(file) === key).map(([file]) => file);
      assert.ok(!same.includes("V1.sol") && !same.includes("V2.sol") && !same.includes(OWNABLE), "V1 and V2 import Ownable");
      assert.ok(same.includes("@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol"), "a library that does not import it keeps its key");
      const result = await buildAndCompare(input, "V1.sol:TokenV1");
      assert.deepEqual(result, { hits: same.length, refused: 0, compiles: 2 });
    });

    it("never uses an entry whose metadata is not this input's", async () => {
      const input = changed(tokenInput(), "V1.sol");
      const keys = fileCodeKeys(V28, input)!;
      const real = (await cache.compilers.compile(V28, withVerificationOutputs(tokenInput()))).output.contracts["V1.sol"]!;
      // An entry under the changed V1's key holding the old V1's code (as a wrong key would give).
      cache.compilers.store(keys.get("V1.sol")!, V28, { contracts: { "V1.sol": real } });
      await cache.compilers.flush();
      const result = await buildAndCompare(input, "V1.sol:TokenV1");
      assert.equal(result.refused, 1);
      assert.equal(result.hits, keys.size - 1, "every file but V1.sol (refused; V2.sol does not import it)");
    });
  });
});
