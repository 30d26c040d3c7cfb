// A no-forward kind is processed where it arrives and never relayed: in a line A - B - C, B
// handles A's verdict but C never sees it, while an ordinary candidate still reaches C.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MARK, payload, startNode, stopAll, waitFor, type TestNode } from "./helpers.ts";

describe("no-forward gossip kinds", () => {
  let a: TestNode;
  let b: TestNode;
  let c: TestNode;

  before(async () => {
    b = await startNode({ noForward: ["verdict"] });
    a = await startNode({ bootstrap: [b.address], noForward: ["verdict"] });
    c = await startNode({ bootstrap: [b.address], noForward: ["verdict"] });
    await waitFor(
      () => a.net.subscribers("verdict").length > 0 && c.net.subscribers("candidate").length > 0 && b.net.meshPeers("candidate").length >= 2,
      "the line to form",
    );
  });
  after(() => stopAll([a, b, c]));

  it("delivers a verdict to the publisher's peers and stops there; a candidate travels on", async () => {
    const verdict = payload(MARK.accept);
    await a.net.publish("verdict", verdict);
    await waitFor(() => b.handlers.saw(verdict, "verdict"), "B to process the verdict");
    // Ordering proves absence: a later candidate through B reaches C, the verdict never did.
    const candidate = payload(MARK.accept);
    await a.net.publish("candidate", candidate);
    await waitFor(() => c.handlers.saw(candidate, "candidate"), "C to get the forwarded candidate");
    assert.equal(c.handlers.saw(verdict), false);
    assert.equal(b.net.counters().accepted >= 2, true, "B counts the verdict as accepted, not ignored");
  });
});
