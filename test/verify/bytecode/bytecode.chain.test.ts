// The bytecode analysis on code solc 0.8.37 built and anvil deployed: the comparison of deployed
// with compiled code (immutables, a linked library, metadata differences), and the reachable
// opcodes and selectors of what is really on chain.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { getAddress, pad, type Abi, type Address, type Hex } from "viem";
import {
  compareRuntimeCode,
  decodeMetadata,
  disassemble,
  functionSelectors,
  metadataDiffers,
  reachableOpcodes,
  splitMetadata,
  type CompiledRuntime,
} from "../../../src/verify/bytecode/index.ts";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";

const require = createRequire(import.meta.url);
const solc = require("solc") as { compile(input: string): string };

const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract Doomed {
  function destroy() external { selfdestruct(payable(msg.sender)); }
}

contract Forwarder {
  function forward(address target, bytes calldata data) external returns (bytes memory) {
    (bool ok, bytes memory result) = target.delegatecall(data);
    require(ok, "delegatecall failed");
    return result;
  }
}

contract Settings {
  uint256 public immutable x;
  address public immutable deployer;
  uint256 public constant FEE = 3;
  // The fee is added to every total.
  constructor(uint256 value) { x = value; deployer = msg.sender; }
  function total() external view returns (uint256) { return x + FEE; }
}

library Twice {
  function twice(uint256 v) external pure returns (uint256) { return 2 * v; }
}

