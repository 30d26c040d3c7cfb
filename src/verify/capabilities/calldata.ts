// The calldata of one symbolic call, from the function's signature: each static argument word a
// variable (addresses and short integers already clean, as any real call's are), each dynamic
// argument (bytes, string, arrays) an empty one at a concrete offset. Empty dynamic arguments
// keep every offset and length concrete, so memory stays concrete and ABI-decoding loops do not
// run; the price: a gate that depends on a dynamic argument's contents is not explored (named in
// docs/verification.md).
import { ADDRESS_MASK, type Term, type Terms } from "./terms.ts";

/** Zero words after each dynamic argument's length: room for a decoder that reads a little past it. */
const TAIL_WORDS = 4;

export function calldataWords(signature: string, terms: Terms): Term[] {
  const open = signature.indexOf("(");
  const params = splitTypes(signature.slice(open + 1, -1));
  const heads: Term[] = [];
  const dynamic: number[] = [];
  for (const [i, type] of params.entries()) {
    if (isDynamic(type)) {
      dynamic.push(heads.length);
      heads.push(terms.constant(0n)); // patched below, once the head's length is known
      continue;
    }
    const words = staticWords(type);
    for (let w = 0; w < words; w++) {
      const variable = terms.variable(words === 1 ? `cd${i}` : `cd${i}.${w}`);
      heads.push(words === 1 ? clean(type, variable, terms) : variable);
    }
  }
  const tails: Term[] = [];
  for (const [n, at] of dynamic.entries()) {
    heads[at] = terms.constant(BigInt(32 * (heads.length + n * TAIL_WORDS)));
    for (let w = 0; w < TAIL_WORDS; w++) tails.push(terms.constant(0n));
  }
  return [...heads, ...tails];
}

function clean(type: string, variable: Term, terms: Terms): Term {
  if (type === "address") return terms.apply("and", variable, terms.constant(ADDRESS_MASK));
  if (type === "bool") return terms.apply("and", variable, terms.constant(1n));
  const uint = /^uint(\d+)$/.exec(type);
  if (uint && uint[1] !== "256") return terms.apply("and", variable, terms.constant((1n << BigInt(uint[1]!)) - 1n));
  const bytes = /^bytes(\d+)$/.exec(type);
  if (bytes && bytes[1] !== "32") return terms.apply("and", variable, terms.constant(((1n << BigInt(8 * Number(bytes[1]!))) - 1n) << BigInt(256 - 8 * Number(bytes[1]!))));
  return variable;
}

export function splitTypes(list: string): string[] {
  const types: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      types.push(list.slice(start, i));
      start = i + 1;
    }
  }
  if (list.length > 0) types.push(list.slice(start));
  return types;
}

function isDynamic(type: string): boolean {
  if (type === "bytes" || type === "string" || type.endsWith("[]")) return true;
  const fixed = /^(.*)\[(\d+)\]$/.exec(type);
  if (fixed) return isDynamic(fixed[1]!);
  if (type.startsWith("(")) return splitTypes(type.slice(1, -1)).some(isDynamic);
  return false;
}

function staticWords(type: string): number {
  const fixed = /^(.*)\[(\d+)\]$/.exec(type);
  if (fixed) return Number(fixed[2]) * staticWords(fixed[1]!);
  if (type.startsWith("(")) return splitTypes(type.slice(1, -1)).reduce((sum, part) => sum + staticWords(part), 0);
  return 1;
}
