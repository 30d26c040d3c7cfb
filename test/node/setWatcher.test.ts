// The set watcher (src/node/setWatcher.ts) on a manual clock: it reports a rotation once, keeps
// polling through a chain that does not answer, and stops for good.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { SetWatcher } from "../../src/node/setWatcher.ts";
import { ManualClock } from "../../src/util/clock.ts";

const logger = pino({ level: "silent" });
const settle = () => new Promise((resolve) => setImmediate(resolve));

function watcher(reads: (() => Promise<number>)[]) {
  const clock = new ManualClock();
  const changes: number[] = [];
  let calls = 0;
  const w = new SetWatcher({ setIndex: 0, intervalMs: 1_000 }, {
    currentSetIndex: () => reads[Math.min(calls++, reads.length - 1)]!(),
    onChanged: (index) => changes.push(index),
    clock,
    logger,
  });
  return { w, clock, changes, calls: () => calls };
}

describe("set watcher", () => {
  it("reports a new set index once, and stops polling", async () => {
    const { w, clock, changes, calls } = watcher([async () => 0, async () => { throw new Error("chain down"); }, async () => 1]);
    w.start();
    for (let i = 0; i < 5; i++) {
      await clock.advance(1_000);
      await settle();
    }
    assert.deepEqual(changes, [1], "an unreadable chain is not a rotation; the change is reported once");
    assert.equal(calls(), 3);
    assert.equal(clock.pending, 0);
  });

  it("stop() ends it before any report", async () => {
    const { w, clock, changes } = watcher([async () => 1]);
    w.start();
    w.stop();
    await clock.advance(5_000);
    await settle();
    assert.deepEqual(changes, []);
  });
});
