// The monitor against a scripted chain and a hand-driven clock: readings on new blocks only, a
// flapping invariant over 100 blocks giving one revocation and bounded alerts, an unreadable
// chain giving no breach, approved code not yet live giving no readings, and an upgrade to code
// the network did not approve raising an alert.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { getAddress, keccak256, stringToHex, type Address, type Hex } from "viem";
import { revocationVerdict } from "../../src/codec/revocation.ts";
import { Outcome, verdictDigest, type Verdict } from "../../src/codec/types.ts";
import type { Invariant } from "../../src/codec/policy.ts";
import { InvariantMonitor, type Breach, type LiveChain, type MonitoredApproval } from "../../src/monitoring/monitor.ts";
import { ManualClock } from "../../src/util/clock.ts";

const hash = (label: string): Hex => keccak256(stringToHex(label));
const NETWORK = hash("network");
const PROXY = getAddress("0x00000000000000000000000000000000000a11ce");
const APPROVED = getAddress("0x0000000000000000000000000000000000000b02");
const OTHER = getAddress("0x0000000000000000000000000000000000000bad");
const CODE: Record<Address, Hex> = { [APPROVED]: hash("approved code"), [OTHER]: hash("other code") };
const capped: Invariant = { name: "value-capped", function: "function value() view returns (uint256)", args: [], relation: "lte", value: "100" };

const approvalVerdict: Verdict = {
  candidateId: hash("approval"),
  chainId: 31337n,
  target: PROXY,
  codehash: CODE[APPROVED]!,
  outcome: Outcome.Approve,
  policyHash: hash("policy"),
  reasons: 0n,
  findingsDigest: hash("findings"),
  issuedAt: 1_000n,
  expiresAt: 9_999_999_999n,
};
const approval: MonitoredApproval = { approvalId: approvalVerdict.candidateId, approval: approvalVerdict, pinnedBlock: 1n, invariants: [capped] };

/** A chain whose block, implementation and value() the test sets; `down` makes it unreadable. */
class ScriptedChain implements LiveChain {
  block = 1n;
  implementation: Address = APPROVED;
  value = 100n;
  down = false;
  reads = 0;
  #check(): void {
    if (this.down) throw new Error("connection refused");
  }
  async blockNumber() {
    this.#check();
    return this.block;
  }
  async implementationOf() {
    this.#check();
    return this.implementation;
  }
  async adminOf() {
    this.#check();
    return getAddress("0x0000000000000000000000000000000000000000");
  }
  async codehashOf(address: Address) {
    this.#check();
    return CODE[address]!;
  }
  async read() {
    this.#check();
    this.reads++;
    return { value: this.value.toString() };
  }
}

function monitorOf(chain: LiveChain, cooldownBlocks = 10) {
  const clock = new ManualClock(0);
  const breaches: Breach[] = [];
  const events: { type: string; data: unknown }[] = [];
  const monitor = new InvariantMonitor(
    { pollMs: 100, refreshMs: 1_000, cooldownBlocks },
    {
      approvals: async () => [approval],
      chains: new Map([[31337, chain]]),
      onBreach: async (breach) => void breaches.push(breach),
      events: { emit: (type, _id, data) => void events.push({ type, data }) },
      clock,
      logger: pino({ level: "silent" }),
    },
  );
  return { monitor, breaches, events };
}

describe("InvariantMonitor", () => {
  it("reads on new blocks only", async () => {
    const chain = new ScriptedChain();
    const { monitor } = monitorOf(chain);
    await monitor.tick();
    await monitor.tick();
    assert.equal(chain.reads, 1);
    chain.block++;
    await monitor.tick();
    assert.equal(chain.reads, 2);
  });

  it("turns a flapping invariant over 100 blocks into one revocation and bounded alerts", async () => {
    const chain = new ScriptedChain();
    const { monitor, breaches, events } = monitorOf(chain, 10);
    for (let i = 0; i < 100; i++) {
      chain.block = BigInt(2 + i);
      chain.value = i % 4 < 2 ? 101n : 100n; // broken two blocks, holding two, for 100 blocks
      await monitor.tick();
    }
    assert.equal(breaches.length, 1, "one breach episode");
    assert.equal(events.filter((e) => e.type === "revocation.alert").length, 1);
    const digests = new Set(breaches.map((b) => verdictDigest(NETWORK, revocationVerdict(NETWORK, { approvalId: b.approval.approvalId, approval: b.approval.approval, invariant: b.invariant }))));
    assert.equal(digests.size, 1, "every breach of it is the same revocation");
    assert.ok(monitor.stats.suppressed >= 20);
  });

  it("alerts again only for a new episode after the cooldown; the revocation stays the same one", async () => {
    const chain = new ScriptedChain();
    const { monitor, breaches } = monitorOf(chain, 3);
    const script = [101n, 100n, 100n, 100n, 101n];
    for (const [i, value] of script.entries()) {
      chain.block = BigInt(2 + i);
      chain.value = value;
      await monitor.tick();
    }
    assert.deepEqual(breaches.map((b) => b.start.episode), [1, 2]);
    assert.equal(new Set(breaches.map((b) => revocationVerdict(NETWORK, { approvalId: b.approval.approvalId, approval: b.approval.approval, invariant: b.invariant }).candidateId)).size, 1);
  });

  it("does not take an unreadable chain for a breach", async () => {
    const chain = new ScriptedChain();
    const { monitor, breaches } = monitorOf(chain);
    chain.down = true;
    for (let i = 0; i < 5; i++) await monitor.tick();
    assert.equal(breaches.length, 0);
    assert.ok(monitor.stats.unreadable >= 5);
  });

  it("does not read the invariants of approved code that is not live, and alerts on an unapproved implementation", async () => {
    const chain = new ScriptedChain();
    chain.implementation = OTHER;
    chain.value = 500n;
    const { monitor, breaches, events } = monitorOf(chain);
    await monitor.tick();
    assert.equal(chain.reads, 0);
    chain.block++;
    chain.implementation = APPROVED; // the approved upgrade: no alert
    await monitor.tick();
    assert.equal(breaches.length, 1, "live now, and broken");
    chain.block++;
    chain.implementation = OTHER; // an upgrade to code the network did not approve
    await monitor.tick();
    const alerts = events.filter((e) => e.type === "revocation.alert").map((e) => (e.data as { kind: string }).kind);
    assert.deepEqual(alerts, ["invariant", "implementation"]);
  });

  it("runs on its clock until stopped", async () => {
    const chain = new ScriptedChain();
    const clock = new ManualClock(0);
    const monitor = new InvariantMonitor(
      { pollMs: 100 },
      { approvals: async () => [approval], chains: new Map([[31337, chain]]), onBreach: async () => {}, clock, logger: pino({ level: "silent" }) },
    );
    monitor.start();
    for (let i = 0; i < 5; i++) {
      chain.block++;
      await clock.advance(100);
    }
    await monitor.stop();
    assert.ok(chain.reads >= 4, `${chain.reads} reads`);
    assert.equal(clock.pending, 0);
  });
});
