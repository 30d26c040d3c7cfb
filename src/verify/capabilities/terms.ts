// 256-bit symbolic words: hash-consed expression trees, folded to constants whenever every operand
// is one. Hash-consing gives each distinct term one object and one id, so "the same value" is an
// identity test and a term's key is short however deep it is; ids are assigned in creation order,
// which is deterministic because the executor explores paths in a fixed order.
import { bytesToHex, hexToBytes, keccak256, numberToHex } from "viem";

export type Op =
  | "const" | "var"
  | "add" | "sub" | "mul" | "div" | "sdiv" | "mod" | "smod" | "exp" | "addmod" | "mulmod" | "signextend"
  | "lt" | "gt" | "slt" | "sgt" | "eq" | "iszero" | "and" | "or" | "xor" | "not" | "byte" | "shl" | "shr" | "sar"
  /** keccak256 over the operands' bytes; `size` is the length hashed (the last operand may be partial). */
  | "keccak";

export interface Term {
  readonly id: number;
  readonly op: Op;
  readonly args: readonly Term[];
  /** const: the value. */
  readonly value?: bigint;
  /** var: its name (caller, timestamp, calldata word, storage read...). */
  readonly name?: string;
  /** keccak: bytes hashed. */
  readonly size?: number;
  /** Whether the caller's address flows into this term. */
  readonly hasCaller: boolean;
}

export const WORD = (1n << 256n) - 1n;
const SIGN = 1n << 255n;
export const ADDRESS_MASK = (1n << 160n) - 1n;

/** One table per analysis: ids start at 0 for each, so terms of two runs compare equal when built alike. */
export class Terms {
  private readonly table = new Map<string, Term>();
  private next = 0;

  constant(value: bigint): Term {
    return this.intern("const", [], { value: value & WORD });
  }

  variable(name: string): Term {
    return this.intern("var", [], { name });
  }

  get size(): number {
    return this.next;
  }

  apply(op: Exclude<Op, "const" | "var" | "keccak">, ...args: Term[]): Term {
    if (args.every((arg) => arg.op === "const")) return this.constant(evaluate(op, args.map((arg) => arg.value!)));
    const simpler = this.simplify(op, args);
    return simpler ?? this.intern(op, args, {});
  }

  /** Hashes folded to constants, by value: a mapping entry with constant keys is still a mapping entry. */
  private readonly preimages = new Map<bigint, { args: readonly Term[]; size: number }>();

  preimage(value: bigint): { args: readonly Term[]; size: number } | undefined {
    return this.preimages.get(value);
  }

  keccak(args: Term[], size: number): Term {
    if (args.every((arg) => arg.op === "const")) {
      const bytes = new Uint8Array(args.length * 32);
      args.forEach((arg, i) => bytes.set(hexToBytes(numberToHex(arg.value!, { size: 32 })), i * 32));
      const hash = BigInt(keccak256(bytesToHex(bytes.subarray(0, size))));
      this.preimages.set(hash, { args, size });
      return this.constant(hash);
    }
    return this.intern("keccak", args, { size });
  }

  private simplify(op: Op, args: Term[]): Term | undefined {
    const [a, b] = args as [Term, Term];
    const isConst = (t: Term, v: bigint) => t.op === "const" && t.value === v;
    switch (op) {
      case "add":
        if (isConst(a, 0n)) return b;
        if (isConst(b, 0n)) return a;
        return undefined;
      case "sub":
        if (isConst(b, 0n)) return a;
        if (a === b) return this.constant(0n);
        return undefined;
      case "eq":
        if (a === b) return this.constant(1n);
        return undefined;
      case "and":
        if (isConst(a, 0n) || isConst(b, 0n)) return this.constant(0n);
        if (isConst(a, WORD)) return b;
        if (isConst(b, WORD)) return a;
        if (a === b) return a;
        // and(and(x, m), m): the ABI decoder's re-cleaning of an already clean value.
        if (a.op === "const" && b.op === "and" && b.args.includes(a)) return b;
        if (b.op === "const" && a.op === "and" && a.args.includes(b)) return a;
        return undefined;
      case "or":
        if (isConst(a, 0n)) return b;
        if (isConst(b, 0n)) return a;
        return undefined;
      case "iszero":
        // iszero(iszero(iszero(x))) = iszero(x): keeps branch conditions recognisable.
        if (a.op === "iszero" && a.args[0]!.op === "iszero") return a.args[0];
        if (a.op === "lt" || a.op === "gt" || a.op === "eq" || a.op === "slt" || a.op === "sgt") return undefined;
        return undefined;
      case "shl":
      case "shr":
        if (isConst(a, 0n)) return b;
        if (a.op === "const" && a.value! >= 256n) return this.constant(0n);
        if (a.op === "const") {
          // The dispatcher's shr(224, calldataload(0)): the selector's bytes are constant, the
          // argument bytes shifted in are shifted out again; distributing makes that visible.
          if (b.op === "or") return this.apply("or", this.apply(op, a, b.args[0]!), this.apply(op, a, b.args[1]!));
          if (b.op === op && b.args[0]!.op === "const") return this.apply(op, this.constant(a.value! + b.args[0]!.value! >= 256n ? 256n : a.value! + b.args[0]!.value!), b.args[1]!);
        }
        return undefined;
      case "mul":
        if (isConst(a, 1n)) return b;
        if (isConst(b, 1n)) return a;
        if (isConst(a, 0n) || isConst(b, 0n)) return this.constant(0n);
        return undefined;
      default:
        return undefined;
    }
  }

