// Hostile bytecode: the code under analysis is the proposer's. Loops, computed jumps, stack
// underflows, huge copies and memory scribbled at computed offsets end in a bounded time, each as
// "unknown" naming its bound or as a revert, never as a crash or a silent pass; and a hand-written
// backdoor (an owner-slot write gated on one caller) is found with its caller.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyseFunction, compare, DEFAULT_ANALYSIS, SLOTS, type ImplementationUnderTest } from "../../../src/verify/capabilities/index.ts";
import { pinnedState } from "./caseAnalysis.ts";

/** Raw code run as f(uint256): its one argument word is symbolic calldata at offset 4. */
const raw = (code: string): ImplementationUnderTest => ({ code: `0x${code.replace(/\s+/g, "")}`, address: 0x1234n, functions: { "f(uint256)": "b3de648b" } });
const F = "f(uint256)";
const slotHex = SLOTS.ownable.toString(16).padStart(64, "0");

describe("symbolic executor on hostile code", { timeout: 120_000 }, () => {
  const cases: [string, string, string][] = [
    ["an endless concrete loop", "5b 6000 56", "step budget"],
    ["a loop on a fresh symbolic condition each time round", "5b 5a 6000 57 00", "loop unrolling (3 iterations)"],
    ["a jump to a calldata-chosen destination", "6004 35 56", "a computed jump"],
    ["a mapping write after memory written at a computed offset", "6001 6004 35 52 6040 6000 20 6001 90 55 00", "memory written at a computed offset"],
  ];
  for (const [what, code, bound] of cases) {
    it(`${what}: unknown, naming the bound`, async () => {
      const started = performance.now();
      const result = await analyseFunction(raw(code), F, pinnedState());
      assert.ok(result.incomplete?.includes(bound), `${what}: ${result.incomplete}`);
      assert.ok(performance.now() - started < 30_000);
    });
  }

  it("a loop only the owner can enter is no unknown: outsiders never reach the bound", async () => {
    const owner = pinnedState().authorities[0]!.toString(16).padStart(40, "0");
    // CALLER PUSH20 owner EQ ISZERO PUSH1 0x21 JUMPI | loop: JUMPDEST GAS PUSH1 0x1b JUMPI STOP | JUMPDEST STOP
    const ownerLoop = raw(`33 73${owner} 14 15 6021 57 5b 5a 601b 57 00 5b 00`);
    assert.equal((await analyseFunction(ownerLoop, F, pinnedState())).incomplete, undefined);
    const openLoop = raw(`5b 5a 6000 57 00`);
    assert.ok((await analyseFunction(openLoop, F, pinnedState())).incomplete?.includes("loop unrolling"));
  });

  it("a stack underflow, an invalid jump and a huge copy end the path without a crash", async () => {
    for (const code of ["01", "6003 56 00", "6300400000 6000 6000 39 00", "6300400000 6000 6000 6000 6000 33 5a f1 00"]) {
      const result = await analyseFunction(raw(code), F, pinnedState());
      assert.equal(result.incomplete, undefined, code);
    }
  });

  it("finds an owner-slot write gated on one hard-coded caller, against code that had none", async () => {
    // CALLER PUSH2 0xbeef EQ PUSH1 10 JUMPI STOP STOP JUMPDEST PUSH1 1 PUSH32 <Ownable slot> SSTORE STOP
    const backdoor = raw(`33 61beef 14 600a 57 00 00 5b 6001 7f${slotHex} 55 00`);
    const findings = await compare(raw("00"), backdoor, pinnedState(), DEFAULT_ANALYSIS);
    assert.deepEqual(
      findings.map((f) => [f.code, f.evidence]),
      [["CAPABILITY_GAINED", { function: F, effect: "authority-write", caller: "0x000000000000000000000000000000000000bEEF", when: "now" }]],
    );
  });

  it("the same write behind the pinned owner is no capability", async () => {
    const owner = pinnedState().authorities[0]!.toString(16).padStart(40, "0");
    const gated = raw(`33 73${owner} 14 601d 57 00 00 00 5b 6001 7f${slotHex} 55 00`);
    const result = await analyseFunction(gated, F, pinnedState());
    assert.deepEqual(result.reach, { "authority-write": { status: "none" } });
  });
});
