// The dispatcher's function selectors, by abstract execution of the code.
import type { Hex } from "viem";
import { JUMP, JUMPDEST, JUMPI, OPCODES, PUSH0, pushSize, TERMINATORS } from "./opcodes.ts";
import { splitMetadata } from "./metadata.ts";

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
