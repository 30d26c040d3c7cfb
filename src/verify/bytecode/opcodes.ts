// The EVM's opcodes, a disassembler, and which opcodes some execution could reach.
import { bytesToHex, type Hex } from "viem";
import { toBytes } from "./bytes.ts";
import { splitMetadata } from "./metadata.ts";

// ---------------------------------------------------------------------------------------------
// Opcodes

interface OpcodeInfo {
  name: string;
  /** Stack items taken and pushed: the selector search needs them to keep its stack in shape. */
  inputs: number;
  outputs: number;
}

/** Prague (= Cancun's opcode set) plus Osaka's CLZ; any other byte is an undefined opcode. */
export const OPCODES: readonly (OpcodeInfo | undefined)[] = (() => {
  const table: (OpcodeInfo | undefined)[] = new Array(256).fill(undefined);
  const define = (opcode: number, name: string, inputs: number, outputs: number) => (table[opcode] = { name, inputs, outputs });
  const binary = ["ADD", "MUL", "SUB", "DIV", "SDIV", "MOD", "SMOD"];
  binary.forEach((name, i) => define(0x01 + i, name, 2, 1));
  define(0x00, "STOP", 0, 0);
  define(0x08, "ADDMOD", 3, 1);
  define(0x09, "MULMOD", 3, 1);
  define(0x0a, "EXP", 2, 1);
  define(0x0b, "SIGNEXTEND", 2, 1);
  ["LT", "GT", "SLT", "SGT", "EQ"].forEach((name, i) => define(0x10 + i, name, 2, 1));
  define(0x15, "ISZERO", 1, 1);
  ["AND", "OR", "XOR"].forEach((name, i) => define(0x16 + i, name, 2, 1));
  define(0x19, "NOT", 1, 1);
  ["BYTE", "SHL", "SHR", "SAR"].forEach((name, i) => define(0x1a + i, name, 2, 1));
  define(0x1e, "CLZ", 1, 1);
  define(0x20, "KECCAK256", 2, 1);
  const environment: [string, number, number][] = [
    ["ADDRESS", 0, 1], ["BALANCE", 1, 1], ["ORIGIN", 0, 1], ["CALLER", 0, 1], ["CALLVALUE", 0, 1],
    ["CALLDATALOAD", 1, 1], ["CALLDATASIZE", 0, 1], ["CALLDATACOPY", 3, 0], ["CODESIZE", 0, 1],
    ["CODECOPY", 3, 0], ["GASPRICE", 0, 1], ["EXTCODESIZE", 1, 1], ["EXTCODECOPY", 4, 0],
    ["RETURNDATASIZE", 0, 1], ["RETURNDATACOPY", 3, 0], ["EXTCODEHASH", 1, 1],
    ["BLOCKHASH", 1, 1], ["COINBASE", 0, 1], ["TIMESTAMP", 0, 1], ["NUMBER", 0, 1], ["PREVRANDAO", 0, 1],
    ["GASLIMIT", 0, 1], ["CHAINID", 0, 1], ["SELFBALANCE", 0, 1], ["BASEFEE", 0, 1], ["BLOBHASH", 1, 1],
    ["BLOBBASEFEE", 0, 1],
  ];
  environment.forEach(([name, inputs, outputs], i) => define(0x30 + i, name, inputs, outputs));
  const memory: [string, number, number][] = [
    ["POP", 1, 0], ["MLOAD", 1, 1], ["MSTORE", 2, 0], ["MSTORE8", 2, 0], ["SLOAD", 1, 1], ["SSTORE", 2, 0],
    ["JUMP", 1, 0], ["JUMPI", 2, 0], ["PC", 0, 1], ["MSIZE", 0, 1], ["GAS", 0, 1], ["JUMPDEST", 0, 0],
    ["TLOAD", 1, 1], ["TSTORE", 2, 0], ["MCOPY", 3, 0], ["PUSH0", 0, 1],
  ];
  memory.forEach(([name, inputs, outputs], i) => define(0x50 + i, name, inputs, outputs));
  for (let n = 1; n <= 32; n++) define(0x5f + n, `PUSH${n}`, 0, 1);
  for (let n = 1; n <= 16; n++) define(0x7f + n, `DUP${n}`, n, n + 1);
  for (let n = 1; n <= 16; n++) define(0x8f + n, `SWAP${n}`, n + 1, n + 1);
  for (let n = 0; n <= 4; n++) define(0xa0 + n, `LOG${n}`, n + 2, 0);
  define(0xf0, "CREATE", 3, 1);
  define(0xf1, "CALL", 7, 1);
  define(0xf2, "CALLCODE", 7, 1);
  define(0xf3, "RETURN", 2, 0);
  define(0xf4, "DELEGATECALL", 6, 1);
  define(0xf5, "CREATE2", 4, 1);
  define(0xfa, "STATICCALL", 6, 1);
  define(0xfd, "REVERT", 2, 0);
  define(0xfe, "INVALID", 0, 0);
  define(0xff, "SELFDESTRUCT", 1, 0);
  return table;
})();

