// SendAhead's bookkeeping with an injected clock and reads: when it reads, what it hands out,
// and that a nonce it handed out is never handed out again.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SendAhead, type SendState } from "../../src/chains/sendAhead.ts";

const fees = { maxFeePerGas: 2n, maxPriorityFeePerGas: 1n };

function harness(nonces: number[]) {
  let clock = 1_000;
  let reads = 0;
  let fail = false;
  let gate: Promise<void> = Promise.resolve();
  const ahead = new SendAhead(
    async (): Promise<SendState> => {
      reads++;
      await gate;
      if (fail) throw new Error("rpc down");
      return { nonce: nonces.shift() ?? 0, fees };
    },
    () => clock,
    { refreshMs: 3_000, maxAgeMs: 30_000 },
  );
  return {
    ahead,
    reads: () => reads,
    advance: (ms: number) => (clock += ms),
    failReads: () => (fail = true),
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return release;
    },
  };
}

describe("SendAhead", () => {
  it("hands out nothing until something was anticipated", async () => {
    const { ahead, reads } = harness([5]);
    assert.equal(await ahead.take(), undefined);
    assert.equal(reads(), 0);
  });

  it("reads once per refresh period, and a read is usable until it is too old", async () => {
    const h = harness([5, 6]);
    await h.ahead.anticipate();
    await h.ahead.anticipate();
    assert.equal(h.reads(), 1, "fresh: not read again");
    assert.deepEqual(await h.ahead.take(), { nonce: 5, fees });
    h.advance(3_000);
    await h.ahead.anticipate();
    assert.equal(h.reads(), 2, "stale after refreshMs: read again");
    assert.equal((await h.ahead.take())?.nonce, 6);
    h.advance(30_000);
    assert.equal(await h.ahead.take(), undefined, "older than maxAgeMs: not used");
  });

  it("waits for a read under way rather than have the caller start a later one", async () => {
    const h = harness([9]);
    const release = h.hold();
    void h.ahead.anticipate();
    const taken = h.ahead.take();
    release();
    assert.equal((await taken)?.nonce, 9);
  });

  it("a used nonce is never handed out again, whatever an earlier read said", async () => {
    const h = harness([5]);
    await h.ahead.anticipate();
    h.ahead.used(5);
    assert.equal((await h.ahead.take())?.nonce, 6);
    h.ahead.used(6);
    assert.equal((await h.ahead.take())?.nonce, 7);
  });

  it("forget() drops the read and the local nonce: the next send reads afresh", async () => {
    const h = harness([5]);
    await h.ahead.anticipate();
    h.ahead.used(5);
    h.ahead.forget();
    assert.equal(await h.ahead.take(), undefined);
  });

  it("a failed read is forgotten, not thrown", async () => {
    const h = harness([5]);
    h.failReads();
    await h.ahead.anticipate();
    assert.equal(await h.ahead.take(), undefined);
  });
});
