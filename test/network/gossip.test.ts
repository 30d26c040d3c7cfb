// Gossip between real libp2p hosts on 127.0.0.1, in a star: A, C and D dial B only, so
// anything C or D receive from A went through B's validation.
//
// The tests share one star and run in order: the penalties of one test must not hide the
// effect of the next, so each test that earns a penalty uses its own sender or topic.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GOSSIP_KINDS, NetworkError, type GossipKind } from "../../src/network/index.ts";
import { MARK, includesPeer, payload, startNode, stopAll, waitFor, type TestNode } from "./helpers.ts";

describe("gossip on a star of four hosts (A, C, D connected only to B)", () => {
  let a: TestNode | undefined;
  let b: TestNode | undefined;
  let c: TestNode | undefined;
  let d: TestNode | undefined;
  const nodes = (): { a: TestNode; b: TestNode; c: TestNode; d: TestNode } => {
    assert.ok(a && b && c && d, "star not started");
    return { a, b, c, d };
  };

  before(async () => {
    // B accepts at most 4 KiB per message; the others the default 1 MiB.
    b = await startNode({ maxMessageBytes: 4096 });
    const hub = b.address;
    [a, c, d] = await Promise.all([
      startNode({ bootstrap: [hub] }),
      startNode({ bootstrap: [hub] }),
      startNode({ bootstrap: [hub] }),
    ]);
    const star = nodes();
    const leaves = [star.a, star.c, star.d];
    // Mesh formation: every leaf knows B subscribes to every topic, and B meshes every leaf.
    await waitFor(
      () =>
        GOSSIP_KINDS.every(
          (kind) =>
            leaves.every((leaf) => includesPeer(leaf.net.subscribers(kind), star.b.net.peerId)) &&
            leaves.every((leaf) => includesPeer(star.b.net.meshPeers(kind), leaf.net.peerId)),
        ),
      "the gossipsub mesh around B",
    );
    assert.equal(star.a.net.peers().length, 1, "A is connected to B only");
    assert.equal(star.c.net.peers().length, 1, "C is connected to B only");
  });

  after(async () => {
    await stopAll([a, b, c, d]);
  });

  it("delivers a published message to every peer, to the handler of its kind only", async () => {
    const { a, b, c, d } = nodes();
    for (const kind of GOSSIP_KINDS) {
      const data = payload(MARK.accept);
      const recipients = await a.net.publish(kind, data);
      assert.equal(recipients, 1, "A sends to B, its only peer");
      await waitFor(() => [b, c, d].every((node) => node.handlers.saw(data, kind)), `${kind} at B, C and D`);
      for (const node of [b, c, d]) {
        const others = GOSSIP_KINDS.filter((other): other is GossipKind => other !== kind);
        assert.ok(others.every((other) => !node.handlers.saw(data, other)), "no other kind's handler saw it");
      }
      assert.ok(!a.handlers.saw(data), "the publisher does not validate its own message");
      // `from` is the propagation source: B for C and D, A for B.
      assert.equal(c.handlers.entry(data)?.from, b.net.peerId.toString());
      assert.equal(d.handlers.entry(data)?.from, b.net.peerId.toString());
      assert.equal(b.handlers.entry(data)?.from, a.net.peerId.toString());
    }
    assert.equal(b.net.counters().accepted, GOSSIP_KINDS.length);
  });

  it("treats a throwing handler as ignore: not forwarded, no penalty, the node keeps working", async () => {
    const { a, b, c, d } = nodes();
    const failing = payload(MARK.throws);
    await a.net.publish("candidate", failing);
    await waitFor(() => b.net.counters().handlerErrors === 1, "B's handler to throw");
    // B reported IGNORE before this next message was published; had it forwarded the failing
    // one, C and D would have received it first (one ordered stream from B to each).
    const marker = payload(MARK.accept);
    await a.net.publish("candidate", marker);
    await waitFor(() => c.handlers.saw(marker) && d.handlers.saw(marker), "the marker at C and D");
    assert.ok(!c.handlers.saw(failing) && !d.handlers.saw(failing), "an ignored message is not forwarded");
    assert.equal(b.net.counters().ignored, 1);
    assert.equal(b.net.counters().rejected, 0);
    assert.ok(b.net.scoreOf(a.net.peerId) >= 0, "IGNORE costs the sender nothing");
  });

  it("does not forward a rejected message, and the sender's score at B falls below zero", async () => {
    const { a, b, c, d } = nodes();
    assert.ok(b.net.scoreOf(a.net.peerId) >= 0);
    const invalid = payload(MARK.reject);
    await a.net.publish("verdict", invalid);
    await waitFor(() => b.net.counters().rejected === 1, "B to reject");
    assert.ok(b.handlers.saw(invalid, "verdict"), "B's handler decided");
    await waitFor(() => b.net.scoreOf(a.net.peerId) < 0, "A's score at B below zero", 5_000);

    const marker = payload(MARK.accept);
    await a.net.publish("verdict", marker);
    await waitFor(() => c.handlers.saw(marker) && d.handlers.saw(marker), "the marker at C and D");
    assert.ok(!c.handlers.saw(invalid) && !d.handlers.saw(invalid), "a rejected message is never forwarded");
    assert.ok(c.net.scoreOf(b.net.peerId) >= 0, "B, which did not forward it, is not penalised by C");
  });

  it("rejects an oversized message before any handler runs", async () => {
    const { b, c, d } = nodes();
    const seenBefore = b.handlers.seen.length;
    const big = payload(MARK.accept, 8192); // above B's 4 KiB, below D's 1 MiB
    await d.net.publish("attestation", big);
    await waitFor(() => b.net.counters().oversized === 1, "B to reject the oversized message");
    assert.equal(b.handlers.seen.length, seenBefore, "no handler ran");
    await waitFor(() => b.net.scoreOf(d.net.peerId) < 0, "D's score at B below zero", 5_000);

    const marker = payload(MARK.accept);
    await d.net.publish("attestation", marker);
    await waitFor(() => c.handlers.saw(marker), "the marker at C");
    assert.ok(!c.handlers.saw(big), "the oversized message was not forwarded");
  });

  it("refuses to publish above its own maxMessageBytes", async () => {
    const { b } = nodes();
    await assert.rejects(b.net.publish("candidate", payload(MARK.accept, 4097)), (err: unknown) => {
      assert.ok(err instanceof NetworkError);
      assert.equal(err.code, "MESSAGE_TOO_LARGE");
      return true;
    });
  });

  it("resolves with 0 recipients when the same payload was already seen", async () => {
    const { a, c } = nodes();
    const data = payload(MARK.accept);
    await a.net.publish("attestation", data);
    await waitFor(() => c.handlers.saw(data), "the attestation at C");
    // C received it through the network: its content id is already in C's seen-cache.
    assert.equal(await c.net.publish("attestation", data), 0);
  });
});

describe("a node without peers", () => {
  let lone: TestNode | undefined;
  before(async () => {
    lone = await startNode();
  });
  after(async () => {
    await lone?.net.stop();
  });

  it("publishes to nobody without throwing", async () => {
    assert.ok(lone);
    assert.equal(await lone.net.publish("candidate", payload(MARK.accept)), 0);
  });

  it("stops idempotently and refuses to publish afterwards", async () => {
    assert.ok(lone);
    await Promise.all([lone.net.stop(), lone.net.stop()]);
    await lone.net.stop();
    await assert.rejects(lone.net.publish("candidate", payload(MARK.accept)), { name: "NetworkError", code: "STOPPED" });
  });
});
