import assert from "node:assert/strict";
import { test } from "node:test";
import { bigintAsString, toJson } from "../../src/util/json.ts";

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
