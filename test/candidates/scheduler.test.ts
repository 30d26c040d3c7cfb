// The verification queue's bookkeeping, with a hand-driven clock: bounded concurrency, drops
// counted and refilled from the store, retries of what this node could not verify, until expiry.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import type { AdmittedCandidate } from "../../src/admission/admission.ts";
import { VerificationScheduler, VerifyLaterError } from "../../src/candidates/scheduler.ts";
import { ManualClock } from "../../src/util/clock.ts";

const log = pino({ level: "silent" });

function candidate(label: string, expiresAtSeconds = 10_000n): AdmittedCandidate {
  return {
    id: keccak256(stringToHex(label)),
    proposer: "0x00000000000000000000000000000000000000aa" as Address,
    signed: { candidate: { expiresAt: expiresAtSeconds } } as unknown as AdmittedCandidate["signed"],
  };
}

/** A `run` whose calls wait until the test releases them. */
function gate() {
  const started: Hex[] = [];
  const waiting = new Map<Hex, () => void>();
  return {
    started,
    run: (admitted: AdmittedCandidate) =>
      new Promise<void>((resolve) => {
        started.push(admitted.id);
        waiting.set(admitted.id, resolve);
      }),
    release(id: Hex) {
      waiting.get(id)?.();
      waiting.delete(id);
    },
    releaseAll() {
      for (const id of [...waiting.keys()]) this.release(id);
    },
  };
}

const settle = async () => {
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe("VerificationScheduler", () => {
  it("runs at most `concurrency` verifications at once, in arrival order", async () => {
    const g = gate();
    const clock = new ManualClock();
    const scheduler = new VerificationScheduler({ concurrency: 2 }, { run: g.run, backlog: async function* () {}, clock, logger: log });
    const all = ["a", "b", "c", "d"].map((label) => candidate(label));
    for (const c of all) scheduler.enqueue(c);
    assert.deepEqual(g.started, [all[0]!.id, all[1]!.id]);
    assert.equal(scheduler.queued, 2);
    assert.equal(scheduler.enqueue(all[0]!), false, "a candidate running is not queued twice");
    g.release(all[0]!.id);
    await settle();
    assert.deepEqual(g.started, all.slice(0, 3).map((c) => c.id));
    g.releaseAll();
    await settle();
    g.releaseAll();
    await scheduler.whenIdle();
    assert.equal(g.started.length, 4);
  });

  it("a full queue drops and counts, and refills from the store once it has room: nothing is lost", async () => {
    const g = gate();
    const clock = new ManualClock();
    const stored = ["a", "b", "c", "d", "e", "f"].map((label) => candidate(label));
    const verified = new Set<Hex>();
    const scheduler = new VerificationScheduler(
      { concurrency: 1, maxQueue: 2 },
      {
        run: async (admitted) => {
          await g.run(admitted);
          verified.add(admitted.id);
        },
        // The store: every candidate not verified yet, oldest first.
        backlog: async function* () {
          for (const c of stored) if (!verified.has(c.id)) yield c;
        },
        clock,
        logger: log,
      },
    );
    const accepted = stored.map((c) => scheduler.enqueue(c));
    assert.deepEqual(accepted, [true, true, true, false, false, false], "one running, two queued, three dropped");
    assert.equal(scheduler.stats.dropped, 3);
    for (let i = 0; i < 20 && verified.size < stored.length; i++) {
      g.releaseAll();
      await settle();
    }
    assert.equal(verified.size, stored.length, "every stored candidate was verified");
    assert.ok(scheduler.stats.refilled >= 3, `refilled ${scheduler.stats.refilled}`);
    assert.equal(new Set(g.started).size, g.started.length, "none verified twice");
  });

  it("what this node could not verify is retried with a capped backoff, then given up at the candidate's expiry", async () => {
    const clock = new ManualClock(0);
    const runs: number[] = [];
    const c = candidate("later", 100n); // expires at 100 s
    const scheduler = new VerificationScheduler(
      { retry: { initialMs: 3_000, maxMs: 20_000 } },
      {
        run: async () => {
          runs.push(clock.now());
          throw new VerifyLaterError("VERIFY_LATER", "no peer served the bundle", { candidateId: c.id });
        },
        backlog: async function* () {},
        clock,
        logger: log,
      },
    );
    scheduler.enqueue(c);
    await settle();
    for (let i = 0; i < 20; i++) {
      await clock.advance(20_000);
      await settle();
    }
    assert.deepEqual(runs, [0, 3_000, 9_000, 21_000, 41_000, 61_000, 81_000], "3, 6, 12, then 20 s apart");
    assert.equal(scheduler.stats.retries, 6);
    assert.equal(scheduler.stats.expired, 1, "the next retry would be after the expiry");
    assert.equal(clock.pending, 0);
    assert.equal(scheduler.enqueue(c), true, "given up, it can be queued again (a restart, a new copy)");
  });

  it("a verification that throws anything else is counted and not retried", async () => {
    const clock = new ManualClock();
    let runs = 0;
    const scheduler = new VerificationScheduler(
      {},
      {
        run: async () => {
          runs++;
          throw new Error("bug");
        },
        backlog: async function* () {},
        clock,
        logger: log,
      },
    );
    scheduler.enqueue(candidate("bug"));
    await scheduler.whenIdle();
    await clock.advance(600_000);
    assert.equal(runs, 1);
    assert.equal(scheduler.stats.failed, 1);
  });

  it("stop() cancels retries and refuses new work", async () => {
    const clock = new ManualClock();
    const c = candidate("stop");
    const scheduler = new VerificationScheduler(
      {},
      {
        run: async () => {
          throw new VerifyLaterError("VERIFY_LATER", "later", { candidateId: c.id });
        },
        backlog: async function* () {},
        clock,
        logger: log,
      },
    );
    scheduler.enqueue(c);
    await settle();
    assert.equal(clock.pending, 1);
    scheduler.stop();
    assert.equal(scheduler.enqueue(candidate("after")), false);
    await clock.advance(60_000);
    assert.equal(scheduler.queued, 0);
  });
});