contract UsesLibrary {
  function f(uint256 v) external pure returns (uint256) { return Twice.twice(v); }
}
`;
const COMMENT_CHANGED = SOURCE.replace("// The fee is added to every total.", "// The fee is added to each total.");
const CONSTANT_CHANGED = SOURCE.replace("FEE = 3", "FEE = 4");

interface Contract {
  abi: Abi;
  evm: {
    bytecode: { object: string };
    deployedBytecode: Required<Omit<CompiledRuntime, "object">> & { object: string };
    methodIdentifiers: Record<string, string>;
  };
}

/** Every build has the same source path, so the sources alone make the difference. */
function compile(source: string, settings: Record<string, unknown> = {}): Record<string, Contract> {
  const input = {
    language: "Solidity",
    sources: { "Fixtures.sol": { content: source } },
    settings: {
      evmVersion: "prague",
      optimizer: { enabled: true, runs: 200 },
      ...settings,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode", "evm.methodIdentifiers"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, Contract>>;
  };
  assert.deepEqual((output.errors ?? []).filter((e) => e.severity === "error").map((e) => e.formattedMessage), []);
  return output.contracts["Fixtures.sol"]!;
}

describe("bytecode analysis of deployed contracts", () => {
  let chain: TestChain;
  let built: Record<string, Contract>;
  let builtWithoutMetadata: Record<string, Contract>;
  const deployed: Record<string, { address: Address; code: Hex }> = {};

  async function deploy(name: string, contract: Contract, args: readonly unknown[] = [], bytecode = contract.evm.bytecode.object) {
    const address = await chain.deploy({ abi: contract.abi, bytecode: `0x${bytecode}` }, args);
    const code = await chain.client.getCode({ address });
    assert.ok(code && code !== "0x", `${name} has code`);
    deployed[name] = { address, code };
  }

  before(async () => {
    chain = await startTestChain();
    built = compile(SOURCE);
    builtWithoutMetadata = compile(SOURCE, { metadata: { appendCBOR: false } });
    await deploy("Doomed", built["Doomed"]!);
    await deploy("Forwarder", built["Forwarder"]!);
    await deploy("Settings", built["Settings"]!, [42n]);
    await deploy("SettingsWithoutMetadata", builtWithoutMetadata["Settings"]!, [42n]);
    await deploy("Twice", built["Twice"]!);
    // Link by hand, as a deployer would: the placeholder becomes the library's address.
    const linked = built["UsesLibrary"]!.evm.bytecode.object.replace(/__\$[0-9a-f]{34}\$__/g, deployed["Twice"]!.address.slice(2).toLowerCase());
    await deploy("UsesLibrary", built["UsesLibrary"]!, [], linked);
  });
  after(async () => {
    await chain?.stop();
  });

  describe("compareRuntimeCode", () => {
    it("is exact for the source each contract was built from", () => {
      for (const name of ["Doomed", "Forwarder", "Settings", "UsesLibrary"]) {
        const result = compareRuntimeCode(deployed[name]!.code, built[name]!.evm.deployedBytecode);
        assert.equal(result.status, "exact", name);
      }
    });
    it("returns the immutables' values as evidence", () => {
      const runtime = built["Settings"]!.evm.deployedBytecode;
      const result = compareRuntimeCode(deployed["Settings"]!.code, runtime);
      const deployer = chain.wallet.account.address.toLowerCase() as Hex;
      assert.deepEqual(Object.values(result.immutables).sort(), [pad("0x2a"), pad(deployer)].sort());
      assert.deepEqual(Object.keys(result.immutables).sort(), Object.keys(runtime.immutableReferences).sort());
      // Unmasked, the same comparison fails where the first immutable is.
      const unmasked = compareRuntimeCode(deployed["Settings"]!.code, { object: runtime.object });
      const firstReference = Math.min(...Object.values(runtime.immutableReferences).flat().map((r) => r.start));
      assert.ok(unmasked.status === "mismatch" && unmasked.offset >= firstReference && unmasked.offset < firstReference + 32);
    });
    it("returns the linked library's address as evidence", () => {
      const result = compareRuntimeCode(deployed["UsesLibrary"]!.code, built["UsesLibrary"]!.evm.deployedBytecode);
      assert.deepEqual(result.libraries, { "Fixtures.sol:Twice": getAddress(deployed["Twice"]!.address) });
    });
    it("is partial when only a comment changed: the metadata hash differs, the executable does not", () => {
      const runtime = compile(COMMENT_CHANGED)["Settings"]!.evm.deployedBytecode;
      const result = compareRuntimeCode(deployed["Settings"]!.code, runtime);
      assert.equal(result.status, "partial");
      assert.ok(metadataDiffers(deployed["Settings"]!.code, `0x${runtime.object}`));
      const [ours, theirs] = [deployed["Settings"]!.code, `0x${runtime.object}` as Hex].map((code) => decodeMetadata(splitMetadata(code).metadata!));
      assert.equal(ours?.solc, "0.8.37");
      assert.equal(theirs?.solc, "0.8.37");
      assert.notEqual(ours?.ipfs, theirs?.ipfs);
    });
    it("is a mismatch when one constant changed", () => {
      const runtime = compile(CONSTANT_CHANGED)["Settings"]!.evm.deployedBytecode;
      const result = compareRuntimeCode(deployed["Settings"]!.code, runtime);
      assert.equal(result.status, "mismatch");
      assert.ok(result.status === "mismatch" && result.reason === "code");
      assert.ok(result.offset < splitMetadata(deployed["Settings"]!.code).executable.length);
    });
    it("is a mismatch against another contract's build", () => {
      const result = compareRuntimeCode(deployed["Forwarder"]!.code, built["Doomed"]!.evm.deployedBytecode);
      assert.ok(result.status === "mismatch" && result.reason === "code");
      assert.equal(result.deployedLength, splitMetadata(deployed["Forwarder"]!.code).executable.length + splitMetadata(deployed["Forwarder"]!.code).metadata!.length);
    });
    it("handles code built without metadata (appendCBOR: false)", () => {
      const withoutMetadata = deployed["SettingsWithoutMetadata"]!.code;
      assert.equal(splitMetadata(withoutMetadata).metadata, undefined);
      assert.equal(compareRuntimeCode(withoutMetadata, builtWithoutMetadata["Settings"]!.evm.deployedBytecode).status, "exact");
      // Built with metadata, deployed without (or the other way round) is a different build, not
      // a partial match: without metadata solc also leaves out the INVALID that precedes it.
      const executable = splitMetadata(withoutMetadata).executable.length;
      for (const result of [
        compareRuntimeCode(withoutMetadata, built["Settings"]!.evm.deployedBytecode),
        compareRuntimeCode(deployed["Settings"]!.code, builtWithoutMetadata["Settings"]!.evm.deployedBytecode),
      ]) {
        assert.ok(result.status === "mismatch" && result.reason === "code" && result.offset === executable);
      }
      assert.equal(splitMetadata(deployed["Settings"]!.code).executable.at(-1), 0xfe);
    });
  });

  describe("reachableOpcodes", () => {
    const RISKY = ["SELFDESTRUCT", "DELEGATECALL", "CALLCODE"];
    const hits = (name: string) => reachableOpcodes(deployed[name]!.code, RISKY).map((hit) => hit.name);

    it("finds SELFDESTRUCT in the contract that self-destructs, and nothing else", () => {
      assert.deepEqual(hits("Doomed"), ["SELFDESTRUCT"]);
    });
    it("finds DELEGATECALL in the forwarder, and nothing else", () => {
      assert.deepEqual(hits("Forwarder"), ["DELEGATECALL"]);
    });
    it("finds nothing in the contract that has none", () => {
      assert.deepEqual(hits("Settings"), []);
      assert.deepEqual(hits("SettingsWithoutMetadata"), []);
    });
    it("finds DELEGATECALL in a contract calling an external library function: that is how they are called", () => {
      assert.deepEqual(hits("UsesLibrary"), ["DELEGATECALL"]);
    });
    it("reports real instructions", () => {
      const instructions = new Map(disassemble(deployed["Doomed"]!.code).map((instruction) => [instruction.pc, instruction.name]));
      for (const hit of reachableOpcodes(deployed["Doomed"]!.code, RISKY)) assert.equal(instructions.get(hit.pc), hit.name);
    });
  });

  it("functionSelectors: the deployed dispatchers' selectors are solc's method identifiers", () => {
    for (const name of ["Doomed", "Forwarder", "Settings", "UsesLibrary"]) {
      const expected = Object.values(built[name]!.evm.methodIdentifiers).map((selector) => `0x${selector}`).sort();
      assert.deepEqual(functionSelectors(deployed[name]!.code), expected, name);
    }
  });
});
