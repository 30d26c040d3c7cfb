// The durable relay against a real level database and a hand-driven clock: the chains are
// scripted stand-ins (what a relay returns is the relayer's business, tested on anvil in
// test/chains/relayer.test.ts; test/e2e/durableRelay.test.ts runs the whole of it on real chains).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { keccak256, stringToHex, type Hex } from "viem";
import { RelayDispatcher, type RecordState, type RelayChain } from "../../src/attestations/relayDispatcher.ts";
import type { RelayJob, RelayResult } from "../../src/chains/relayer.ts";
import { Database } from "../../src/db/database.ts";
import { ManualClock } from "../../src/util/clock.ts";

const log = pino({ level: "silent" });
const hash = (label: string): Hex => keccak256(stringToHex(label));
const work = (label: string) => ({ candidateId: hash(`candidate ${label}`), digest: hash(`digest ${label}`), encoded: "0x1234" as Hex });
const submitted: RelayResult = { status: "submitted", txHash: hash("tx"), gasUsed: 1n, blockNumber: 1n };
const exhausted: RelayResult = { status: "failed", code: "RELAY_RETRIES_EXHAUSTED", error: "RPC unreachable", attempts: 5 };

/** A chain whose relay answers come from a script (the last answer repeats), recording every job. */
class ScriptedChain implements RelayChain {
  readonly jobs: RelayJob[] = [];
  readonly forgotten: Hex[] = [];
  states: RecordState[] = ["final"];
  readonly chainId: number;
  answers: RelayResult[];
  readonly confirmations: number;
  constructor(chainId: number, answers: RelayResult[] = [submitted], confirmations = 0) {
    this.chainId = chainId;
    this.answers = answers;
    this.confirmations = confirmations;
  }
  async relay(job: RelayJob): Promise<RelayResult> {
    this.jobs.push(job);
    return this.answers.length > 1 ? this.answers.shift()! : this.answers[0]!;
  }
  async recordState(): Promise<RecordState> {
    return this.states.length > 1 ? this.states.shift()! : this.states[0]!;
  }
  forget(digest: Hex): void {
    this.forgotten.push(digest);
  }
}

