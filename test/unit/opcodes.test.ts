import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findForbiddenOpcodes, stripMetadata } from "../../src/verify/opcodes.ts";

describe("forbidden opcode scan", () => {
  it("finds SELFDESTRUCT and CALLCODE as instructions", () => {
    assert.deepEqual(findForbiddenOpcodes("0x6000ff00f2"), [
      { name: "SELFDESTRUCT", pc: 2 },
      { name: "CALLCODE", pc: 4 },
    ]);
  });
  it("ignores the same bytes inside PUSH data", () => {
    assert.deepEqual(findForbiddenOpcodes("0x60ff61f2ff7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00"), []);
  });
  it("ignores the CBOR metadata tail", () => {
    // code: STOP; metadata: a1 (map of 1) 00 ff ff; length 0x0004
    const code = "0x00a100ffff0004";
    assert.deepEqual(findForbiddenOpcodes(code), []);
    assert.equal(stripMetadata(Buffer.from("00a100ffff0004", "hex")).length, 1);
  });
  it("keeps code that has no metadata", () => {
    assert.deepEqual(findForbiddenOpcodes("0xff"), [{ name: "SELFDESTRUCT", pc: 0 }]);
  });
});