  private intern(op: Op, args: readonly Term[], extra: { value?: bigint; name?: string; size?: number }): Term {
    const key = `${op}:${args.map((arg) => arg.id).join(",")}:${extra.value ?? ""}:${extra.name ?? ""}:${extra.size ?? ""}`;
    let term = this.table.get(key);
    if (term === undefined) {
      const hasCaller = extra.name === "caller" || args.some((arg) => arg.hasCaller);
      term = { id: this.next++, op, args, ...extra, hasCaller };
      this.table.set(key, term);
    }
    return term;
  }
}

function signed(x: bigint): bigint {
  return x & SIGN ? x - (1n << 256n) : x;
}

/** The EVM's semantics on concrete words. */
export function evaluate(op: Op, v: bigint[]): bigint {
  const [a, b, c] = v as [bigint, bigint, bigint];
  const w = (x: bigint) => ((x % (1n << 256n)) + (1n << 256n)) % (1n << 256n);
  switch (op) {
    case "add": return w(a + b);
    case "sub": return w(a - b);
    case "mul": return w(a * b);
    case "div": return b === 0n ? 0n : a / b;
    case "sdiv": {
      if (b === 0n) return 0n;
      const q = signed(a) / signed(b);
      return w(q);
    }
    case "mod": return b === 0n ? 0n : a % b;
    case "smod": {
      if (b === 0n) return 0n;
      return w(signed(a) % signed(b));
    }
    case "exp": {
      let result = 1n;
      let base = a;
      let e = b;
      while (e > 0n) {
        if (e & 1n) result = (result * base) & WORD;
        base = (base * base) & WORD;
        e >>= 1n;
      }
      return result;
    }
    case "addmod": return c === 0n ? 0n : (a + b) % c;
    case "mulmod": return c === 0n ? 0n : (a * b) % c;
    case "signextend": {
      if (a >= 31n) return b;
      const bit = 8n * a + 7n;
      const mask = (1n << (bit + 1n)) - 1n;
      return (b >> bit) & 1n ? w(b | ~mask) : b & mask;
    }
    case "lt": return a < b ? 1n : 0n;
    case "gt": return a > b ? 1n : 0n;
    case "slt": return signed(a) < signed(b) ? 1n : 0n;
    case "sgt": return signed(a) > signed(b) ? 1n : 0n;
    case "eq": return a === b ? 1n : 0n;
    case "iszero": return a === 0n ? 1n : 0n;
    case "and": return a & b;
    case "or": return a | b;
    case "xor": return a ^ b;
    case "not": return WORD ^ a;
    case "byte": return a >= 32n ? 0n : (b >> (8n * (31n - a))) & 0xffn;
    case "shl": return a >= 256n ? 0n : (b << a) & WORD;
    case "shr": return a >= 256n ? 0n : b >> a;
    case "sar": {
      if (a >= 256n) return signed(b) < 0n ? WORD : 0n;
      return w(signed(b) >> a);
    }
    default:
      throw new Error(`no concrete semantics for ${op}`);
  }
}

/** A short, stable rendering for findings: variables by name, constants in hex. */
export function render(term: Term, depth = 4): string {
  if (term.op === "const") return term.value! < 1024n ? term.value!.toString() : `0x${term.value!.toString(16)}`;
  if (term.op === "var") return term.name!;
  if (depth === 0) return "…";
  return `${term.op}(${term.args.map((arg) => render(arg, depth - 1)).join(",")})`;
}
