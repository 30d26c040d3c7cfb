// The bytecode analysis on hand-written code (every edge case written out byte by byte), and the
// selector extraction against what solc itself reports for real contracts.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { before, describe, it } from "node:test";
import { bytesToHex, hexToBytes, type Hex } from "viem";
import {
  BytecodeFormatError,
  compareRuntimeCode,
  decodeMetadata,
  disassemble,
  functionSelectors,
  metadataDiffers,
  opcodeName,
  reachableOpcodes,
  splitMetadata,
} from "../../../src/verify/bytecode/index.ts";

// ---------------------------------------------------------------------------------------------
// A tiny assembler, so the hand-written code reads as instructions. Tokens: mnemonics, raw bytes
// ("0x…", also a PUSH's immediate), label definitions ("name:") and label uses ("@name", one byte).

const OPCODE_BY_NAME = new Map(Array.from({ length: 256 }, (_, byte) => [opcodeName(byte), byte] as const));

function asm(source: string): Hex {
  const tokens = source.trim().split(/\s+/);
  const labels = new Map<string, number>();
  let pc = 0;
  for (const token of tokens) {
    if (token.endsWith(":")) labels.set(token.slice(0, -1), pc);
    else pc += token.startsWith("0x") ? (token.length - 2) / 2 : 1;
  }
  const hex = tokens.map((token) => {
    if (token.endsWith(":")) return "";
    if (token.startsWith("0x")) return token.slice(2);
    if (token.startsWith("@")) return byte(labels.get(token.slice(1)), token);
    return byte(OPCODE_BY_NAME.get(token), token);
  });
  return `0x${hex.join("")}`;
}

function byte(value: number | undefined, token: string): string {
  if (value === undefined || value > 0xff) throw new Error(`asm: bad token ${token}`);
  return value.toString(16).padStart(2, "0");
}

/** solc's metadata tail: {ipfs: 0x1220 + hash, solc: 0.8.37}, 0x0033 (51) bytes, then the length. */
function metadata(hashByte: string): string {
  return `a2646970667358221220${hashByte.repeat(32)}64736f6c6343000825` + "0033";
}
const METADATA_A = metadata("11");
const METADATA_B = metadata("22");

describe("disassemble", () => {
  it("names every Cancun/Prague opcode and marks undefined bytes", () => {
    const names = disassemble("0x5f5c5d5e494a1e0cfe21").map((instruction) => instruction.name);
    assert.deepEqual(names, ["PUSH0", "TLOAD", "TSTORE", "MCOPY", "BLOBHASH", "BLOBBASEFEE", "CLZ", "UNKNOWN_0x0c", "INVALID", "UNKNOWN_0x21"]);
    assert.equal(opcodeName(0xff), "SELFDESTRUCT");
    assert.equal(opcodeName(0xf4), "DELEGATECALL");
    assert.equal(opcodeName(0xef), "UNKNOWN_0xef");
  });
  it("skips PUSH data, even data that looks like SELFDESTRUCT", () => {
    assert.deepEqual(disassemble(asm("PUSH2 0xffff PUSH1 0xff SELFDESTRUCT")), [
      { pc: 0, opcode: 0x61, name: "PUSH2", pushData: "0xffff" },
      { pc: 3, opcode: 0x60, name: "PUSH1", pushData: "0xff" },
      { pc: 5, opcode: 0xff, name: "SELFDESTRUCT" },
    ]);
  });
  it("records a PUSH whose data runs past the end as truncated", () => {
    assert.deepEqual(disassemble("0x007faabb"), [
      { pc: 0, opcode: 0x00, name: "STOP" },
      { pc: 1, opcode: 0x7f, name: "PUSH32", pushData: "0xaabb", truncated: true },
    ]);
    assert.deepEqual(disassemble("0x61"), [{ pc: 0, opcode: 0x61, name: "PUSH2", pushData: "0x", truncated: true }]);
  });
  it("takes bytes or hex, and rejects what is not whole-byte hex", () => {
    assert.deepEqual(disassemble(new Uint8Array([0x5b])), [{ pc: 0, opcode: 0x5b, name: "JUMPDEST" }]);
    assert.deepEqual(disassemble("0x"), []);
    assert.throws(() => disassemble("0x5" as Hex), BytecodeFormatError);
    assert.throws(() => disassemble("0xzz" as Hex), BytecodeFormatError);
  });
});

