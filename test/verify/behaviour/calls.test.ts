// Policy probes as calls: encoded once from the policy's ABI and string arguments, and a probe that
// cannot be encoded reported as the policy's problem instead of failing the check.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeFunctionData, getAddress, parseAbi } from "viem";
import { probeCalls } from "../../../src/verify/behaviour/calls.ts";

const ALICE = getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
const BOB = getAddress("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
const TRANSFER = "function transfer(address to, uint256 amount)";

describe("probeCalls", () => {
  it("encodes each probe as the call a wallet would make, with its selector, signature and repetitions", () => {
    const { calls, problems } = probeCalls([
      { name: "pay", from: ALICE, function: TRANSFER, args: [BOB, "1000"], repeat: 3 },
      { name: "deposit", from: BOB, function: "function deposit() payable", args: [], value: "5" },
    ]);
    assert.deepEqual(problems, []);
    assert.equal(calls[0]!.data, encodeFunctionData({ abi: parseAbi([TRANSFER]), functionName: "transfer", args: [BOB, 1000n] }).toLowerCase());
    assert.deepEqual([calls[0]!.selector, calls[0]!.signature, calls[0]!.repeat, calls[0]!.kind, calls[0]!.value], ["0xa9059cbb", "transfer(address,uint256)", 3, "probe", "0"]);
    assert.deepEqual([calls[1]!.signature, calls[1]!.repeat, calls[1]!.value], ["deposit()", 1, "5"]);
  });

  it("reports a probe whose arguments do not fit its function, and still makes the others", () => {
    const { calls, problems } = probeCalls([
      { name: "short", from: ALICE, function: TRANSFER, args: [BOB] },
      { name: "not-a-number", from: ALICE, function: TRANSFER, args: [BOB, "lots"] },
      { name: "not-an-address", from: ALICE, function: TRANSFER, args: ["bob", "1"] },
      { name: "fine", from: ALICE, function: TRANSFER, args: [BOB, "1"] },
    ]);
    assert.deepEqual(problems.map((p) => p.probe), ["short", "not-a-number", "not-an-address"]);
    assert.match(problems[0]!.problem, /takes 2 arguments, 1 given/);
    assert.deepEqual(calls.map((c) => c.label), ["fine"]);
  });
});
