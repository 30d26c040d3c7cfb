// The behaviour check's comparison (pure logic, synthetic reports): what differs between two
// effects, and which reason each kind of difference gets: a change at the upgrade is
// BEHAVIOUR_CHANGED, one that shows only later (time, blocks, the k-th call, an invariant) is
// LATENT_TRIGGER, a change the policy declares is nothing, a probe that cannot be made is the policy's.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getAddress, type Hex } from "viem";
import { behaviourFindings, firstDifference, type BehaviourCall, type BehaviourReport, type Effect, type StepOutcome } from "../../../src/verify/behaviour/index.ts";

const PROXY = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const ALICE = getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
const TRANSFER = "0xa9059cbb" as Hex;
const TOPIC = `0x${"dd".repeat(32)}` as Hex;

function effect(overrides: Partial<Effect> = {}): Effect {
  return { status: "success", output: `0x${"00".repeat(31)}01`, logs: [{ address: PROXY.toLowerCase() as Hex, topics: [TOPIC], data: "0x01" }], storage: [["0xaa", "0x01", "0x05"]], balances: [], ...overrides };
}

function call(overrides: Partial<BehaviourCall> = {}): BehaviourCall {
  return { kind: "replay", label: `0x${"11".repeat(32)}`, from: ALICE, data: `${TRANSFER}00`, value: "0", selector: TRANSFER, repeat: 1, ...overrides };
}

const OFFSETS = [
  { seconds: 0, blocks: 0 },
  { seconds: 86_400, blocks: 64 },
  { seconds: 30 * 86_400, blocks: 512 },
];

/** A report whose single call has `v2(step, repetition)` under V2 and the default effect under V1. */
function report(calls: BehaviourCall[], v2: (step: number, repetition: number) => Effect, invariants: (step: number) => StepOutcome["invariants"] = () => []): BehaviourReport {
  return {
    proxy: PROXY,
    implementation: PROXY,
    forkBlockNumber: 7n,
    calls,
    probeProblems: [],
    skipped: [],
    steps: OFFSETS.map((offset, s) => ({
      offset,
      invariants: invariants(s),
      effects: calls.map((c) => Array.from({ length: c.repeat }, (_, r) => ({ v1: effect(), v2: v2(s, r) }))),
    })),
  };
}

const rejects = (findings: ReturnType<typeof behaviourFindings>) => findings.filter((f) => f.severity === "reject");

describe("firstDifference", () => {
  it("finds nothing between equal effects, gas being no part of one", () => {
    assert.equal(firstDifference(effect(), effect()), undefined);
  });

  it("names the first of status, return data, logs, storage and balances that differs", () => {
    assert.match(firstDifference(effect(), effect({ status: "reverted" }))!, /success under V1, reverted under V2/);
    assert.match(firstDifference(effect(), effect({ output: "0x" }))!, /^return data/);
    assert.match(firstDifference(effect(), effect({ logs: [] }))!, /log 0 only under V1/);
    assert.match(firstDifference(effect(), effect({ logs: [...effect().logs, { address: PROXY.toLowerCase() as Hex, topics: [TOPIC], data: "0x" }] }))!, /log 1 only under V2/);
    assert.match(firstDifference(effect(), effect({ logs: [{ address: "0xbb", topics: [TOPIC], data: "0x01" }] }))!, /emitted by/);
    assert.match(firstDifference(effect(), effect({ logs: [{ address: PROXY.toLowerCase() as Hex, topics: [TOPIC, TOPIC], data: "0x01" }] }))!, /topics/);
    assert.match(firstDifference(effect(), effect({ logs: [{ address: PROXY.toLowerCase() as Hex, topics: [TOPIC], data: "0x02" }] }))!, /data 0x01 under V1, 0x02 under V2/);
    assert.match(firstDifference(effect(), effect({ storage: [["0xaa", "0x01", "0x06"]] }))!, /storage 0xaa slot 0x01: 0x05 under V1, 0x06 under V2/);
    assert.match(firstDifference(effect(), effect({ storage: [] }))!, /0x05 under V1, unchanged under V2/);
    assert.match(firstDifference(effect(), effect({ balances: [["0xbeef", "10"]] }))!, /balance of 0xbeef: 0 wei under V1, 10 wei under V2/);
  });

  it("cuts long data in its message (the new code chooses it)", () => {
    const long = `0x${"ab".repeat(5_000)}` as Hex;
    assert.ok(firstDifference(effect(), effect({ output: long }))!.length < 400);
  });
});