const OPCODE_BY_NAME: ReadonlyMap<string, number> = new Map(
  OPCODES.flatMap((info, opcode) => (info ? [[info.name, opcode] as const] : [])),
);

const STOP = 0x00;
export const JUMP = 0x56;
export const JUMPI = 0x57;
export const JUMPDEST = 0x5b;
export const PUSH0 = 0x5f;
const PUSH1 = 0x60;
const PUSH32 = 0x7f;
const RETURN = 0xf3;
const REVERT = 0xfd;
const INVALID = 0xfe;
const SELFDESTRUCT = 0xff;

/**
 * Instructions after which the next byte is not executed by falling through. Undefined opcodes
 * also halt, but are left out on purpose: a later fork may define them (CLZ was undefined before
 * Osaka), and calling the code after them dead would hide what that fork executes.
 */
export const TERMINATORS: ReadonlySet<number> = new Set([STOP, JUMP, RETURN, REVERT, INVALID, SELFDESTRUCT]);

/** The mnemonic of an opcode byte: "INVALID" for 0xfe, "UNKNOWN_0x0c" for an undefined one. */
export function opcodeName(opcode: number): string {
  return OPCODES[opcode]?.name ?? `UNKNOWN_0x${opcode.toString(16).padStart(2, "0")}`;
}

export function pushSize(opcode: number): number {
  return opcode >= PUSH1 && opcode <= PUSH32 ? opcode - PUSH1 + 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Disassembly and reachability

export interface Instruction {
  pc: number;
  opcode: number;
  name: string;
  /** A PUSH's immediate bytes as they stand in the code. */
  pushData?: Hex;
  /** The PUSH's data runs past the end of the code (the EVM reads the missing bytes as zeros). */
  truncated?: true;
}

/**
 * Every instruction of the code, in order, PUSH data skipped. Disassembles the bytes as given:
 * call `splitMetadata` first to leave out the metadata tail.
 *
 * @example
 * disassemble("0x6080604052") // [{ pc: 0, opcode: 0x60, name: "PUSH1", pushData: "0x80" }, …]
 */
export function disassemble(code: Uint8Array | Hex): Instruction[] {
  const bytes = toBytes(code);
  const instructions: Instruction[] = [];
  for (let pc = 0; pc < bytes.length; pc++) {
    const opcode = bytes[pc]!;
    const instruction: Instruction = { pc, opcode, name: opcodeName(opcode) };
    const size = pushSize(opcode);
    if (size > 0) {
      instruction.pushData = bytesToHex(bytes.subarray(pc + 1, pc + 1 + size));
      if (pc + size >= bytes.length) instruction.truncated = true;
      pc += size;
    }
    instructions.push(instruction);
  }
  return instructions;
}

export interface OpcodeHit {
  name: string;
  pc: number;
}

/**
 * The instructions named `names` that some execution could reach. An over-approximation, in
 * one linear pass: every JUMPDEST counts as a possible jump target (which jumps are taken is not
 * worked out), and only the bytes after a terminating instruction (STOP, RETURN, REVERT,
 * INVALID, SELFDESTRUCT, JUMP) up to the next JUMPDEST are known dead — where solc puts data
 * such as strings. PUSH data and the metadata tail are not instructions.
 *
 * The metadata tail is skipped whole, though a 0x5b byte in it is a valid jump destination for
 * the EVM: solc's own jumps never land there, and scanning it would reject about one honest
 * build in a hundred for an IPFS hash that happens to hold 0x5b…0xff. Code whose jumps can be
 * steered (an internal function pointer in storage, verbatim bytecode) could reach the tail, so
 * a caller that accepts a partial match is trusting tail bytes nobody compiled.
 *
 * @throws RangeError for a name that is no opcode, so a typo cannot pass as "nothing found".
 * @example
 * reachableOpcodes("0x00ff5bff", ["SELFDESTRUCT"]) // [{ name: "SELFDESTRUCT", pc: 3 }]
 */
export function reachableOpcodes(code: Uint8Array | Hex, names: readonly string[]): OpcodeHit[] {
  const wanted = new Set<number>();
  for (const name of names) {
    const opcode = OPCODE_BY_NAME.get(name);
    if (opcode === undefined) throw new RangeError(`unknown opcode name "${name}"`);
    wanted.add(opcode);
  }
  const { executable } = splitMetadata(code);
  const hits: OpcodeHit[] = [];
  let live = true;
  for (let pc = 0; pc < executable.length; pc++) {
    const opcode = executable[pc]!;
    if (opcode === JUMPDEST) live = true;
    if (live && wanted.has(opcode)) hits.push({ name: opcodeName(opcode), pc });
    if (TERMINATORS.has(opcode)) live = false;
    pc += pushSize(opcode);
  }
  return hits;
}
