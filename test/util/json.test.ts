import assert from "node:assert/strict";
import { test } from "node:test";
import { bigintAsString, MAX_JSON_DEPTH, parseUntrustedJson, toJson, UntrustedJsonError } from "../../src/util/json.ts";

test("toJson writes bigints, however deep, as decimal strings", () => {
  assert.deepEqual(toJson({ chainId: 31337n, blocks: [1n, 2n ** 64n], gas: { limit: 0n } }), {
    chainId: "31337",
    blocks: ["1", "18446744073709551616"],
    gas: { limit: "0" },
  });
});

test("toJson drops what JSON cannot hold instead of keeping it", () => {
  assert.deepEqual(toJson({ kept: 1, gone: undefined, fn: () => 1 }), { kept: 1 });
});

test("without bigintAsString, JSON.stringify refuses a bigint", () => {
  assert.throws(() => JSON.stringify({ n: 1n }), TypeError);
  assert.equal(JSON.stringify({ n: 1n }, bigintAsString), '{"n":"1"}');
});

const bytes = (text: string) => new TextEncoder().encode(text);
const reasonOf = (text: string | Uint8Array) => {
  try {
    parseUntrustedJson(typeof text === "string" ? bytes(text) : text);
    return "parsed";
  } catch (error) {
    assert.ok(error instanceof UntrustedJsonError);
    return error.meta.reason;
  }
};

test("parseUntrustedJson parses JSON nested up to the bound, and refuses one level more before parsing", () => {
  const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
  assert.deepEqual(parseUntrustedJson(bytes('{"a":[1,{"b":"c"}]}')), { a: [1, { b: "c" }] });
  assert.equal(reasonOf(nested(MAX_JSON_DEPTH)), "parsed");
  assert.equal(reasonOf(nested(MAX_JSON_DEPTH + 1)), "TOO_DEEP");
  assert.equal(reasonOf("{" + '"a":{'.repeat(MAX_JSON_DEPTH) + "}".repeat(MAX_JSON_DEPTH + 1)), "TOO_DEEP");
  // An unterminated run, as an attacker sends it: refused at the first level past the bound.
  assert.equal(reasonOf("[".repeat(100_000)), "TOO_DEEP");
});

test("brackets inside strings, escaped quotes and backslashes do not count as nesting", () => {
  const deepInString = JSON.stringify({ s: "[".repeat(1_000) + '\\"{{{' + "\\" });
  assert.equal(reasonOf(deepInString), "parsed");
  const escapedQuote = JSON.stringify({ s: 'a\"' + "[".repeat(100) });
  assert.equal(reasonOf(escapedQuote), "parsed");
  // A quote after an even run of backslashes ends the string: what follows nests for real.
  const afterString = '["\\\\",' + "[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH) + "]";
  assert.equal(reasonOf(afterString), "TOO_DEEP");
});

test("parseUntrustedJson names what is wrong: not UTF-8, empty, not JSON", () => {
  assert.equal(reasonOf(new Uint8Array([0x7b, 0xff, 0x7d])), "NOT_UTF8");
  assert.equal(reasonOf("  \n"), "EMPTY");
  assert.equal(reasonOf(""), "EMPTY");
  assert.equal(reasonOf('{"a":'), "NOT_JSON");
  assert.equal(reasonOf('"unterminated'), "NOT_JSON");
});
