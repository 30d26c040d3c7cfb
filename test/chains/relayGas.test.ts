// The relay's gas limit model against what bench:gas measured on the registry (docs/gas.md):
// every measured transaction fits, with room; it never asks more than a block can hold.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attestationGasLimit } from "../../src/chains/relayGas.ts";
import { MAX_VALIDATORS } from "../../src/consensus/validatorSet.ts";

const firstBits = (count: number) => (1n << BigInt(count)) - 1n;

/** [set size, signers, measured submitAttestation gasUsed] from docs/gas.md. */
const MEASURED: readonly [number, number, bigint][] = [
  [4, 4, 248_584n],
  [4, 3, 249_317n],
  [16, 16, 248_584n],
  [16, 11, 252_297n],
  [100, 100, 248_716n],
  [100, 67, 273_229n],
  [200, 200, 248_848n],
  [200, 134, 297_934n],
];
const GAS_PER_ABSENT_SIGNER = 745n;

describe("the relay gas limit model", () => {
  it("covers every measured transaction with at least 20% to spare", () => {
    for (const [size, signers, gasUsed] of MEASURED) {
      const limit = attestationGasLimit(firstBits(signers));
      assert.ok(limit * 10n >= gasUsed * 12n, `${signers} of ${size}: limit ${limit}, used ${gasUsed}`);
    }
  });

  it("covers the largest set at its threshold, extrapolated at the measured 745 gas per absent signer", () => {
    const signers = Math.ceil((MAX_VALIDATORS * 2) / 3);
    const extrapolated = 248_848n + GAS_PER_ABSENT_SIGNER * BigInt(MAX_VALIDATORS - signers);
    assert.ok(attestationGasLimit(firstBits(signers)) * 10n >= extrapolated * 12n);
  });

  it("counts signers wherever their bits are, and stays far below a block", () => {
    assert.equal(attestationGasLimit(0b1011n), attestationGasLimit(0b111n));
    assert.equal(attestationGasLimit(firstBits(MAX_VALIDATORS)), attestationGasLimit(firstBits(256)));
    assert.ok(attestationGasLimit(0n) < 1_000_000n);
  });
});
