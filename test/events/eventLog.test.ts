// The event log on a real level database: ids monotonic across a reopen (a restarted node never
// reuses one), events read back in order after any id, live subscribers told after the write,
// retention bounded.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { keccak256, stringToHex } from "viem";
import { Database } from "../../src/db/database.ts";
import { EventLog, type NodeEvent } from "../../src/events/eventLog.ts";
import { ManualClock } from "../../src/util/clock.ts";

const id = keccak256(stringToHex("candidate"));
const log = pino({ level: "silent" });

describe("EventLog", () => {
  let dir: string;
  let db: Database;
  const clock = new ManualClock(1_000);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-events-"));
    db = await Database.open(dir);
  });
  afterEach(async () => {
    await db.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("numbers events from 1, reads them back after any id, and tells subscribers after the write", async () => {
    const events = new EventLog({}, { db, clock, logger: log });
    await events.open();
    const seen: NodeEvent[] = [];
    events.subscribe((event) => seen.push(event));
    events.emit("candidate.admitted", id, { source: "api" });
    events.emit("verdict.signed", id, { outcome: 1 });
    events.emit("attestation.formed", id, {});
    await events.flush();
    assert.deepEqual(seen.map((e) => [e.id, e.type]), [[1, "candidate.admitted"], [2, "verdict.signed"], [3, "attestation.formed"]]);
    assert.deepEqual((await events.read(1, 10)).map((e) => e.id), [2, 3]);
    assert.deepEqual((await events.read(0, 2)).map((e) => e.id), [1, 2]);
    assert.deepEqual(await events.read(3, 10), []);
    assert.equal(seen[0]!.candidateId, id);
    assert.equal(events.lastId, 3);
  });

  it("never reuses an id after a restart", async () => {
    const first = new EventLog({}, { db, clock, logger: log });
    await first.open();
    for (let i = 0; i < 5; i++) first.emit("relay.result", id, { chainId: i });
    await first.flush();
    await db.close();
    db = await Database.open(dir);
    const second = new EventLog({}, { db, clock, logger: log });
    await second.open();
    assert.equal(second.lastId, 5);
    second.emit("candidate.admitted", id);
    await second.flush();
    assert.deepEqual((await second.read(4, 10)).map((e) => e.id), [5, 6]);
  });

  it("keeps at most maxEvents (pruned in steps), and says where the oldest kept one is", async () => {
    const events = new EventLog({ maxEvents: 20 }, { db, clock, logger: log });
    await events.open();
    for (let i = 0; i < 100; i++) events.emit("relay.result", id, { i });
    await events.flush();
    const kept = await events.read(0, 1_000);
    assert.ok(kept.length <= 22 && kept.length >= 20, `kept ${kept.length}`);
    assert.equal(kept.at(-1)!.id, 100);
    assert.equal(kept[0]!.id, events.oldestId);
    assert.ok(events.stats.pruned >= 78);
  });

  it("a write that fails is counted and logged, and emitting never throws", async () => {
    const events = new EventLog({}, { db, clock, logger: log });
    await events.open();
    await db.close();
    assert.doesNotThrow(() => events.emit("candidate.admitted", id));
    await events.flush();
    assert.equal(events.stats.failures, 1);
  });
});