describe("RelayDispatcher", () => {
  let dir: string;
  let db: Database;
  let clock: ManualClock;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-relay-dispatcher-"));
    db = await Database.open(dir);
    clock = new ManualClock(1_000_000);
  });
  afterEach(async () => {
    await db.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  function dispatcher(chains: RelayChain[], rank = 0) {
    return new RelayDispatcher({ retry: { initialMs: 2_000, maxMs: 60_000 }, confirmCheckMs: 1_000 }, { db, chains, rankOf: () => rank, clock, logger: log });
  }

  /** Plans and begins `w` as the attestation store does: relay first, the batch written after. */
  async function accept(relay: RelayDispatcher, w = work("a"), options: { fresh: boolean; recordedOn?: number[] } = { fresh: true }) {
    const ops = relay.plan(w, options);
    let written!: () => void;
    const persisted = new Promise<void>((resolve) => (written = resolve));
    relay.begin(ops, persisted);
    await db.batch(ops, { sync: false });
    written();
    await relay.whenIdle();
    return w;
  }

  it("relays to every chain once, records each result, and leaves nothing pending", async () => {
    const a = new ScriptedChain(1);
    const b = new ScriptedChain(2);
    const relay = dispatcher([a, b]);
    const w = await accept(relay);
    assert.equal(a.jobs.length, 1);
    assert.equal(b.jobs.length, 1);
    assert.equal(a.jobs[0]!.fresh, true, "aggregated here: the primary may send at once");
    assert.equal(await relay.pendingCount(), 0);
    assert.equal(((await relay.resultOf(w.candidateId, 2)) as { status: string }).status, "submitted");
  });

  it("an outage past every retry budget costs dispatches, never the verdict: capped backoff until recorded", async () => {
    const a = new ScriptedChain(1);
    const down = new ScriptedChain(2, [exhausted, exhausted, exhausted, exhausted, exhausted, exhausted, exhausted, submitted]);
    const relay = dispatcher([a, down]);
    const w = await accept(relay);
    assert.equal(down.jobs.length, 1);
    const pending = (await relay.pendingOf(w.candidateId)).get(2);
    assert.ok(pending, "still pending in the database");
    assert.match(pending.lastError!, /RELAY_RETRIES_EXHAUSTED/);
    // 2, 4, 8, 16, 32, then capped at 60 s.
    const waits = [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];
    for (const [i, wait] of waits.entries()) {
      await clock.advance(wait - 1);
      assert.equal(down.jobs.length, i + 1, `not before ${wait} ms`);
      await clock.advance(1);
      await relay.whenIdle();
      assert.equal(down.jobs.length, i + 2, `dispatched again after ${wait} ms`);
      assert.equal(down.jobs.at(-1)!.fresh, false, "a dispatch again is always simulated first");
    }
    assert.equal(await relay.pendingCount(), 0);
    assert.equal(((await relay.resultOf(w.candidateId, 2)) as { status: string }).status, "submitted");
    assert.equal(a.jobs.length, 1, "the healthy chain was relayed once");
    assert.equal(relay.stats.redispatched, 7);
  });

  it("survives a restart: what is pending is in the database and dispatched again, never fresh", async () => {
    const down = new ScriptedChain(2, [exhausted]);
    const first = dispatcher([down]);
    const w = await accept(first);
    first.stop();
    await db.close();

    db = await Database.open(dir);
    const back = new ScriptedChain(2, [submitted]);
    const second = dispatcher([back]);
    assert.equal(await second.start(), 1);
    await clock.advance(2_000);
    await second.whenIdle();
    assert.equal(back.jobs.length, 1);
    assert.equal(back.jobs[0]!.fresh, false);
    assert.equal(back.jobs[0]!.candidateId, w.candidateId);
    assert.equal(await second.pendingCount(), 0);
  });

  it("a registry that refuses the attestation for good ends its relay there: no retries", async () => {
    const refused: RelayResult = { status: "failed", code: "RELAY_REVERTED", error: "StaleVerdict(…)", attempts: 1 };
    const chain = new ScriptedChain(1, [refused]);
    const relay = dispatcher([chain]);
    const w = await accept(relay);
    await clock.advance(600_000);
    assert.equal(chain.jobs.length, 1);
    assert.equal(await relay.pendingCount(), 0);
    assert.equal(((await relay.resultOf(w.candidateId, 1)) as { code: string }).code, "RELAY_REVERTED");
    assert.equal(relay.stats.refused, 1);
  });

  it("a chain where the attestation was found recorded is not relayed to; the others are, simulated first", async () => {
    const found = new ScriptedChain(1);
    const other = new ScriptedChain(2, [{ status: "already-recorded", by: "other-relayer" }]);
    const relay = dispatcher([found, other]);
    await accept(relay, work("b"), { fresh: false, recordedOn: [1] });
    assert.equal(found.jobs.length, 0, "learned from this chain: nothing sent");
    assert.equal(other.jobs.length, 1);
    assert.equal(other.jobs[0]!.fresh, false);
    assert.equal(await relay.pendingCount(), 0);
  });

  it("with confirmations, a record counts once it is final; a record a reorg removed is relayed again", async () => {
    const chain = new ScriptedChain(1, [submitted], 3);
    chain.states = ["unconfirmed", "absent", "unconfirmed", "final"];
    const relay = dispatcher([chain]);
    const w = await accept(relay);
    assert.equal(chain.jobs.length, 1);
    assert.equal((await relay.pendingOf(w.candidateId)).get(1)?.state, "confirming");
    await clock.advance(1_000); // unconfirmed
    await relay.whenIdle();
    assert.equal(await relay.pendingCount(), 1);
    await clock.advance(1_000); // absent: reorged away
    await relay.whenIdle();
    await clock.advance(0);
    await relay.whenIdle();
    assert.deepEqual(chain.forgotten, [w.digest]);
    assert.equal(chain.jobs.length, 2, "relayed again");
    assert.equal(chain.jobs[1]!.fresh, false);
    await clock.advance(1_000); // unconfirmed
    await relay.whenIdle();
    await clock.advance(1_000); // final
    await relay.whenIdle();
    assert.equal(await relay.pendingCount(), 0);
    assert.equal(relay.stats.reorged, 1);
    assert.equal(((await relay.resultOf(w.candidateId, 1)) as { final: boolean }).final, true);
  });

  it("a relay that finishes before its batch is written does not leave the batch's entry behind", async () => {
    const chain = new ScriptedChain(1);
    const relay = dispatcher([chain]);
    const w = work("c");
    const ops = relay.plan(w, { fresh: true });
    let written!: () => void;
    const persisted = new Promise<void>((resolve) => (written = resolve));
    relay.begin(ops, persisted);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(chain.jobs.length, 1, "relayed before the write");
    await db.batch(ops, { sync: false });
    written();
    await relay.whenIdle();
    assert.equal(await relay.pendingCount(), 0);
  });

  it("after stop, a relayer stopped mid-job leaves the entry pending for the next start", async () => {
    const stopped: RelayResult = { status: "failed", code: "RELAY_STOPPED", error: "the relayer is stopped", attempts: 1 };
    const chain = new ScriptedChain(1, [stopped]);
    const relay = dispatcher([chain]);
    const ops = relay.plan(work("d"), { fresh: true });
    await db.batch(ops, { sync: false });
    relay.stop();
    relay.begin(ops, Promise.resolve());
    await relay.whenIdle();
    assert.equal(await relay.pendingCount(), 1);
    assert.equal(clock.pending, 0, "no timer left behind");
  });
});
