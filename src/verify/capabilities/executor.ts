// A small symbolic EVM: one external call of an implementation as it runs behind its proxy (the
// proxy's address and storage, the implementation's code), explored path by path in a fixed
// order. The caller, calldata words, timestamp, block number, call results and storage words at
// slots that are not constants are symbolic; storage at constant slots is read from the pinned
// state, so gates like `msg.sender == owner` become `caller = 0x…owner`. Each path that ends in
// STOP or RETURN yields its effects (storage writes, calls, self-destructs) with the branch
// conditions that lead there; reverting paths yield nothing, since what they did is undone.
//
// Bounded three ways, each a named bound: paths per call, steps per call, and how often one
// path may take a symbolic branch at the same instruction (loop unrolling). A bound hit never
// drops a path silently: the call's result says which bound, and the caller reports "unknown".
import { OPCODES } from "../bytecode/opcodes.ts";
import { readWord, type MemoryWrite } from "./memory.ts";
import { ADDRESS_MASK, WORD, type Term, type Terms } from "./terms.ts";

export interface Bounds {
  paths: number;
  steps: number;
  unroll: number;
}

export const DEFAULT_BOUNDS: Bounds = { paths: 400, steps: 200_000, unroll: 3 };

/** A branch condition taken: `term ≠ 0` when `holds`, `term = 0` otherwise. */
export interface Condition {
  term: Term;
  holds: boolean;
}

export type Effect =
  /** opaque: the slot was hashed from memory written at a computed offset, so it may be any slot. */
  | { kind: "sstore"; pc: number; slot: Term; value: Term; previous: Term; opaque?: boolean }
  | { kind: "call"; pc: number; opcode: "CALL" | "CALLCODE" | "DELEGATECALL"; target: Term; value: Term }
  | { kind: "selfdestruct"; pc: number; beneficiary: Term };

export interface PathResult {
  conditions: Condition[];
  effects: Effect[];
}

export interface CallResult {
  paths: PathResult[];
  /**
   * Paths cut short at a bound, with the conditions that led there: what they would have done is
   * unknown. Whether that matters is the analysis's question (can an outsider get there?).
   */
  cut: CutPath[];
  /** Symbolic storage reads: the variable and the slot it was read from. */
  reads: Map<Term, Term>;
}

export type Bound = "paths" | "steps" | "unroll" | "jump" | "memory";

export interface CutPath {
  conditions: Condition[];
  bound: Bound;
}

export interface CallEnvironment {
  terms: Terms;
  code: Uint8Array;
  /** The calldata: 4 selector bytes, then words (concrete or symbolic). */
  selector: number;
  words: Term[];
  /** The proxy's address: ADDRESS and the storage read. */
  address: bigint;
  chainId: bigint;
  /** Storage at a constant slot, as the call would find it (the pinned state with the upgrade applied). */
  storage(slot: bigint): Promise<bigint>;
  /** Constant slots read as variables instead (`storage@<hex slot>`): values no authority fixes, like the total supply. */
  symbolicSlots?: ReadonlySet<bigint>;
  bounds: Bounds;
}

interface State {
  pc: number;
  stack: Term[];
  memory: MemoryWrite[];
  /** A write at a symbolic offset happened: every later read is unknown (a fresh variable). */
  memoryHavoc: boolean;
  storage: Map<Term, Term>;
  transient: Map<Term, Term>;
  conditions: Condition[];
  effects: Effect[];
  branchVisits: Map<number, number>;
  returnSize: Term;
  returnTag: string;
  fresh: number;
  steps: number;
}

/** Instructions: the opcode at each offset and PUSH immediates; valid jump destinations. */
interface Program {
  code: Uint8Array;
  jumpdests: Set<number>;
}

function program(code: Uint8Array): Program {
  const jumpdests = new Set<number>();
  for (let pc = 0; pc < code.length; pc++) {
    const op = code[pc]!;
    if (op === 0x5b) jumpdests.add(pc);
    if (op >= 0x60 && op <= 0x7f) pc += op - 0x5f;
  }
  return { code, jumpdests };
}