describe("behaviourFindings", () => {
  it("finds nothing, with one info finding, when every call matches at every point", () => {
    const findings = behaviourFindings(report([call(), call({ kind: "probe", label: "p", repeat: 3 })], () => effect()), {});
    assert.deepEqual(rejects(findings), []);
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.code, "OK");
    assert.equal(findings[0]!.evidence!["callsCompared"], "2");
  });

  it("reports BEHAVIOUR_CHANGED for a difference at the upgrade, naming the call and what differs", () => {
    const [finding] = rejects(behaviourFindings(report([call()], () => effect({ balances: [["0xbeef", "10"]] })), {}));
    assert.equal(finding?.code, "BEHAVIOUR_CHANGED");
    assert.equal(finding?.evidence!["selector"], TRANSFER);
    assert.equal(finding?.evidence!["call"], call().label);
    assert.match(finding!.message, /balance of 0xbeef/);
  });

  it("names a replayed selector by the signature the policy gives it", () => {
    const [finding] = rejects(behaviourFindings(report([call()], () => effect({ status: "reverted" })), { intendedChanges: ["approve(address,uint256)", "mint(address,uint256)"] }));
    assert.match(finding!.message, /^function 0xa9059cbb/);
    const named = behaviourFindings(report([call(), call({ kind: "probe", label: "p", signature: "transfer(address,uint256)" })], (s) => (s === 0 ? effect() : effect())), {});
    assert.deepEqual(rejects(named), []);
    const [again] = rejects(behaviourFindings(report([call(), call({ kind: "probe", label: "p", signature: "transfer(address,uint256)" })], () => effect({ status: "reverted" })), {}));
    assert.match(again!.message, /^transfer\(address,uint256\)/);
  });

  it("says nothing of a function whose change the policy declares intended", () => {
    const changed = report([call()], () => effect({ status: "reverted" }));
    assert.deepEqual(rejects(behaviourFindings(changed, { intendedChanges: ["transfer(address,uint256)"] })), []);
  });

  it("reports LATENT_TRIGGER, with the offset, for a call that matches at the upgrade and differs later", () => {
    const [finding, ...rest] = rejects(behaviourFindings(report([call()], (s) => (s === 2 ? effect({ status: "reverted" }) : effect())), {}));
    assert.deepEqual(rest, []);
    assert.equal(finding?.code, "LATENT_TRIGGER");
    assert.equal(finding?.evidence!["offsetSeconds"], String(30 * 86_400));
    assert.equal(finding?.evidence!["offsetBlocks"], "512");
    assert.match(finding!.message, /30 days and 512 blocks after the upgrade/);
  });

  it("reports LATENT_TRIGGER for a probe whose k-th repetition is the first to differ", () => {
    const [finding] = rejects(behaviourFindings(report([call({ kind: "probe", label: "p", repeat: 5 })], (_, r) => (r >= 3 ? effect({ balances: [["0xbeef", "1"]] }) : effect())), {}));
    assert.equal(finding?.code, "LATENT_TRIGGER");
    assert.equal(finding?.evidence!["repetition"], "4");
    assert.match(finding!.message, /from call 4 of 5 on/);
  });

  it("reports one finding per call: its earliest difference", () => {
    const findings = rejects(behaviourFindings(report([call(), call({ label: "second" })], () => effect({ status: "reverted" })), {}));
    assert.deepEqual(findings.map((f) => [f.code, f.evidence!["call"]]), [["BEHAVIOUR_CHANGED", call().label], ["BEHAVIOUR_CHANGED", "second"]]);
  });

  it("reports LATENT_TRIGGER for an invariant that holds at the upgrade and breaks later, and leaves one broken at the upgrade to the shadow deployment", () => {
    const invariant = (holds: boolean[]) => (s: number): StepOutcome["invariants"] => [{ name: "supply", v1: { value: "100" }, v2: { value: holds[s] ? "100" : "0" }, holds: holds[s]! }];
    const [latent] = rejects(behaviourFindings(report([], () => effect(), invariant([true, true, false])), {}));
    assert.equal(latent?.code, "LATENT_TRIGGER");
    assert.equal(latent?.evidence!["invariant"], "supply");
    assert.equal(latent?.evidence!["offsetBlocks"], "512");
    assert.deepEqual(rejects(behaviourFindings(report([], () => effect(), invariant([false, false, false])), {})), []);
    assert.deepEqual(rejects(behaviourFindings(report([], () => effect(), invariant([true, true, true])), {})), []);
  });

  it("compares nothing when the upgrade did not happen (the shadow deployment's finding)", () => {
    const findings = behaviourFindings({ ...report([call()], () => effect({ status: "reverted" })), notCompared: "the upgrade reverts" }, {});
    assert.deepEqual(rejects(findings), []);
    assert.match(findings[0]!.message, /not compared: the upgrade reverts/);
  });

  it("refuses a probe that cannot be made as written as the policy's problem", () => {
    const findings = behaviourFindings({ ...report([], () => effect()), probeProblems: [{ probe: "bad", problem: "takes 2 arguments, 1 given" }] }, {});
    assert.deepEqual(rejects(findings).map((f) => [f.code, f.evidence!["probe"]]), [["POLICY_INVALID", "bad"]]);
  });
});