describe("splitMetadata / decodeMetadata", () => {
  it("splits solc's metadata tail and decodes it", () => {
    const { executable, metadata } = splitMetadata(`0x6080fe${METADATA_A}`);
    assert.equal(bytesToHex(executable), "0x6080fe");
    assert.equal(bytesToHex(metadata!), `0x${METADATA_A}`);
    assert.deepEqual(decodeMetadata(metadata!), { ipfs: `0x1220${"11".repeat(32)}`, solc: "0.8.37" });
  });
  it("decodes the older and rarer keys", () => {
    // {bzzr0: 32 bytes, solc: "0.5.0-nightly"... as text, experimental: true}
    const text = Buffer.from("0.5.0-nightly").toString("hex");
    const cbor = `a3` + `65627a7a7230` + `5820${"ab".repeat(32)}` + `64736f6c63` + `6d${text}` + `6c6578706572696d656e74616c` + `f5`;
    const tail = `${cbor}${(cbor.length / 2).toString(16).padStart(4, "0")}`;
    assert.ok(splitMetadata(`0x00${tail}`).metadata);
    assert.deepEqual(decodeMetadata(`0x${tail}`), { bzzr0: `0x${"ab".repeat(32)}`, solc: "0.5.0-nightly", experimental: true });
  });
  it("keeps code without metadata whole", () => {
    for (const code of ["0x", "0x00", "0x6001600201", "0x0000"] as const) {
      assert.equal(bytesToHex(splitMetadata(code).executable), code);
      assert.equal(splitMetadata(code).metadata, undefined);
    }
  });
  it("keeps code whole when the tail only looks like metadata", () => {
    const notMetadata = [
      "0x00a100ffff0004", // a map opener, but an integer key and a bad value: not solc's CBOR
      "0x00a1636b6579f50005", // a well-formed map, {key: true}, but no key solc writes
      "0x00a164736f6c634300082500000b", // solc's map with a byte left over before the length
      "0x00a264736f6c6343000825000a", // announces two entries, holds one
      "0x64736f6c63430008250009", // no map at all: a text string
      "0x0000ff", // the length points before the start of the code
      `0x00${METADATA_A.slice(0, -4)}0034`, // the length is one off
    ] as const;
    for (const code of notMetadata) {
      assert.equal(splitMetadata(code).metadata, undefined, code);
      assert.equal(bytesToHex(splitMetadata(code).executable), code);
    }
    assert.equal(decodeMetadata("0x00a100ffff0004"), undefined);
    assert.equal(decodeMetadata("0x01"), undefined);
  });
  it("tells whether two codes' metadata differ", () => {
    assert.equal(metadataDiffers(`0x00${METADATA_A}`, `0x00${METADATA_A}`), false);
    assert.equal(metadataDiffers(`0x00${METADATA_A}`, `0x6001${METADATA_A}`), false);
    assert.equal(metadataDiffers(`0x00${METADATA_A}`, `0x00${METADATA_B}`), true);
    assert.equal(metadataDiffers(`0x00${METADATA_A}`, "0x00"), true);
    assert.equal(metadataDiffers("0x00", "0x01"), false);
  });
});

