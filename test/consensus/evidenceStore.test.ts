import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import pino from "pino";
import type { Hex } from "viem";
import type { Evidence } from "../../src/consensus/aggregator.ts";
import { EvidenceStore, MAX_EVIDENCE_LISTED } from "../../src/consensus/evidenceStore.ts";
import { Database } from "../../src/db/database.ts";
import type { EventType } from "../../src/events/eventLog.ts";
import { randomVerdict } from "../../src/devnet/randomVerdict.ts";

const log = pino({ level: "silent" });

function proof(candidateId: Hex, validatorIndex: number): Evidence {
  const verdict = { ...randomVerdict(), candidateId };
  return {
    candidateId,
    setIndex: 3,
    validatorIndex,
    first: { digest: `0x${"11".repeat(32)}`, signature: `0x${"aa".repeat(96)}` },
    second: { digest: `0x${"22".repeat(32)}`, signature: `0x${"bb".repeat(96)}`, verdict },
  };
}

async function setup() {
  const db = await Database.open(mkdtempSync(join(tmpdir(), "sentinel-evidence-")));
  const emitted: { type: EventType; id: Hex }[] = [];
  const store = new EvidenceStore({}, { db, events: { emit: (type, id) => void emitted.push({ type, id }) }, logger: log });
  return { db, store, emitted };
}

describe("evidence store", () => {
  it("keeps one proof per candidate and validator, says so once, and lists them by candidate", async () => {
    const { db, store, emitted } = await setup();
    const a: Hex = `0x${"0a".repeat(32)}`;
    const b: Hex = `0x${"0B".repeat(32)}`;
    await store.record(proof(a, 1));
    await store.record(proof(a, 1)); // the same validator again on the same candidate adds nothing
    await store.record(proof(a, 0));
    await store.record(proof(b, 1));
    assert.deepEqual(emitted, [{ type: "equivocation.detected", id: a }, { type: "equivocation.detected", id: a }, { type: "equivocation.detected", id: b }]);
    assert.equal(store.stats.recorded, 3);
    const ofA = (await store.list(a)) as { validatorIndex: number; second: { verdict: { issuedAt: unknown } } }[];
    assert.deepEqual(ofA.map((p) => p.validatorIndex), [0, 1]);
    assert.equal(typeof ofA[0]!.second.verdict.issuedAt, "string", "bigints stored as decimal strings");
    assert.equal((await store.list(b)).length, 1, "found whatever the case of the id asked");
    assert.equal((await store.list()).length, 3);
    await db.close();
  });

  it("lists at most MAX_EVIDENCE_LISTED", async () => {
    const { db, store } = await setup();
    for (let i = 0; i < MAX_EVIDENCE_LISTED + 5; i++) await store.record(proof(`0x${"0c".repeat(32)}`, i));
    assert.equal((await store.list()).length, MAX_EVIDENCE_LISTED);
    await db.close();
  });

  it("never throws: a write that fails is logged and counted", async () => {
    const { db, store, emitted } = await setup();
    await db.close();
    await store.record(proof(`0x${"0d".repeat(32)}`, 1));
    assert.deepEqual([store.stats.failures, emitted.length], [1, 0]);
  });
});
