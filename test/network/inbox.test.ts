// Verdict inboxes: a verdict sent to one validator's inbox reaches the hosts reading that inbox
// and nobody else, goes through the same validation as any verdict, and an invalid one costs its
// sender its score like on any topic.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NetworkError } from "../../src/network/index.ts";
import { MARK, payload, startNode, stopAll, waitFor, type TestNode } from "./helpers.ts";

describe("verdict inboxes (A connected to readers of inboxes 1 and 2, and to an observer)", () => {
  let a: TestNode;
  let one: TestNode;
  let two: TestNode;
  let observer: TestNode;

  before(async () => {
    a = await startNode({ inboxes: 4, noForward: ["verdict"] });
    const bootstrap = [a.address];
    one = await startNode({ bootstrap, inboxes: 4, inbox: 1, noForward: ["verdict"] });
    two = await startNode({ bootstrap, inboxes: 4, inbox: 2, noForward: ["verdict"] });
    observer = await startNode({ bootstrap, inboxes: 4, noForward: ["verdict"] });
    await waitFor(() => a.net.reachesInbox(1) && a.net.reachesInbox(2) && a.net.subscribers("verdict").length === 3, "A to learn the inboxes");
  });
  after(() => stopAll([a, one, two, observer]));

  it("knows which inboxes a connected peer reads", () => {
    assert.equal(a.net.reachesInbox(0), false);
    assert.equal(a.net.reachesInbox(3), false);
  });

  it("delivers a verdict to its inbox's reader only, as a verdict", async () => {
    const verdict = payload(MARK.accept);
    assert.equal(await a.net.sendToInbox(1, verdict), 1);
    await waitFor(() => one.handlers.saw(verdict, "verdict"), "inbox 1 to get the verdict");
    // Ordering proves absence: a later broadcast reaches everyone, the inbox verdict did not.
    const broadcast = payload(MARK.accept);
    assert.equal(await a.net.publish("verdict", broadcast), 3);
    await waitFor(() => two.handlers.saw(broadcast) && observer.handlers.saw(broadcast), "the broadcast to arrive");
    assert.equal(two.handlers.saw(verdict), false);
    assert.equal(observer.handlers.saw(verdict), false);
  });

  it("sends to nobody when no peer reads the inbox", async () => {
    assert.equal(await a.net.sendToInbox(3, payload(MARK.accept)), 0);
  });

  it("refuses an inbox the network does not have", async () => {
    await assert.rejects(a.net.sendToInbox(4, payload(MARK.accept)), (error: unknown) => error instanceof NetworkError && error.code === "PUBLISH_FAILED");
    await assert.rejects(a.net.sendToInbox(-1, payload(MARK.accept)), NetworkError);
  });

  it("penalises the sender of an invalid verdict on an inbox", async () => {
    const bad = payload(MARK.reject);
    await a.net.sendToInbox(2, bad);
    await waitFor(() => two.handlers.saw(bad, "verdict"), "inbox 2 to judge the verdict");
    await waitFor(() => two.net.scoreOf(a.net.peerId) < 0, "A's score at the inbox reader to fall below zero");
  });
});