describe("reachableOpcodes", () => {
  const FORBIDDEN = ["SELFDESTRUCT", "CALLCODE", "DELEGATECALL"];

  it("finds the instructions, in code order", () => {
    assert.deepEqual(reachableOpcodes(asm("PUSH0 SELFDESTRUCT"), FORBIDDEN), [{ name: "SELFDESTRUCT", pc: 1 }]);
    assert.deepEqual(reachableOpcodes(asm("PUSH0 DUP1 CALLCODE PUSH0 DUP1 DELEGATECALL"), FORBIDDEN), [
      { name: "CALLCODE", pc: 2 },
      { name: "DELEGATECALL", pc: 5 },
    ]);
  });
  it("ignores the same bytes inside PUSH data", () => {
    assert.deepEqual(reachableOpcodes(asm("PUSH1 0xff PUSH2 0xf2ff PUSH32 0x" + "f4".repeat(32) + " STOP"), FORBIDDEN), []);
  });
  it("ignores a truncated PUSH at the end", () => {
    assert.deepEqual(reachableOpcodes("0x0063ffff", FORBIDDEN), []);
  });
  it("ignores dead code after a terminator, up to the next JUMPDEST", () => {
    for (const terminator of ["STOP", "PUSH0 PUSH0 RETURN", "PUSH0 PUSH0 REVERT", "INVALID", "PUSH1 @x JUMP"]) {
      const code = asm(`${terminator} 0xff 0xf2 0xf4 x: JUMPDEST STOP`);
      assert.deepEqual(reachableOpcodes(code, FORBIDDEN), [], terminator);
    }
  });
  it("counts SELFDESTRUCT after a JUMPDEST in dead code as reachable (any JUMPDEST may be a target)", () => {
    assert.deepEqual(reachableOpcodes(asm("PUSH0 PUSH0 RETURN 0xff JUMPDEST PUSH0 SELFDESTRUCT"), FORBIDDEN), [{ name: "SELFDESTRUCT", pc: 6 }]);
  });
  it("does not count a JUMPDEST byte inside PUSH data as a target, dead code or not", () => {
    assert.deepEqual(reachableOpcodes(asm("STOP PUSH1 0x5b SELFDESTRUCT"), FORBIDDEN), []);
    assert.deepEqual(reachableOpcodes(asm("STOP 0x60 0x5b 0xff JUMPDEST 0xff"), FORBIDDEN), [{ name: "SELFDESTRUCT", pc: 5 }]);
  });
  it("goes on after JUMPI, which may fall through", () => {
    assert.deepEqual(reachableOpcodes(asm("PUSH0 PUSH1 @x JUMPI PUSH0 SELFDESTRUCT x: JUMPDEST STOP"), FORBIDDEN), [{ name: "SELFDESTRUCT", pc: 5 }]);
  });
  it("ignores the metadata tail, SELFDESTRUCT-looking bytes and all", () => {
    assert.deepEqual(reachableOpcodes(`0x00${metadata("ff")}`, FORBIDDEN), []);
    // Without a metadata tail the same bytes are code.
    assert.deepEqual(reachableOpcodes("0x5bff", FORBIDDEN), [{ name: "SELFDESTRUCT", pc: 1 }]);
  });
  it("refuses an opcode name it does not know, rather than finding nothing", () => {
    assert.throws(() => reachableOpcodes("0x00", ["SELFDESTROY"]), RangeError);
  });
});

