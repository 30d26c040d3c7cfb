// What the AST says about initializers: which external functions OZ's `initializer` /
// `reinitializer(n)` guard (as first modifier only), and where Initializable keeps its version.
// Compiled with solc-js, without the optimizer (the AST does not depend on it).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { toFunctionSelector } from "viem";
import { fixtureInput } from "../../../src/devnet/upgradeFixture.ts";
import type { SolcOutput } from "../../../src/verify/compiler/index.ts";
import { initializableLayout, initializerGuards } from "../../../src/verify/initializers/index.ts";
import { CORPUS_DIR } from "../../helpers/corpus.ts";

const require = createRequire(import.meta.url);
const solc = require("solc-0.8.28") as { compile(input: string): string };

const SETTINGS = { evmVersion: "cancun", optimizer: { enabled: false }, outputSelection: { "*": { "*": ["storageLayout"], "": ["ast"] } } };

function compile(entries: string[], extra: Record<string, string> = {}): SolcOutput {
  const input = fixtureInput(CORPUS_DIR, entries, SETTINGS, CORPUS_DIR);
  for (const [name, content] of Object.entries(extra)) input.sources[name] = { content };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  assert.deepEqual(errors, []);
  return output;
}

describe("initializers in the AST", () => {
  it("finds initializer and reinitializer(2) guards by selector, and OZ v5's namespaced state", () => {
    const output = compile(["shared/MigratedTokenV1.sol"]);
    const guards = initializerGuards(output, "shared/MigratedTokenV1.sol:MigratedTokenV1");
    assert.deepEqual(
      [...guards.entries()].sort(),
      [
        [toFunctionSelector("initialize(address)"), { signature: "initialize(address)", modifier: "initializer", version: 1n }],
        [toFunctionSelector("initializeV2(address)"), { signature: "initializeV2(address)", modifier: "reinitializer", version: 2n }],
      ].sort(),
    );
    assert.deepEqual(initializableLayout(output, "shared/MigratedTokenV1.sol:MigratedTokenV1"), { flavour: "oz-v5" });
  });

  it("a guard that is not the first modifier, or a look-alike modifier, is no guard", () => {
    const source = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
contract C is Initializable {
    modifier first() { _; }
    function a() external first initializer {}
    function c() external reinitializer(3) {}
}
contract Fake {
    modifier initializer() { _; }
}
contract E is Fake {
    function b() external initializer {}
}`;
    const output = compile([], { "C.sol": source, ...sourcesOf(["@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol"]) });
    assert.deepEqual([...initializerGuards(output, "C.sol:C").values()].map((g) => [g.signature, g.modifier, g.version]), [["c()", "reinitializer", 3n]]);
    assert.equal(initializerGuards(output, "C.sol:E").size, 0);
  });

  it("a contract without Initializable has an unknown layout", () => {
    const output = compile([], { "D.sol": "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\ncontract D { function f() external {} }" });
    assert.deepEqual(initializableLayout(output, "D.sol:D"), { flavour: "unknown" });
    assert.equal(initializerGuards(output, "D.sol:D").size, 0);
  });
});

function sourcesOf(entries: string[]): Record<string, string> {
  const input = fixtureInput(CORPUS_DIR, entries, SETTINGS, CORPUS_DIR);
  return Object.fromEntries(Object.entries(input.sources).map(([name, source]) => [name, source.content]));
}
