// Bytes helpers shared by the analyses. Untrusted hex becomes bytes here: malformed hex is the
// one input the analyses throw on (BytecodeFormatError); odd but well-formed code never is.
import { hexToBytes, isHex, type Hex } from "viem";
import { BytecodeFormatError } from "./errors.ts";

export function toBytes(code: Uint8Array | Hex): Uint8Array {
  if (code instanceof Uint8Array) return code;
  if (!isHex(code, { strict: true }) || code.length % 2 !== 0) throw new BytecodeFormatError("code must be 0x-prefixed hex of whole bytes");
  return hexToBytes(code);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return firstDifference(a, b) === undefined;
}

/** The first offset where the two differ, counting a longer one's extra bytes; undefined if equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number | undefined {
  const common = Math.min(a.length, b.length);
  for (let i = 0; i < common; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? undefined : common;
}
