import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PEER_LEDGER_DEFAULTS, PeerLedger } from "../../src/network/peerLedger.ts";
import { includesPeer, MARK, payload, startNode, stopAll, waitFor } from "./helpers.ts";

function ledger(options: Partial<typeof PEER_LEDGER_DEFAULTS> = {}) {
  let now = 0;
  const l = new PeerLedger({ windowMs: 1_000, maxRejects: 3, maxIgnores: 5, maxInFlight: 2, maxPeers: 3, ...options }, { now: () => now });
  return { l, tick: (ms: number) => (now += ms) };
}

const settle = (l: PeerLedger, peer: string, result: "accept" | "ignore" | "reject", times = 1) => {
  for (let i = 0; i < times; i++) {
    assert.ok(l.begin(peer));
    l.end(peer, result);
  }
};

describe("PeerLedger", () => {
  it("refuses a peer once its window holds maxRejects refusals, and forgives it in the next window", () => {
    const { l, tick } = ledger();
    settle(l, "p", "reject", 2);
    assert.equal(l.refused("p"), false);
    settle(l, "p", "reject");
    assert.equal(l.refused("p"), true);
    assert.equal(l.refused("q"), false, "another peer pays nothing");
    tick(999);
    assert.equal(l.refused("p"), true);
    tick(1);
    assert.equal(l.refused("p"), false);
  });

  it("useless messages cost too: past maxIgnores in a window the peer is refused; accepted ones cost nothing", () => {
    const { l } = ledger();
    settle(l, "p", "accept", 100);
    assert.equal(l.refused("p"), false);
    settle(l, "p", "ignore", 4);
    assert.equal(l.refused("p"), false);
    settle(l, "p", "ignore");
    assert.equal(l.refused("p"), true);
  });

  it("holds at most maxInFlight validations per peer", () => {
    const { l } = ledger();
    assert.ok(l.begin("p"));
    assert.ok(l.begin("p"));
    assert.equal(l.begin("p"), false);
    assert.ok(l.begin("q"));
    l.end("p", "accept");
    assert.ok(l.begin("p"));
  });

  it("a new window keeps validations still in flight", () => {
    const { l, tick } = ledger();
    assert.ok(l.begin("p"));
    assert.ok(l.begin("p"));
    tick(5_000);
    assert.equal(l.begin("p"), false);
  });

  it("tracks at most maxPeers, dropping the oldest", () => {
    const { l } = ledger();
    for (const peer of ["a", "b", "c", "d"]) settle(l, peer, "reject", 3);
    assert.equal(l.size, 3);
    assert.equal(l.refused("a"), false, "the oldest was dropped");
    assert.equal(l.refused("d"), true);
  });

  it("ships defaults far above an honest peer's load", () => {
    // A candidate costs an honest peer at most a verdict (or two: inbox and broadcast) and an attestation.
    assert.ok(PEER_LEDGER_DEFAULTS.maxIgnores >= 100 && PEER_LEDGER_DEFAULTS.maxInFlight >= 8 && PEER_LEDGER_DEFAULTS.maxRejects >= 4);
  });
});

describe("a burst from one peer, between real libp2p hosts", () => {
  /** Sends `count` distinct messages marked `mark` from a fresh sender to a fresh receiver; what it cost the receiver. */
  async function burst(mark: number, count: number, peerBudget?: Partial<typeof PEER_LEDGER_DEFAULTS>) {
    const receiver = await startNode(peerBudget ? { peerBudget } : {});
    const sender = await startNode({ bootstrap: [receiver.address] });
    try {
      await waitFor(() => includesPeer(sender.net.subscribers("verdict"), receiver.net.peerId), "the sender to see the receiver's topic");
      for (let i = 0; i < count; i++) {
        const data = payload(mark, 48);
        data.set(new Uint8Array(new Uint32Array([i]).buffer), 1);
        await sender.net.publish("verdict", data).catch(() => 0); // a graylisted sender's publish may fail: it keeps trying
      }
      // Until the receiver has accounted for every message that reached it (or the connection was cut).
      const counted = () => {
        const c = receiver.net.counters();
        return c.accepted + c.ignored + c.rejected;
      };
      let last = -1;
      for (let i = 0; i < 50 && counted() !== last; i++) {
        last = counted();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Gossipsub recomputes scores on its heartbeat (1 s).
      if (mark === MARK.reject) await waitFor(() => receiver.net.scoreOf(sender.net.peerId) < 0, "the sender's score below zero", 5_000).catch(() => undefined);
      return { validated: receiver.handlers.seen.length, counters: receiver.net.counters(), score: receiver.net.scoreOf(sender.net.peerId) };
    } finally {
      await stopAll([sender, receiver]);
    }
  }

  it("junk costs at most maxRejects + maxInFlight validations before every further message is refused unvalidated", async (t) => {
    const bounded = await burst(MARK.reject, 600);
    const unbounded = await burst(MARK.reject, 600, { maxRejects: 1e9, maxIgnores: 1e9, maxInFlight: 1e9 });
    t.diagnostic(`600 junk messages: ${bounded.validated} validated with the ledger, ${unbounded.validated} without`);
    assert.ok(bounded.validated <= PEER_LEDGER_DEFAULTS.maxRejects + PEER_LEDGER_DEFAULTS.maxInFlight, `validated ${bounded.validated}`);
    assert.ok(bounded.counters.refusedPeer > 0, JSON.stringify(bounded.counters));
    assert.ok(bounded.score < 0, `and gossipsub scores the sender down (${bounded.score}; ${JSON.stringify(bounded.counters)})`);
  });

  it("valid-but-useless messages cost their sender: past maxIgnores, refused unvalidated", async (t) => {
    const useless = await burst(0x7f, 600); // the handlers ignore any mark but accept, reject, throw
    t.diagnostic(`600 ignored messages: ${useless.validated} validated`);
    assert.ok(useless.validated <= PEER_LEDGER_DEFAULTS.maxIgnores + PEER_LEDGER_DEFAULTS.maxInFlight, `validated ${useless.validated}`);
    assert.ok(useless.counters.refusedPeer > 0, JSON.stringify(useless.counters));
  });
});
