import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keccak256, numberToHex, stringToHex, type Hex } from "viem";
import { RelayOrderError, relayDelayMs, relayOrder, relayRank } from "../../src/consensus/relayOrder.ts";

const candidate = (i: number): Hex => keccak256(stringToHex(`candidate-${i}`));

describe("relayOrder", () => {
  it("ranks a set as a permutation: every rank 0..n-1 exactly once", () => {
    for (const setSize of [1, 2, 4, 7, 100, 218]) {
      const ranks = Array.from({ length: setSize }, (_, index) => relayRank(candidate(setSize), index, setSize));
      assert.deepEqual([...ranks].sort((a, b) => a - b), Array.from({ length: setSize }, (_, i) => i), `n = ${setSize}`);
    }
  });

  it("agrees with relayOrder: the validator at position r has rank r", () => {
    const order = relayOrder(candidate(1), 10);
    order.forEach((index, rank) => assert.equal(relayRank(candidate(1), index, 10), rank));
  });

  it("is deterministic: the same candidate gives the same order on every call", () => {
    assert.deepEqual(relayOrder(candidate(2), 16), relayOrder(candidate(2), 16));
    // Hex case does not matter: a node may hold the id checksummed or upper-cased.
    assert.deepEqual(relayOrder(candidate(2).toUpperCase().replace("0X", "0x") as Hex, 16), relayOrder(candidate(2), 16));
  });

  it("hands out an order no caller can change for the next one (it is computed once)", () => {
    const order = relayOrder(candidate(4), 8);
    assert.throws(() => (order as number[]).reverse(), TypeError);
    assert.deepEqual(relayOrder(candidate(4), 8), order);
    assert.notDeepEqual(relayOrder(candidate(4), 9), order, "another set size, another order");
  });

  it("is keccak256(candidateId ‖ uint32be(index)) ascending", () => {
    const id = candidate(3);
    const scores = Array.from({ length: 5 }, (_, i) => ({ i, s: BigInt(keccak256(`${id}${numberToHex(i, { size: 4 }).slice(2)}` as Hex)) }));
    scores.sort((a, b) => (a.s < b.s ? -1 : 1));
    assert.deepEqual(relayOrder(id, 5), scores.map((entry) => entry.i));
  });

  it("gives different candidates different primaries, roughly uniformly", () => {
    const setSize = 7;
    const trials = 7_000;
    const primaries = new Array<number>(setSize).fill(0);
    for (let i = 0; i < trials; i++) primaries[relayOrder(candidate(i), setSize)[0]!]!++;
    // Expected 1000 each; the ids are fixed, so this is not a flaky statistical test.
    for (const count of primaries) assert.ok(count > 850 && count < 1150, `primary counts ${primaries.join(", ")}`);
    const distinctOrders = new Set(Array.from({ length: 50 }, (_, i) => relayOrder(candidate(i), setSize).join(",")));
    assert.ok(distinctOrders.size >= 45, "orders vary with the candidate");
  });

  it("refuses an index outside the set, a bad set size and a malformed candidate id", () => {
    assert.throws(() => relayRank(candidate(0), 4, 4), RelayOrderError);
    assert.throws(() => relayRank(candidate(0), -1, 4), RelayOrderError);
    assert.throws(() => relayRank(candidate(0), 0.5, 4), RelayOrderError);
    assert.throws(() => relayOrder(candidate(0), 0), RelayOrderError);
    assert.throws(() => relayOrder(candidate(0), 219), RelayOrderError);
    assert.throws(() => relayOrder("0x1234", 4), RelayOrderError);
  });
});

describe("relayDelayMs", () => {
  it("is rank * step, so rank 0 relays at once", () => {
    assert.equal(relayDelayMs(0, 5_000), 0);
    assert.equal(relayDelayMs(3, 5_000), 15_000);
  });

  it("refuses negative or fractional ranks and negative steps", () => {
    assert.throws(() => relayDelayMs(-1, 10), RelayOrderError);
    assert.throws(() => relayDelayMs(1.5, 10), RelayOrderError);
    assert.throws(() => relayDelayMs(1, -10), RelayOrderError);
  });
});