const MAX_MEMORY = 1 << 22;
/** Copies larger than this many bytes, and paths with more memory writes than MAX_WRITES, make memory unknown (fresh variables): sound, and bounded in work. */
const MAX_COPY = 32 * 64;
const MAX_WRITES = 2_048;

export async function exploreCall(env: CallEnvironment): Promise<CallResult> {
  const { terms: t } = env;
  const prog = program(env.code);
  const reads = new Map<Term, Term>();
  const pinned = new Map<bigint, Term>();
  const results: PathResult[] = [];
  const cut: CutPath[] = [];
  const stop = (s: State, bound: Bound) => cut.push({ conditions: s.conditions, bound });
  let totalSteps = 0;
  let pathsStarted = 1;
  const zero = t.constant(0n);
  const calldataSize = 4 + 32 * env.words.length;
  const initial: State = {
    pc: 0, stack: [], memory: [], memoryHavoc: false, storage: new Map(), transient: new Map(), conditions: [], effects: [],
    branchVisits: new Map(), returnSize: zero, returnTag: "none", fresh: 0, steps: 0,
  };
  const work: State[] = [initial];

  const word = (index: number): Term => (index >= 0 && index < env.words.length ? env.words[index]! : zero);
  const calldataLoad = (offset: Term, s: State): Term => {
    if (offset.op !== "const") return t.variable(`calldata[${offset.id}]`);
    const off = Number(offset.value! > BigInt(calldataSize) ? BigInt(calldataSize) : offset.value!);
    if (off >= calldataSize) return zero;
    if (off === 0) return t.apply("or", t.constant(BigInt(env.selector) << 224n), t.apply("shr", t.constant(32n), word(0)));
    const rel = off - 4;
    if (rel < 0) return t.variable(`calldata@${off}#${s.fresh++}`);
    const index = Math.floor(rel / 32);
    const shift = rel % 32;
    if (shift === 0) return word(index);
    return t.apply("or", t.apply("shl", t.constant(BigInt(8 * shift)), word(index)), t.apply("shr", t.constant(BigInt(8 * (32 - shift))), word(index + 1)));
  };
  const mload = (s: State, offset: number): Term =>
    s.memoryHavoc ? t.variable(`memory@${offset}#${s.fresh++}`) : readWord(t, s.memory, offset);
  const sload = async (s: State, slot: Term): Promise<Term> => {
    const written = s.storage.get(slot);
    if (written) return written;
    if (slot.op === "const" && env.symbolicSlots?.has(slot.value!)) {
      const variable = t.variable(`storage@${slot.value!.toString(16)}`);
      reads.set(variable, slot);
      return variable;
    }
    if (slot.op === "const") {
      let value = pinned.get(slot.value!);
      if (value === undefined) {
        value = t.constant(await env.storage(slot.value!));
        pinned.set(slot.value!, value);
      }
      return value;
    }
    const variable = t.variable(`storage[${slot.id}]`);
    reads.set(variable, slot);
    return variable;
  };
  const concrete = (term: Term): number | undefined =>
    term.op === "const" && term.value! <= BigInt(MAX_MEMORY) ? Number(term.value!) : undefined;

  while (work.length > 0) {
    const s = work.pop()!;
    let done = false;
    while (!done) {
      if (++s.steps > env.bounds.steps || ++totalSteps > env.bounds.steps) {
        stop(s, "steps");
        // The budget is spent for every path still waiting too.
        if (totalSteps > env.bounds.steps) while (work.length > 0) stop(work.pop()!, "steps");
        break;
      }
      const op = prog.code[s.pc];
      if (op === undefined) {
        // Past the end: an implicit STOP.
        results.push({ conditions: s.conditions, effects: s.effects });
        break;
      }
      const info = OPCODES[op];
      if (info === undefined || op === 0xfe) break; // INVALID or undefined: reverts.
      if (s.stack.length < info.inputs) break;
      const pop = (): Term => s.stack.pop()!;
      const push = (term: Term) => s.stack.push(term);
      let next = s.pc + 1;
      if (op >= 0x60 && op <= 0x7f) {
        const n = op - 0x5f;
        let value = 0n;
        for (let i = 1; i <= n; i++) value = (value << 8n) | BigInt(prog.code[s.pc + i] ?? 0);
        push(t.constant(value));
        next = s.pc + 1 + n;
      } else if (op >= 0x80 && op <= 0x8f) {
        push(s.stack[s.stack.length - 1 - (op - 0x80)]!);
      } else if (op >= 0x90 && op <= 0x9f) {
        const n = op - 0x8f;
        const top = s.stack.length - 1;
        [s.stack[top], s.stack[top - n]] = [s.stack[top - n]!, s.stack[top]!];
      } else {
        switch (info.name) {
          case "STOP":
            results.push({ conditions: s.conditions, effects: s.effects });
            done = true;
            break;
          case "RETURN":
            results.push({ conditions: s.conditions, effects: s.effects });
            done = true;
            break;
          case "REVERT":
            done = true;
            break;
          case "SELFDESTRUCT":
            s.effects.push({ kind: "selfdestruct", pc: s.pc, beneficiary: pop() });
            results.push({ conditions: s.conditions, effects: s.effects });
            done = true;
            break;
          case "ADD": case "MUL": case "SUB": case "DIV": case "SDIV": case "MOD": case "SMOD": case "EXP": case "SIGNEXTEND":
          case "LT": case "GT": case "SLT": case "SGT": case "EQ": case "AND": case "OR": case "XOR": case "BYTE": case "SHL": case "SHR": case "SAR": {
            const a = pop();
            const b = pop();
            push(t.apply(info.name.toLowerCase() as "add", a, b));
            break;
          }
          case "ADDMOD": case "MULMOD": {
            const a = pop();
            const b = pop();
            const c = pop();
            push(t.apply(info.name.toLowerCase() as "addmod", a, b, c));
            break;
          }
          case "ISZERO": push(t.apply("iszero", pop())); break;
          case "NOT": push(t.apply("not", pop())); break;
          case "CLZ": pop(); push(t.variable(`clz#${s.fresh++}`)); break;
          case "KECCAK256": {
            const offset = concrete(pop());
            const size = concrete(pop());
            if (offset === undefined || size === undefined || size > MAX_COPY) {
              push(t.variable(`keccak#${s.pc}#${s.fresh++}`));
              break;
            }
            const chunks: Term[] = [];
            for (let at = 0; at < size; at += 32) chunks.push(mload(s, offset + at));
            // A partial last chunk hashes only its high bytes; zero the rest so equal inputs are equal terms.
            if (size % 32 !== 0) {
              const keep = size % 32;
              const last = chunks.length - 1;
              chunks[last] = t.apply("and", chunks[last]!, t.constant(WORD ^ ((1n << BigInt(8 * (32 - keep))) - 1n)));
            }
            push(t.keccak(chunks, size));
            break;
          }
          case "ADDRESS": push(t.constant(env.address)); break;
          case "CALLER": push(t.variable("caller")); break;
          case "ORIGIN": push(t.variable("origin")); break;
          // An outsider sends no value: a capability that needs none is the one to find.
          case "CALLVALUE": push(zero); break;
          case "CALLDATALOAD": push(calldataLoad(pop(), s)); break;
          case "CALLDATASIZE": push(t.constant(BigInt(calldataSize))); break;
          case "CALLDATACOPY": {
            const dest = concrete(pop());
            const offset = pop();
            const size = concrete(pop());
            if (dest === undefined || size === undefined || size > MAX_COPY) {
              s.memoryHavoc = true;
              break;
            }
            for (let at = 0; at < size; at += 32) {
              const chunk = Math.min(32, size - at);
              const full = calldataLoad(offset.op === "const" ? t.constant(offset.value! + BigInt(at)) : t.variable(`calldata[${offset.id}+${at}]`), s);
              s.memory.push({ offset: dest + at, size: chunk, value: chunk === 32 ? full : t.apply("shr", t.constant(BigInt(8 * (32 - chunk))), full) });
            }
            break;
          }
          case "CODESIZE": push(t.constant(BigInt(prog.code.length))); break;
          case "CODECOPY": {
            const dest = concrete(pop());
            const offset = concrete(pop());
            const size = concrete(pop());
            if (dest === undefined || offset === undefined || size === undefined || size > MAX_COPY) {
              s.memoryHavoc = true;
              break;
            }
            for (let at = 0; at < size; at += 32) {
              const chunk = Math.min(32, size - at);
              let value = 0n;
              for (let i = 0; i < chunk; i++) value = (value << 8n) | BigInt(prog.code[offset + at + i] ?? 0);
              s.memory.push({ offset: dest + at, size: chunk, value: t.constant(value) });
            }
            break;
          }
          case "RETURNDATASIZE": push(s.returnSize); break;
          case "RETURNDATACOPY": case "EXTCODECOPY": case "MCOPY": {
            if (info.name === "EXTCODECOPY") pop();
            const dest = concrete(pop());
            const source = pop();
            const size = concrete(pop());
            if (dest === undefined || size === undefined || size > MAX_COPY) {
              s.memoryHavoc = true;
              break;
            }
            const sourceAt = concrete(source);
            for (let at = 0; at < size; at += 32) {
              const chunk = Math.min(32, size - at);
              const full = info.name === "MCOPY" && sourceAt !== undefined ? mload(s, sourceAt + at) : t.variable(`${info.name.toLowerCase()}:${s.returnTag}@${source.id}+${at}#${s.fresh++}`);
              s.memory.push({ offset: dest + at, size: chunk, value: chunk === 32 ? full : t.apply("shr", t.constant(BigInt(8 * (32 - chunk))), full) });
            }
            break;
          }
          case "EXTCODESIZE": {
            // The proxy runs this code, so it has code (OZ's initializer tells construction apart by it).
            const account = pop();
            push(account.op === "const" && account.value === env.address ? t.constant(BigInt(prog.code.length)) : t.variable(`extcodesize(${account.id})`));
            break;
          }
          case "BALANCE": case "EXTCODEHASH": case "BLOCKHASH": case "BLOBHASH":
            push(t.variable(`${info.name.toLowerCase()}(${pop().id})`));
            break;
          case "TIMESTAMP": push(t.variable("timestamp")); break;
          case "NUMBER": push(t.variable("number")); break;
          case "CHAINID": push(t.constant(env.chainId)); break;
          case "GASPRICE": case "COINBASE": case "PREVRANDAO": case "GASLIMIT": case "SELFBALANCE": case "BASEFEE": case "BLOBBASEFEE":
            push(t.variable(info.name.toLowerCase()));
            break;
          case "GAS": push(t.variable(`gas#${s.fresh++}`)); break;
          case "PC": push(t.constant(BigInt(s.pc))); break;
          case "MSIZE": push(t.variable(`msize#${s.fresh++}`)); break;
          case "POP": pop(); break;
          case "MLOAD": {
            const offset = concrete(pop());
            push(offset === undefined ? t.variable(`memory#${s.fresh++}`) : mload(s, offset));
            break;
          }
          case "MSTORE": case "MSTORE8": {
            const offset = concrete(pop());
            const value = pop();
            if (offset === undefined) s.memoryHavoc = true;
            else if (info.name === "MSTORE") s.memory.push({ offset, size: 32, value });
            else s.memory.push({ offset, size: 1, value: t.apply("and", value, t.constant(0xffn)) });
            break;
          }
          case "SLOAD": push(await sload(s, pop())); break;
          case "SSTORE": {
            const slot = pop();
            const value = pop();
            // After a write at a computed offset, a mapping key hashed from memory is unknown: this
            // write may be to any slot, so what the path does cannot be classified.
            const opaque = s.memoryHavoc && slot.op !== "const";
            const previous = await sload(s, slot);
            s.effects.push({ kind: "sstore", pc: s.pc, slot, value, previous, ...(opaque ? { opaque } : {}) });
            s.storage.set(slot, value);
            break;
          }
          case "TLOAD": {
            const slot = pop();
            push(s.transient.get(slot) ?? (slot.op === "const" ? zero : t.variable(`transient[${slot.id}]`)));
            break;
          }
          case "TSTORE": {
            const slot = pop();
            s.transient.set(slot, pop());
            break;
          }
          case "JUMPDEST": break;
          case "PUSH0": push(zero); break;
          case "JUMP": case "JUMPI": {
            const target = pop();
            const condition = info.name === "JUMPI" ? pop() : t.constant(1n);
            const dest = target.op === "const" && prog.jumpdests.has(Number(target.value!)) ? Number(target.value!) : undefined;
            const decided = decide(condition, s.conditions);
            if (decided === false) break;
            if (target.op !== "const") {
              stop(s, "jump");
              done = true;
              break;
            }
            if (decided === true) {
              if (dest === undefined) done = true; // an invalid jump reverts
              else next = dest;
              break;
            }
            const visits = (s.branchVisits.get(s.pc) ?? 0) + 1;
            if (visits > env.bounds.unroll) {
              stop(s, "unroll");
              done = true;
              break;
            }
            if (pathsStarted >= env.bounds.paths) {
              stop(s, "paths");
              done = true;
              break;
            }
            pathsStarted++;
            s.branchVisits.set(s.pc, visits);
            // The fall-through continues here; the jump is explored later, from a copy.
            if (dest !== undefined) {
              const taken = fork(s);
              taken.pc = dest;
              taken.conditions.push({ term: condition, holds: true });
              work.push(taken);
            }
            s.conditions.push({ term: condition, holds: false });
            break;
          }
          case "LOG0": case "LOG1": case "LOG2": case "LOG3": case "LOG4":
            for (let i = 0; i < info.inputs; i++) pop();
            break;
          case "CALL": case "CALLCODE": case "DELEGATECALL": case "STATICCALL": {
            pop(); // gas
            const target = pop();
            const value = info.name === "CALL" || info.name === "CALLCODE" ? pop() : zero;
            pop(); pop(); // input
            const outOffset = concrete(pop());
            const outSize = concrete(pop());
            if (info.name !== "STATICCALL") s.effects.push({ kind: "call", pc: s.pc, opcode: info.name as "CALL", target: t.apply("and", target, t.constant(ADDRESS_MASK)), value });
            const tag = `${s.pc}#${s.fresh++}`;
            s.returnTag = tag;
            s.returnSize = t.variable(`returnsize:${tag}`);
            if (outOffset === undefined || outSize === undefined || outSize > MAX_COPY) s.memoryHavoc = true;
            else for (let at = 0; at < outSize; at += 32) s.memory.push({ offset: outOffset + at, size: Math.min(32, outSize - at), value: t.variable(`return:${tag}@${at}`) });
            push(t.variable(`success:${tag}`));
            break;
          }
          case "CREATE": case "CREATE2": {
            for (let i = 0; i < info.inputs; i++) pop();
            push(t.variable(`created#${s.fresh++}`));
            break;
          }
          default:
            // An opcode this executor does not model: stop here, and say so.
            stop(s, "jump");
            done = true;
        }
      }
      if (s.memory.length > MAX_WRITES) {
        s.memory = [];
        s.memoryHavoc = true;
      }
      if (!done) s.pc = next;
    }
  }
  return { paths: results, cut, reads };
}

/** A condition already decided on this path (the same term asserted before), or by its value. */
function decide(condition: Term, known: readonly Condition[]): boolean | undefined {
  if (condition.op === "const") return condition.value! !== 0n;
  for (const c of known) {
    if (c.term === condition) return c.holds;
    if (condition.op === "iszero" && condition.args[0] === c.term) return !c.holds;
    if (c.term.op === "iszero" && c.term.args[0] === condition) return !c.holds;
  }
  return undefined;
}

function fork(s: State): State {
  return {
    ...s,
    stack: [...s.stack],
    memory: [...s.memory],
    storage: new Map(s.storage),
    transient: new Map(s.transient),
    conditions: [...s.conditions],
    effects: [...s.effects],
    branchVisits: new Map(s.branchVisits),
  };
}
