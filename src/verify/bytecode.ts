// Static analysis of EVM runtime code: the Solidity metadata tail, a disassembler, which opcodes
// execution could reach, the dispatcher's function selectors, and the Sourcify-style comparison
// of deployed code with a compiler's output. Pure functions over bytes; every input is treated
// as untrusted (the deployed code is whatever the proposer put on chain), so nothing here throws
// on odd bytecode, only on malformed hex or on a caller's mistake.
import { bytesToHex, getAddress, hexToBytes, isHex, type Address, type Hex } from "viem";

export class BytecodeFormatError extends Error {
  override name = "BytecodeFormatError";
}

// ---------------------------------------------------------------------------------------------
// Opcodes

interface OpcodeInfo {
  name: string;
  /** Stack items taken and pushed: the selector search needs them to keep its stack in shape. */
  inputs: number;
  outputs: number;
}

/** Prague (= Cancun's opcode set) plus Osaka's CLZ; any other byte is an undefined opcode. */
const OPCODES: readonly (OpcodeInfo | undefined)[] = (() => {
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
const JUMP = 0x56;
const JUMPI = 0x57;
const JUMPDEST = 0x5b;
const PUSH0 = 0x5f;
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
const TERMINATORS: ReadonlySet<number> = new Set([STOP, JUMP, RETURN, REVERT, INVALID, SELFDESTRUCT]);

/** The mnemonic of an opcode byte: "INVALID" for 0xfe, "UNKNOWN_0x0c" for an undefined one. */
export function opcodeName(opcode: number): string {
  return OPCODES[opcode]?.name ?? `UNKNOWN_0x${opcode.toString(16).padStart(2, "0")}`;
}

function pushSize(opcode: number): number {
  return opcode >= PUSH1 && opcode <= PUSH32 ? opcode - PUSH1 + 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Metadata

/** Keys solc has written into the metadata map, from 0.4.7 (bzzr0) to today (ipfs, solc). */
const METADATA_KEYS: ReadonlySet<string> = new Set(["ipfs", "bzzr0", "bzzr1", "solc", "experimental"]);

export interface SplitCode {
  /** Everything before the metadata: the instructions, and any data solc placed among them. */
  executable: Uint8Array;
  /** The CBOR metadata with its two-byte length suffix, so `executable + metadata` is the code. */
  metadata?: Uint8Array;
}

/**
 * Splits off Solidity's CBOR metadata tail: the last two bytes are the big-endian length of a
 * CBOR map just before them. The tail counts as metadata only if it decodes as exactly one such
 * map with text keys, simple values and at least one key solc writes: code that merely ends in
 * plausible length bytes is left whole.
 *
 * @example
 * splitMetadata(hexToBytes("0x00a164736f6c6343000825000a")) // { executable: 0x00, metadata: a164…000a }
 */
export function splitMetadata(code: Uint8Array | Hex): SplitCode {
  const bytes = toBytes(code);
  if (bytes.length < 2) return { executable: bytes };
  const length = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!;
  const start = bytes.length - 2 - length;
  if (start < 0 || decodeCborMap(bytes.subarray(start, bytes.length - 2)) === undefined) return { executable: bytes };
  return { executable: bytes.subarray(0, start), metadata: bytes.subarray(start) };
}

export interface SolidityMetadata {
  /** The IPFS multihash (0x1220 + sha2-256) of the metadata JSON. */
  ipfs?: Hex;
  /** Swarm hashes of the metadata JSON written by solc 0.4.x-0.5.x (bzzr0) and 0.5.x-0.6.x (bzzr1). */
  bzzr0?: Hex;
  bzzr1?: Hex;
  /** "0.8.37" for releases; prereleases carry the full version string. */
  solc?: string;
  /** Set when experimental features (e.g. SMTChecker pragmas) were on. */
  experimental?: boolean;
}

/** The fields of a metadata tail as `splitMetadata` returns it; undefined if it is not one. */
export function decodeMetadata(metadata: Uint8Array | Hex): SolidityMetadata | undefined {
  const bytes = toBytes(metadata);
  if (bytes.length < 2 || ((bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!) !== bytes.length - 2) return undefined;
  const map = decodeCborMap(bytes.subarray(0, bytes.length - 2));
  if (!map) return undefined;
  const decoded: SolidityMetadata = {};
  for (const key of ["ipfs", "bzzr0", "bzzr1"] as const) {
    const value = map.get(key);
    if (value instanceof Uint8Array) decoded[key] = bytesToHex(value);
  }
  const solc = map.get("solc");
  if (solc instanceof Uint8Array && solc.length === 3) decoded.solc = solc.join(".");
  else if (typeof solc === "string") decoded.solc = solc;
  const experimental = map.get("experimental");
  if (typeof experimental === "boolean") decoded.experimental = experimental;
  return decoded;
}

/** Whether two codes carry different metadata tails (one having none counts as different). */
export function metadataDiffers(a: Uint8Array | Hex, b: Uint8Array | Hex): boolean {
  return !equalBytes(splitMetadata(a).metadata ?? new Uint8Array(), splitMetadata(b).metadata ?? new Uint8Array());
}

type CborValue = Uint8Array | string | boolean | number;

/**
 * Just enough CBOR for solc's metadata: one definite-length map of 1..23 entries, text keys,
 * byte string / text / bool / small unsigned values, nothing left over. Anything else is not
 * metadata, so every unexpected byte returns undefined rather than throwing.
 */
function decodeCborMap(bytes: Uint8Array): Map<string, CborValue> | undefined {
  let pos = 0;
  const head = (): { major: number; argument: number } | undefined => {
    const initial = bytes[pos++];
    if (initial === undefined) return undefined;
    const info = initial & 0x1f;
    let argument: number;
    if (info < 24) argument = info;
    else if (info === 24 && pos + 1 <= bytes.length) argument = bytes[pos++]!;
    else if (info === 25 && pos + 2 <= bytes.length) argument = (bytes[pos++]! << 8) | bytes[pos++]!;
    else return undefined; // longer lengths cannot fit in a tail whose length is 16 bits anyway
    return { major: initial >> 5, argument };
  };
  const string = (length: number): Uint8Array | undefined => {
    if (pos + length > bytes.length) return undefined;
    const value = bytes.subarray(pos, pos + length);
    pos += length;
    return value;
  };
  const text = (length: number): string | undefined => {
    const raw = string(length);
    if (!raw) return undefined;
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      return undefined;
    }
  };

  const map = head();
  if (!map || map.major !== 5 || map.argument < 1 || map.argument > 23) return undefined;
  const entries = new Map<string, CborValue>();
  for (let i = 0; i < map.argument; i++) {
    const keyHead = head();
    if (!keyHead || keyHead.major !== 3) return undefined;
    const key = text(keyHead.argument);
    if (key === undefined || entries.has(key)) return undefined;
    const valueHead = head();
    if (!valueHead) return undefined;
    let value: CborValue | undefined;
    if (valueHead.major === 0) value = valueHead.argument;
    else if (valueHead.major === 2) value = string(valueHead.argument);
    else if (valueHead.major === 3) value = text(valueHead.argument);
    else if (valueHead.major === 7 && (valueHead.argument === 20 || valueHead.argument === 21)) value = valueHead.argument === 21;
    if (value === undefined) return undefined;
    entries.set(key, value);
  }
  if (pos !== bytes.length) return undefined;
  return [...entries.keys()].some((key) => METADATA_KEYS.has(key)) ? entries : undefined;
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

// ---------------------------------------------------------------------------------------------
// Function selectors

/** Abstract stack values: only what the dispatcher's comparisons are made of is tracked. */
type Value =
  | { kind: "const"; value: bigint }
  | { kind: "calldata0" }
  | { kind: "selector" }
  | { kind: "selectorEq"; selector: bigint }
  | { kind: "selectorNe"; selector: bigint }
  | undefined;

const SELECTOR_SHIFT = 224n;
const SELECTOR_MASK = 0xffffffffn;
/** solc keeps the dispatcher near 1024 deep at most; deeper stacks are not a dispatcher. */
const STACK_LIMIT = 1024;

/**
 * The 4-byte selectors the contract's dispatcher compares the call's selector with, sorted and
 * unique. Found by abstract execution from pc 0 that tracks `calldataload(0) >> 224` (or the
 * pre-0.5 `div`/`and` form): a JUMPI on `selector == c` records c and does not enter the function
 * body, a JUMPI on `selector != c` (the via-IR optimizer's `sub`/`xor` form) likewise; range
 * splits (`selector > c`) explore both sides and record nothing. Constants that are never compared
 * with the selector — error selectors, interface ids — are therefore not selectors. Each pc is
 * executed at most once, so the cost is linear in the code size.
 *
 * @example
 * functionSelectors(deployedCode) // ["0x06fdde03", "0x095ea7b3", …]
 */
export function functionSelectors(code: Uint8Array | Hex): Hex[] {
  const { executable } = splitMetadata(code);
  const jumpdests = validJumpdests(executable);
  const executed = new Uint8Array(executable.length);
  const selectors = new Set<bigint>();
  const work: { pc: number; stack: Value[] }[] = [{ pc: 0, stack: [] }];
  const jumpTarget = (target: Value): number | undefined =>
    target?.kind === "const" && target.value < BigInt(executable.length) && jumpdests[Number(target.value)] === 1
      ? Number(target.value)
      : undefined;

  while (work.length > 0) {
    const start = work.pop()!;
    const stack = start.stack;
    let pc = start.pc;
    path: while (pc < executable.length && executed[pc] === 0) {
      executed[pc] = 1;
      const opcode = executable[pc]!;
      const info = OPCODES[opcode];
      if (!info || (TERMINATORS.has(opcode) && opcode !== JUMP)) break;
      if (stack.length < info.inputs) break; // stack underflow halts
      const size = pushSize(opcode);
      if (opcode === PUSH0 || size > 0) {
        let value = 0n;
        for (let i = 1; i <= size; i++) value = (value << 8n) | BigInt(executable[pc + i] ?? 0);
        stack.push({ kind: "const", value });
      } else if (info.name.startsWith("DUP")) {
        stack.push(stack[stack.length - info.inputs]);
      } else if (info.name.startsWith("SWAP")) {
        const top = stack.length - 1;
        const other = top - (info.inputs - 1);
        [stack[top], stack[other]] = [stack[other], stack[top]];
      } else if (opcode === JUMP) {
        const target = jumpTarget(stack.pop());
        if (target === undefined) break;
        pc = target;
        continue;
      } else if (opcode === JUMPI) {
        const target = jumpTarget(stack.pop());
        const condition = stack.pop();
        const fallthrough = pc + 1;
        if (condition?.kind === "selectorEq" || condition?.kind === "selectorNe") {
          selectors.add(condition.selector);
          // Follow only the side where the comparison failed: the other side is the function.
          if (condition.kind === "selectorEq") pc = fallthrough;
          else if (target !== undefined) pc = target;
          else break;
          continue;
        }
        if (condition?.kind === "const") {
          if (condition.value === 0n) pc = fallthrough;
          else if (target !== undefined) pc = target;
          else break;
          continue;
        }
        if (target !== undefined) work.push({ pc: target, stack: [...stack] });
        pc = fallthrough;
        continue;
      } else {
        const inputs = stack.splice(stack.length - info.inputs, info.inputs).reverse(); // inputs[0] was the top
        const result = info.outputs === 1 ? evaluate(info.name, inputs) : undefined;
        for (let i = 0; i < info.outputs; i++) stack.push(result);
      }
      if (stack.length > STACK_LIMIT) break;
      pc += 1 + size;
    }
  }
  return [...selectors]
    .filter((selector) => selector <= SELECTOR_MASK)
    .sort((a, b) => (a < b ? -1 : 1))
    .map((selector) => `0x${selector.toString(16).padStart(8, "0")}` as Hex);
}

/** The handful of operations solc builds the selector and its comparisons from. */
function evaluate(name: string, inputs: Value[]): Value {
  const [a, b] = inputs;
  const constant = (v: Value): bigint | undefined => (v?.kind === "const" ? v.value : undefined);
  /** The constant the selector is combined with, in either operand order. */
  const withSelector = (x: Value, y: Value): bigint | undefined =>
    x?.kind === "selector" ? constant(y) : y?.kind === "selector" ? constant(x) : undefined;
  switch (name) {
    case "CALLDATALOAD":
      return constant(a) === 0n ? { kind: "calldata0" } : undefined;
    case "SHR":
      return constant(a) === SELECTOR_SHIFT && b?.kind === "calldata0" ? { kind: "selector" } : undefined;
    case "DIV": // solc < 0.5: calldataload(0) / 2**224
      return a?.kind === "calldata0" && constant(b) === 1n << SELECTOR_SHIFT ? { kind: "selector" } : undefined;
    case "AND": {
      const mask = withSelector(a, b);
      return mask === SELECTOR_MASK ? { kind: "selector" } : undefined;
    }
    case "EQ": {
      const selector = withSelector(a, b);
      return selector === undefined ? undefined : { kind: "selectorEq", selector };
    }
    case "SUB":
    case "XOR": {
      const selector = withSelector(a, b);
      return selector === undefined ? undefined : { kind: "selectorNe", selector };
    }
    case "ISZERO":
      // `iszero(selector)` is how the optimizer compares with the selector 0x00000000.
      if (a?.kind === "selector") return { kind: "selectorEq", selector: 0n };
      if (a?.kind === "selectorEq") return { kind: "selectorNe", selector: a.selector };
      if (a?.kind === "selectorNe") return { kind: "selectorEq", selector: a.selector };
      if (a?.kind === "const") return { kind: "const", value: a.value === 0n ? 1n : 0n };
      return undefined;
    default:
      return undefined;
  }
}

/** The EVM's own jump destination analysis: JUMPDEST bytes that are not PUSH data. */
function validJumpdests(code: Uint8Array): Uint8Array {
  const valid = new Uint8Array(code.length);
  for (let pc = 0; pc < code.length; pc++) {
    if (code[pc] === JUMPDEST) valid[pc] = 1;
    pc += pushSize(code[pc]!);
  }
  return valid;
}

// ---------------------------------------------------------------------------------------------
// Deployed code against compiled code

export interface ByteRange {
  start: number;
  length: number;
}

/** The parts of solc's `evm.deployedBytecode` the comparison needs. */
export interface CompiledRuntime {
  /** With or without 0x; may hold `__$…$__` library placeholders, hence not strictly hex. */
  object: Hex | string;
  immutableReferences?: Record<string, ByteRange[]>;
  linkReferences?: Record<string, Record<string, ByteRange[]>>;
}

interface MatchEvidence {
  /** Each immutable's value as read from the deployed code, by the AST id solc names it with. */
  immutables: Record<string, Hex>;
  /** Each linked library's address as read from the deployed code, by "source:Library". */
  libraries: Record<string, Address>;
}

export interface ExactMatch extends MatchEvidence {
  status: "exact";
}

/** The executables are equal; only the metadata tails (hence the source's metadata) differ. */
export interface PartialMatch extends MatchEvidence {
  status: "partial";
  deployedMetadata?: Hex;
  compiledMetadata?: Hex;
}

export interface RuntimeMismatch extends MatchEvidence {
  status: "mismatch";
  /** "code": the bytes differ; "immutables"/"libraries": one reference's value disagrees with another's, or lies outside the code. */
  reason: "code" | "immutables" | "libraries";
  /** First differing byte of the executables (or the offending reference's start). */
  offset: number;
  deployedLength: number;
  compiledLength: number;
}

export type RuntimeMatch = ExactMatch | PartialMatch | RuntimeMismatch;

/**
 * Compares deployed runtime code with a compiler's output the way Sourcify does. Immutable
 * ranges are masked in both (the compiler leaves zeros there, the constructor wrote values), and
 * library placeholders in the compiled code are filled with the addresses found in the deployed
 * code; both sets of values are returned as evidence. Then: "exact" if every byte is equal,
 * "partial" if only the metadata tails differ (in content, length or presence), else "mismatch".
 *
 * A partial match proves the executable part only: the deployed tail is whatever decodes as
 * metadata, and code that reads its own tail (CODECOPY) or jumps into it could tell the
 * difference. Different build settings are not a partial match: without metadata
 * (`appendCBOR: false`) solc also leaves out the INVALID byte that otherwise ends the executable.
 *
 * @throws BytecodeFormatError if either code is not hex, or the compiled code has a placeholder
 * that no link reference covers.
 */
export function compareRuntimeCode(deployed: Uint8Array | Hex, compiled: CompiledRuntime): RuntimeMatch {
  const deployedBytes = toBytes(deployed).slice();
  const compiledHex = compiled.object.startsWith("0x") ? compiled.object.slice(2) : compiled.object;
  const compiledLength = compiledHex.length / 2;
  const evidence: MatchEvidence = { immutables: {}, libraries: {} };
  const mismatch = (reason: RuntimeMismatch["reason"], offset: number): RuntimeMismatch => ({
    status: "mismatch",
    reason,
    offset,
    deployedLength: deployedBytes.length,
    compiledLength,
    ...evidence,
  });

  // Libraries first: until they are filled in, the compiled object is not hex.
  const linked = compiledHex.split("");
  for (const [source, libraries] of Object.entries(compiled.linkReferences ?? {})) {
    for (const [library, ranges] of Object.entries(libraries)) {
      const name = `${source}:${library}`;
      for (const { start, length } of ranges) {
        if (start + length > deployedBytes.length || start + length > compiledLength) return mismatch("libraries", start);
        const value = bytesToHex(deployedBytes.subarray(start, start + length));
        if (length !== 20 || (name in evidence.libraries && evidence.libraries[name]!.toLowerCase() !== value)) {
          return mismatch("libraries", start);
        }
        evidence.libraries[name] = getAddress(value);
        // An already linked object keeps its address: a different one deployed is a mismatch.
        if (compiledHex.startsWith("__", start * 2)) linked.splice(start * 2, length * 2, ...value.slice(2));
      }
    }
  }
  const linkedHex = `0x${linked.join("")}`;
  if (!isHex(linkedHex, { strict: true }) || linkedHex.length % 2 !== 0) {
    const placeholder = linkedHex.indexOf("__");
    throw new BytecodeFormatError(
      placeholder >= 0
        ? `compiled code has an unlinked library placeholder at byte ${(placeholder - 2) / 2} that no link reference covers`
        : "compiled code is not hex",
    );
  }
  const compiledBytes = hexToBytes(linkedHex);

  for (const [id, ranges] of Object.entries(compiled.immutableReferences ?? {})) {
    for (const { start, length } of ranges) {
      if (start + length > deployedBytes.length || start + length > compiledBytes.length) return mismatch("immutables", start);
      const value = bytesToHex(deployedBytes.subarray(start, start + length));
      // The constructor writes one value into every reference: two different ones are not solc's doing.
      if (id in evidence.immutables && evidence.immutables[id] !== value) return mismatch("immutables", start);
      evidence.immutables[id] = value;
      deployedBytes.fill(0, start, start + length);
      compiledBytes.fill(0, start, start + length);
    }
  }

  if (equalBytes(deployedBytes, compiledBytes)) return { status: "exact", ...evidence };
  const deployedSplit = splitMetadata(deployedBytes);
  const compiledSplit = splitMetadata(compiledBytes);
  const offset = firstDifference(deployedSplit.executable, compiledSplit.executable);
  if (offset !== undefined) return mismatch("code", offset);
  const partial: PartialMatch = { status: "partial", ...evidence };
  if (deployedSplit.metadata) partial.deployedMetadata = bytesToHex(deployedSplit.metadata);
  if (compiledSplit.metadata) partial.compiledMetadata = bytesToHex(compiledSplit.metadata);
  return partial;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function toBytes(code: Uint8Array | Hex): Uint8Array {
  if (code instanceof Uint8Array) return code;
  if (!isHex(code, { strict: true }) || code.length % 2 !== 0) throw new BytecodeFormatError("code must be 0x-prefixed hex of whole bytes");
  return hexToBytes(code);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return firstDifference(a, b) === undefined;
}

/** The first offset where the two differ, counting a longer one's extra bytes; undefined if equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number | undefined {
  const common = Math.min(a.length, b.length);
  for (let i = 0; i < common; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? undefined : common;
}
