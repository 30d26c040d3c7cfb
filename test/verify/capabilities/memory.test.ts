// Memory reads back exactly what was written, whatever the alignment: on constants the terms fold,
// so the expected words are plain numbers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readWord, type MemoryWrite } from "../../../src/verify/capabilities/memory.ts";
import { Terms } from "../../../src/verify/capabilities/terms.ts";

const word = (hex: string) => BigInt(`0x${hex}`);

describe("symbolic memory", () => {
  const t = new Terms();
  const a = word("11".repeat(32));
  const b = word("22".repeat(32));

  it("reads an aligned write as its own term, and unwritten memory as zero", () => {
    const x = t.variable("x");
    assert.equal(readWord(t, [{ offset: 64, size: 32, value: x }], 64), x);
    assert.equal(readWord(t, [], 0).value, 0n);
  });

  it("composes unaligned and partial writes, the latest winning", () => {
    const memory: MemoryWrite[] = [
      { offset: 0, size: 32, value: t.constant(a) },
      { offset: 32, size: 32, value: t.constant(b) },
      { offset: 4, size: 1, value: t.constant(0xffn) },
    ];
    assert.equal(readWord(t, memory, 2).value, word(`1111ff${"11".repeat(27)}2222`));
    assert.equal(readWord(t, memory, 48).value, word(`${"22".repeat(16)}${"00".repeat(16)}`));
  });

  it("keeps a symbolic word's bytes in place when read across its boundary", () => {
    const x = t.variable("x");
    const read = readWord(t, [{ offset: 0, size: 32, value: x }], 0);
    assert.equal(read, x);
    const shifted = readWord(t, [{ offset: 4, size: 32, value: x }], 0);
    assert.notEqual(shifted.op, "const");
    assert.ok(shifted.args.some((arg) => arg.op === "shr" || arg.op === "shl"));
  });
});