describe("functionSelectors (hand-written dispatchers)", () => {
  it("takes the EQ comparisons, not the range split's pivot nor a body's constants", () => {
    const code = asm(`
      PUSH1 0x80 PUSH1 0x40 MSTORE
      PUSH1 0x04 CALLDATASIZE LT PUSH1 @fallback JUMPI
      PUSH0 CALLDATALOAD PUSH1 0xe0 SHR
      DUP1 PUSH4 0x80000000 GT PUSH1 @high JUMPI
      DUP1 PUSH4 0x11111111 EQ PUSH1 @f1 JUMPI
      DUP1 PUSH3 0x222222 EQ PUSH1 @f2 JUMPI
      PUSH1 @fallback JUMP
      high: JUMPDEST
      PUSH4 0x90000000 DUP2 EQ PUSH1 @f1 JUMPI
      fallback: JUMPDEST PUSH0 DUP1 REVERT
      f1: JUMPDEST PUSH4 0x44444444 PUSH0 MSTORE PUSH1 0x04 PUSH1 0x1c REVERT
      f2: JUMPDEST DUP1 PUSH4 0x55555555 EQ PUSH1 @fallback JUMPI STOP`);
    assert.deepEqual(functionSelectors(code), ["0x00222222", "0x11111111", "0x90000000"]);
  });
  it("reads the via-IR optimizer's inverted form: jump on selector - c to the next case", () => {
    const code = asm(`
      PUSH0 CALLDATALOAD PUSH1 0xe0 SHR
      PUSH4 0x11111111 DUP2 SUB PUSH1 @next JUMPI STOP
      next: JUMPDEST
      DUP1 PUSH4 0x22222222 XOR ISZERO PUSH1 @f2 JUMPI
      PUSH4 0x33333333 EQ ISZERO PUSH1 @none JUMPI STOP
      none: JUMPDEST PUSH0 DUP1 REVERT
      f2: JUMPDEST STOP`);
    assert.deepEqual(functionSelectors(code), ["0x11111111", "0x22222222", "0x33333333"]);
  });
  it("reads iszero(selector) as the selector 0x00000000", () => {
    const code = asm("PUSH0 CALLDATALOAD PUSH1 0xe0 SHR ISZERO PUSH1 @f JUMPI STOP f: JUMPDEST STOP");
    assert.deepEqual(functionSelectors(code), ["0x00000000"]);
  });
  it("reads the pre-0.5 div/and selector", () => {
    const code = asm(`PUSH1 0x00 CALLDATALOAD PUSH29 0x01${"00".repeat(28)} SWAP1 DIV PUSH4 0xffffffff AND
      DUP1 PUSH4 0x11111111 EQ PUSH1 @f JUMPI STOP f: JUMPDEST STOP`);
    assert.deepEqual(functionSelectors(code), ["0x11111111"]);
  });
  it("finds nothing where nothing is compared with the call's selector", () => {
    assert.deepEqual(functionSelectors("0x"), []);
    assert.deepEqual(functionSelectors(`0x00${METADATA_A}`), []);
    // A PUSH4 compared with calldata at another offset, and with calldataload(0) unshifted.
    const code = asm(`PUSH1 0x04 CALLDATALOAD PUSH4 0x11111111 EQ PUSH1 @a JUMPI
      a: JUMPDEST PUSH0 CALLDATALOAD PUSH4 0x22222222 EQ PUSH1 @b JUMPI
      b: JUMPDEST PUSH0 CALLDATALOAD PUSH1 0xe0 SHL PUSH4 0x33333333 EQ PUSH1 @c JUMPI c: JUMPDEST STOP`);
    assert.deepEqual(functionSelectors(code), []);
  });
  it("stops at jumps it cannot follow, without throwing", () => {
    // A computed jump target, an underflow, a jump into PUSH data and a truncated PUSH.
    for (const source of ["CALLVALUE JUMP", "ADD", "PUSH1 0x04 JUMP PUSH1 0x5b", "PUSH0 CALLDATALOAD PUSH1 0xe0 SHR PUSH32 0x11"]) {
      assert.deepEqual(functionSelectors(asm(source)), [], source);
    }
  });
});

