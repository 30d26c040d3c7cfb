// The symbolic executor's memory: the writes of a path in order, each at a constant offset. A
// 32-byte read takes each byte from the latest write covering it (zero if none), so partial and
// unaligned writes (ABI encoding after a 4-byte selector, MSTORE8) read back exactly; a read that
// one aligned write covers is that write's term itself, which keeps mapping keys recognisable.
import type { Term, Terms } from "./terms.ts";

export interface MemoryWrite {
  offset: number;
  size: number;
  /** Right-aligned: the low `size` bytes are written. */
  value: Term;
}

export function readWord(t: Terms, memory: readonly MemoryWrite[], offset: number): Term {
  let result: Term = t.constant(0n);
  let byte = 0;
  while (byte < 32) {
    const at = offset + byte;
    const found = latest(memory, at);
    if (found < 0) {
      byte++;
      continue;
    }
    const w = memory[found]!;
    let run = 1;
    while (byte + run < 32 && offset + byte + run < w.offset + w.size && latest(memory, offset + byte + run) === found) run++;
    // Bytes [at - w.offset, +run) of the write's `size` bytes, placed at [byte, +run) of the word.
    const fromLow = w.size - (at - w.offset) - run;
    let piece = t.apply("shr", t.constant(BigInt(8 * fromLow)), w.value);
    if (run < 32) piece = t.apply("and", piece, t.constant((1n << BigInt(8 * run)) - 1n));
    piece = t.apply("shl", t.constant(BigInt(8 * (32 - byte - run))), piece);
    result = t.apply("or", result, piece);
    byte += run;
  }
  return result;
}

function latest(memory: readonly MemoryWrite[], at: number): number {
  for (let i = memory.length - 1; i >= 0; i--) {
    const w = memory[i]!;
    if (at >= w.offset && at < w.offset + w.size) return i;
  }
  return -1;
}
