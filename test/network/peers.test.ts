// Staying connected to bootstrap peers, between real hosts on 127.0.0.1.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { NetworkError } from "../../src/network/index.ts";
import { includesPeer, startNode, stopAll, waitFor, type TestNode } from "./helpers.ts";

function portOf(address: string): number {
  const port = /\/tcp\/(\d+)\//.exec(address)?.[1];
  assert.ok(port !== undefined, `no tcp port in ${address}`);
  return Number(port);
}

describe("bootstrap peers", () => {
  const started: TestNode[] = [];
  after(async () => {
    await stopAll(started);
  });

  it("re-dials a bootstrap peer that restarts; a node skips itself in a shared list", async () => {
    const yKey = await generateKeyPair("Ed25519");
    const y1 = await startNode({ privateKey: yKey });
    started.push(y1);
    const yAddress = y1.address;
    const x = await startNode({ bootstrap: [yAddress], redialIntervalMs: 200 });
    started.push(x);
    await waitFor(() => includesPeer(x.net.peers(), y1.net.peerId), "X connected to Y");

    await y1.net.stop();
    await waitFor(() => x.net.peers().length === 0, "X to see Y gone");

    // Y comes back with the same identity and port; its bootstrap list names only itself.
    const y2 = await startNode({ privateKey: yKey, listen: [`/ip4/127.0.0.1/tcp/${portOf(yAddress)}`], bootstrap: [yAddress] });
    started.push(y2);
    assert.ok(y2.net.peerId.equals(y1.net.peerId));
    await waitFor(() => includesPeer(x.net.peers(), y2.net.peerId), "X to re-dial Y", 10_000);
    assert.ok(!includesPeer(y2.net.peers(), y2.net.peerId), "Y never connects to itself");
  });

  it("fails to start with START_FAILED when the listen port is taken", async () => {
    const holder = await startNode();
    started.push(holder);
    await assert.rejects(startNode({ listen: [`/ip4/127.0.0.1/tcp/${portOf(holder.address)}`] }), (err: unknown) => {
      assert.ok(err instanceof NetworkError);
      assert.equal(err.code, "START_FAILED");
      return true;
    });
  });
});
