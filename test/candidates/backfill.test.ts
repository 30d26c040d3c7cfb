// The backfill's schedule and bounds (pure logic, ManualClock): asked `delayMs` after a
// connection, once per peer per `minIntervalMs` however often it reconnects, never more than
// `maxConcurrent` at once (the rest in turn); every payload goes to admission; refusals and failures counted. And
// RecentCandidates: newest first, bounded, expired ones never served, seeded from a real store.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import type { AdmittedCandidate } from "../../src/admission/admission.ts";
import { CandidateBackfill } from "../../src/candidates/backfill.ts";
import { CandidateStore } from "../../src/candidates/candidateStore.ts";
import { RecentCandidates } from "../../src/candidates/recent.ts";
import { Database } from "../../src/db/database.ts";
import { ManualClock } from "../../src/util/clock.ts";

const log = pino({ level: "silent" });
const settle = async () => {
  for (let i = 0; i < 50; i++) await Promise.resolve();
};

function candidate(label: string, expiresAtSeconds: bigint): AdmittedCandidate {
  return {
    id: keccak256(stringToHex(label)),
    proposer: "0x00000000000000000000000000000000000000aa" as Address,
    signed: {
      candidate: {
        chainId: 31337n,
        target: "0x00000000000000000000000000000000000000b1" as Address,
        implementation: "0x00000000000000000000000000000000000000b2" as Address,
        sourceHash: keccak256(stringToHex(`${label} source`)),
        policyHash: keccak256(stringToHex("policy")),
        blockNumber: 1n,
        nonce: 0n,
        createdAt: 1n,
        expiresAt: expiresAtSeconds,
      },
      signature: `0x${"11".repeat(65)}` as Hex,
    },
  };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("CandidateBackfill", () => {
  it("asks after the delay, once per peer per interval, and admits every payload", async () => {
    const clock = new ManualClock(0);
    const asked: string[] = [];
    const admitted: string[] = [];
    const backfill = new CandidateBackfill(
      { delayMs: 2_000, minIntervalMs: 30_000 },
      {
        fetch: async (peer) => (asked.push(peer), [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]),
        admit: async (payload, from) => (admitted.push(`${from}:${payload[0]}`), payload[0] === 2 ? "reject" : payload[0] === 3 ? "ignore" : "accept"),
        clock,
        logger: log,
      },
    );
    backfill.connected("p1");
    await clock.advance(1_999);
    assert.deepEqual(asked, []);
    await clock.advance(1);
    await settle();
    assert.deepEqual(asked, ["p1"]);
    assert.deepEqual(admitted, ["p1:1", "p1:2", "p1:3"]);
    assert.deepEqual({ ...backfill.stats }, { requests: 1, failures: 0, skipped: 0, received: 3, admitted: 1, refused: 1 });
    // A reconnect loop: asked again only once the interval has passed.
    for (let i = 0; i < 5; i++) {
      backfill.connected("p1");
      await clock.advance(2_000);
    }
    await settle();
    assert.deepEqual(asked, ["p1"]);
    assert.equal(backfill.stats.skipped, 5);
    await clock.advance(20_000);
    backfill.connected("p1");
    await clock.advance(2_000);
    await settle();
    assert.deepEqual(asked, ["p1", "p1"]);
    await backfill.stop();
    backfill.connected("p2");
    await clock.advance(2_000);
    assert.deepEqual(asked, ["p1", "p1"], "nothing after stop");
  });

  it("keeps at most maxConcurrent requests in flight, the others asked in turn, and counts a failed one", async () => {
    const clock = new ManualClock(0);
    const release: (() => void)[] = [];
    const backfill = new CandidateBackfill(
      { delayMs: 0, maxConcurrent: 2 },
      {
        fetch: (peer) =>
          peer === "bad" ? Promise.reject(new Error("no such protocol")) : new Promise<Uint8Array[]>((resolve) => release.push(() => resolve([]))),
        admit: async () => "accept",
        clock,
        logger: log,
      },
    );
    for (const peer of ["a", "b", "c"]) backfill.connected(peer);
    await clock.advance(0);
    await settle();
    assert.equal(backfill.stats.requests, 2);
    for (const r of release.splice(0)) r();
    await settle();
    assert.equal(backfill.stats.requests, 3, "the third peer's turn");
    assert.equal(backfill.stats.skipped, 0);
    for (const r of release.splice(0)) r();
    await settle();
    backfill.connected("bad");
    await clock.advance(0);
    await settle();
    assert.equal(backfill.stats.failures, 1);
    await backfill.stop();
  });
});

describe("RecentCandidates", () => {
  it("serves the newest unexpired ones first, bounded", async () => {
    const clock = new ManualClock(1_000_000);
    const recent = new RecentCandidates({ max: 3 }, { clock });
    for (const [label, expires] of [["a", 2_000n], ["b", 2_000n], ["c", 500n], ["d", 2_000n], ["e", 2_000n]] as const) recent.add(candidate(label, expires));
    assert.equal(recent.size, 3);
    const served = (await recent.recent(10)).map((bytes) => (JSON.parse(text(bytes)) as { candidate: { sourceHash: string } }).candidate.sourceHash);
    // a and b were pushed out by the bound; c is expired (500 s < now 1,000 s).
    assert.deepEqual(served, [keccak256(stringToHex("e source")), keccak256(stringToHex("d source"))]);
    assert.equal((await recent.recent(1)).length, 1);
    const payload = JSON.parse(text((await recent.recent(1))[0]!)) as { signature: string; candidate: { expiresAt: string } };
    assert.equal(payload.candidate.expiresAt, "2000", "the gossip payload: every field as the codec writes it");
  });

  it("is seeded from the store at start with its newest unexpired candidates", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sentinel-recent-"));
    const db = await Database.open(dir);
    try {
      const store = new CandidateStore({}, { db });
      const clock = new ManualClock(1_000_000);
      for (let i = 0; i < 6; i++) await store.add(candidate(`s${i}`, i === 5 ? 10n : 5_000n), "gossip", null, new Date(1_000 + i * 1_000));
      const recent = new RecentCandidates({ max: 2 }, { clock });
      await recent.seed(store);
      const served = (await recent.recent(10)).map((bytes) => (JSON.parse(text(bytes)) as { candidate: { sourceHash: string } }).candidate.sourceHash);
      assert.deepEqual(served, [keccak256(stringToHex("s4 source")), keccak256(stringToHex("s3 source"))]);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