describe("compareRuntimeCode (hand-written)", () => {
  const EXECUTABLE = asm("PUSH1 0x80 PUSH1 0x40 MSTORE CALLVALUE PUSH1 0x2a SSTORE STOP INVALID").slice(2);

  it("is exact when every byte is equal", () => {
    const code: Hex = `0x${EXECUTABLE}${METADATA_A}`;
    assert.deepEqual(compareRuntimeCode(code, { object: code }), { status: "exact", immutables: {}, libraries: {} });
    // solc writes the object without 0x.
    assert.equal(compareRuntimeCode(code, { object: code.slice(2) }).status, "exact");
    assert.equal(compareRuntimeCode(`0x${EXECUTABLE}`, { object: `0x${EXECUTABLE}` }).status, "exact");
  });
  it("is partial when only the metadata differs, in content or presence", () => {
    assert.deepEqual(compareRuntimeCode(`0x${EXECUTABLE}${METADATA_A}`, { object: `0x${EXECUTABLE}${METADATA_B}` }), {
      status: "partial",
      immutables: {},
      libraries: {},
      deployedMetadata: `0x${METADATA_A}`,
      compiledMetadata: `0x${METADATA_B}`,
    });
    const withoutDeployed = compareRuntimeCode(`0x${EXECUTABLE}`, { object: `0x${EXECUTABLE}${METADATA_B}` });
    assert.equal(withoutDeployed.status, "partial");
    assert.ok(withoutDeployed.status === "partial" && withoutDeployed.deployedMetadata === undefined);
    assert.equal(compareRuntimeCode(`0x${EXECUTABLE}${METADATA_A}`, { object: `0x${EXECUTABLE}` }).status, "partial");
  });
  it("is a mismatch when the executables differ, naming the first difference", () => {
    const changed = EXECUTABLE.replace("602a", "602b");
    assert.deepEqual(compareRuntimeCode(`0x${changed}${METADATA_A}`, { object: `0x${EXECUTABLE}${METADATA_A}` }), {
      status: "mismatch",
      reason: "code",
      offset: 7,
      deployedLength: EXECUTABLE.length / 2 + 53,
      compiledLength: EXECUTABLE.length / 2 + 53,
      immutables: {},
      libraries: {},
    });
    // One executable a prefix of the other: they differ where the shorter one ends.
    const longer = compareRuntimeCode(`0x${EXECUTABLE}00${METADATA_A}`, { object: `0x${EXECUTABLE}${METADATA_B}` });
    assert.ok(longer.status === "mismatch" && longer.offset === EXECUTABLE.length / 2);
    // Metadata bytes that do not decode are code, and so differ.
    assert.equal(compareRuntimeCode(`0x${EXECUTABLE}a1ff0002`, { object: `0x${EXECUTABLE}a1fe0002` }).status, "mismatch");
  });

  describe("immutables", () => {
    // PUSH32 <x> PUSH0 SSTORE PUSH32 <x> PUSH1 1 SSTORE STOP: x referenced at bytes 1 and 36.
    const shape = (x: string, y = x) => `0x7f${x}5f557f${y}600155`;
    const zero = "00".repeat(32);
    const value = "00".repeat(31) + "2a";
    const references = { immutableReferences: { "7": [{ start: 1, length: 32 }, { start: 36, length: 32 }] } };

    it("masks them and returns the deployed values", () => {
      assert.deepEqual(compareRuntimeCode(shape(value) as Hex, { object: shape(zero), ...references }), {
        status: "exact",
        immutables: { "7": `0x${value}` },
        libraries: {},
      });
    });
    it("is a mismatch when two references to one immutable disagree", () => {
      const result = compareRuntimeCode(shape(value, zero) as Hex, { object: shape(zero), ...references });
      assert.equal(result.status, "mismatch");
      assert.ok(result.status === "mismatch" && result.reason === "immutables" && result.offset === 36);
    });
    it("is a mismatch when a reference lies outside the deployed code", () => {
      const result = compareRuntimeCode("0x7f00", { object: shape(zero), ...references });
      assert.ok(result.status === "mismatch" && result.reason === "immutables" && result.offset === 1);
    });
    it("does not mask what the references do not cover", () => {
      const result = compareRuntimeCode(`${shape(value)}00` as Hex, { object: `${shape(zero)}01`, ...references });
      assert.ok(result.status === "mismatch" && result.reason === "code" && result.offset === 71);
    });
  });

  describe("libraries", () => {
    const placeholder = `__$${"a".repeat(34)}$__`;
    const address = "5fbdb2315678afecb367f032d93f642f64180aa3";
    // PUSH20 <library> DELEGATECALL-ish tail: the placeholder stands where the address goes.
    const compiled = { object: `0x73${placeholder}f400`, linkReferences: { "src/L.sol": { L: [{ start: 1, length: 20 }] } } };

    it("fills the placeholders with the deployed addresses and returns them", () => {
      assert.deepEqual(compareRuntimeCode(`0x73${address}f400`, compiled), {
        status: "exact",
        immutables: {},
        libraries: { "src/L.sol:L": "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
      });
    });
    it("is a mismatch when two references to one library disagree", () => {
      const twice = {
        object: `0x73${placeholder}73${placeholder}`,
        linkReferences: { "src/L.sol": { L: [{ start: 1, length: 20 }, { start: 22, length: 20 }] } },
      };
      const result = compareRuntimeCode(`0x73${address}73${"00".repeat(20)}`, twice);
      assert.ok(result.status === "mismatch" && result.reason === "libraries" && result.offset === 22);
    });
    it("keeps an address already linked in, so a different one deployed is a mismatch", () => {
      const linked = { ...compiled, object: `0x73${"11".repeat(20)}f400` };
      const result = compareRuntimeCode(`0x73${address}f400`, linked);
      assert.ok(result.status === "mismatch" && result.reason === "code" && result.offset === 1);
    });
    it("refuses a placeholder that no link reference covers", () => {
      assert.throws(() => compareRuntimeCode(`0x73${address}f400`, { object: compiled.object }), /unlinked library placeholder at byte 1/);
      assert.throws(() => compareRuntimeCode("0x00", { object: "0xzz" }), BytecodeFormatError);
      assert.throws(() => compareRuntimeCode("0x0" as Hex, { object: "0x00" }), BytecodeFormatError);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Real solc output: the selectors must be exactly the method identifiers solc reports.

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const require = createRequire(import.meta.url);
const solc = require("solc") as { version(): string; compile(input: string, callbacks: { import(path: string): { contents: string } | { error: string } }): string };

/**
 * Over 20 external functions, so the legacy dispatcher splits by range (binary search). Built
 * with the legacy pipeline only: via-IR takes seconds for it, and `Many` covers a via-IR
 * dispatcher of that size.
 */
const LARGE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
contract Token is ERC20Upgradeable, UUPSUpgradeable, OwnableUpgradeable {
  function initialize() external initializer { __ERC20_init("Token", "TKN"); __Ownable_init(msg.sender); }
  function _authorizeUpgrade(address) internal override onlyOwner {}
  function mint(address to, uint256 amount) external onlyOwner { _mint(to, amount); }
  function burn(uint256 amount) external { _burn(msg.sender, amount); }
  function pause() external onlyOwner {}
  function unpause() external onlyOwner {}
  function version() external pure returns (string memory) { return "1"; }
  function cap() external pure returns (uint256) { return 1e27; }
}`;

/** Awkward selectors (0x00000000, 0x00a965e5, 0x00004555) and constants that are not selectors. */
const SMALL = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
interface IFoo { function foo() external; }
contract Awkward {
  error Nope(uint256);
  uint32 public counter;
  function wycpnbqcyf() external payable {}
  function f490() external {}
  function f3011() external view returns (uint256) { return counter; }
  function supportsInterface(bytes4 id) external pure returns (bool) { return id == type(IFoo).interfaceId || id == 0x01ffc9a7; }
  function check(uint32 x) external pure returns (bool) { if (x == 0xdeadbeef) revert Nope(1); return x == 0xcafebabe; }
  fallback() external payable { if (msg.sig == 0xabcdef01) revert Nope(2); }
  receive() external payable {}
}
contract One { function only() external pure returns (uint256) { return 7; } }
contract Nothing { uint256 x; constructor() { x = 1; } }
contract Many {
${Array.from({ length: 30 }, (_, i) => `  function m${i}(uint256 a) external pure returns (uint256) { return a + ${i}; }`).join("\n")}
}`;

interface Compiled {
  evm: { deployedBytecode: { object: string }; methodIdentifiers: Record<string, string> };
}

function compile(settings: Record<string, unknown>, large: boolean): Record<string, Compiled> {
  const input = {
    language: "Solidity",
    sources: { "Small.sol": { content: SMALL }, ...(large ? { "Large.sol": { content: LARGE } } : {}) },
    settings: { ...settings, evmVersion: "prague", outputSelection: { "*": { "*": ["evm.deployedBytecode.object", "evm.methodIdentifiers"] } } },
  };
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), {
      import: (path) => {
        const file = join(root, "node_modules", path);
        return existsSync(file) ? { contents: readFileSync(file, "utf8") } : { error: `not found: ${path}` };
      },
    }),
  ) as { errors?: { severity: string; formattedMessage: string }[]; contracts: Record<string, Record<string, Compiled>> };
  const errors = (output.errors ?? []).filter((error) => error.severity === "error");
  assert.deepEqual(errors.map((error) => error.formattedMessage), []);
  return { ...output.contracts["Large.sol"], ...output.contracts["Small.sol"] };
}

describe("solc 0.8.37 output", () => {
  const builds: Record<string, Record<string, Compiled>> = {};
  before(() => {
    assert.match(solc.version(), /^0\.8\.37\+/);
    builds["optimizer on"] = compile({ optimizer: { enabled: true, runs: 200 } }, true);
    builds["optimizer off"] = compile({ optimizer: { enabled: false } }, true);
    builds["via-IR"] = compile({ optimizer: { enabled: true, runs: 200 }, viaIR: true }, false);
  });

  for (const build of ["optimizer on", "optimizer off", "via-IR"]) {
    for (const contract of [...(build === "via-IR" ? [] : ["Token"]), "Many", "Awkward", "One", "Nothing"]) {
      it(`${contract}, ${build}: exactly solc's method identifiers`, () => {
        const { evm } = builds[build]![contract]!;
        const expected = Object.values(evm.methodIdentifiers).map((selector) => `0x${selector}`).sort();
        assert.deepEqual(functionSelectors(`0x${evm.deployedBytecode.object}`), expected);
        assert.ok(splitMetadata(`0x${evm.deployedBytecode.object}`).metadata, "solc appends metadata");
      });
    }
  }

  it("the large contracts are large, and the optimized legacy dispatcher does split by range", () => {
    for (const [build, contract] of [["optimizer on", "Token"], ["optimizer on", "Many"], ["via-IR", "Many"]] as const) {
      assert.ok(functionSelectors(`0x${builds[build]![contract]!.evm.deployedBytecode.object}`).length > 20, `${contract}, ${build}`);
    }
    const code = builds["optimizer on"]!["Token"]!.evm.deployedBytecode.object;
    const instructions = disassemble(splitMetadata(`0x${code}`).executable);
    const splits = instructions.filter((instruction, i) => instruction.name === "GT" && instructions[i - 1]?.name === "PUSH4");
    assert.ok(splits.length > 0);
  });

  it("decodes the metadata: ipfs and the compiler version", () => {
    const code = builds["optimizer on"]!["One"]!.evm.deployedBytecode.object;
    const decoded = decodeMetadata(splitMetadata(hexToBytes(`0x${code}`)).metadata!);
    assert.equal(decoded?.solc, "0.8.37");
    assert.match(decoded?.ipfs ?? "", /^0x1220[0-9a-f]{64}$/);
  });

  it("the awkward contract's non-selector constants are in its code, just not in the answer", () => {
    const code = builds["optimizer off"]!["Awkward"]!.evm.deployedBytecode.object;
    const pushed = new Set<string | undefined>(disassemble(`0x${code}`).map((instruction) => instruction.pushData));
    for (const constant of ["0xdeadbeef", "0xcafebabe"]) assert.ok(pushed.has(constant), constant);
    assert.ok(!functionSelectors(`0x${code}`).some((selector) => ["0xdeadbeef", "0xcafebabe", "0xabcdef01"].includes(selector)));
  });
});
