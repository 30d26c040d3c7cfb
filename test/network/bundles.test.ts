// The bundle request/response protocol between real hosts: an honest server, a server whose
// store answers with the wrong bytes, and a client connected to both.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { keccak256, type Hex } from "viem";
import { BundleFetchError, type BundleFetchErrorCode } from "../../src/network/index.ts";
import { includesPeer, startNode, stopAll, waitFor, type TestNode } from "./helpers.ts";

function bytes(size: number, fill: number): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

async function rejectsWith(promise: Promise<unknown>, code: BundleFetchErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BundleFetchError, `expected a BundleFetchError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe("bundle protocol", () => {
  let honest: TestNode | undefined;
  let liar: TestNode | undefined;
  let client: TestNode | undefined;
  const bundle = bytes(1_500_000, 0x5a); // several yamux windows: exercises flow control
  const tiny = bytes(1_000, 0x11);
  const tinyHash = keccak256(tiny);
  const hash = keccak256(bundle);
  const big = bytes(100_000, 0x7b); // above the client's 64 KiB limit
  const bigHash = keccak256(big);
  const brokenHash = keccak256(bytes(1, 0x01));

  const nodes = (): { honest: TestNode; liar: TestNode; client: TestNode } => {
    assert.ok(honest && liar && client, "nodes not started");
    return { honest, liar, client };
  };

  before(async () => {
    [honest, liar] = await Promise.all([startNode(), startNode()]);
    honest.bundles.bundles.set(hash, bundle);
    honest.bundles.bundles.set(bigHash, big);
    honest.bundles.bundles.set(tinyHash, tiny);
    honest.bundles.failing.add(brokenHash);
    // The liar answers the same hash with other bytes of the same length.
    liar.bundles.bundles.set(hash, bytes(bundle.byteLength, 0x00));
    client = await startNode({ bootstrap: [honest.address, liar.address], maxBundleBytes: 2 * 1024 * 1024 });
    const { honest: h, liar: l, client: c } = nodes();
    await waitFor(() => includesPeer(c.net.peers(), h.net.peerId) && includesPeer(c.net.peers(), l.net.peerId), "client connected to both servers");
  });

  after(async () => {
    await stopAll([honest, liar, client]);
  });

  it("returns a bundle by its keccak256 hash", async () => {
    const { honest, client } = nodes();
    const fetched = await client.net.fetchBundle(honest.net.peerId, hash);
    assert.deepEqual(fetched, bundle);
    // Upper-case hex names the same bundle.
    const upper = `0x${hash.slice(2).toUpperCase()}` as Hex;
    assert.deepEqual(await client.net.fetchBundle(honest.net.peerId, upper), bundle);
  });

  it("throws HASH_MISMATCH when a peer serves other bytes for the hash", async () => {
    const { liar, client } = nodes();
    await rejectsWith(client.net.fetchBundle(liar.net.peerId, hash), "HASH_MISMATCH");
  });

  it("throws NOT_FOUND for a bundle the peer does not hold", async () => {
    const { liar, client } = nodes();
    await rejectsWith(client.net.fetchBundle(liar.net.peerId, keccak256(bytes(3, 0x03))), "NOT_FOUND");
  });

  it("throws TOO_LARGE for a response above maxBundleBytes", async () => {
    const { honest, client } = nodes();
    // A client that accepts only 64 KiB, asking for a 100 KB bundle.
    const small = await startNode({ bootstrap: [honest.address], maxBundleBytes: 64 * 1024 });
    try {
      await waitFor(() => includesPeer(small.net.peers(), honest.net.peerId), "small client connected");
      await rejectsWith(small.net.fetchBundle(honest.net.peerId, bigHash), "TOO_LARGE");
      // What fits still arrives over the same connection; a client with a larger limit gets the big one.
      assert.deepEqual(await small.net.fetchBundle(honest.net.peerId, tinyHash), tiny);
      assert.deepEqual(await client.net.fetchBundle(honest.net.peerId, bigHash), big);
    } finally {
      await small.net.stop();
    }
  });

  it("throws UNAVAILABLE when the peer's store fails", async () => {
    const { honest, client } = nodes();
    await rejectsWith(client.net.fetchBundle(honest.net.peerId, brokenHash), "UNAVAILABLE");
  });

  it("throws INVALID_HASH for a malformed hash without dialling", async () => {
    const { honest, client } = nodes();
    await rejectsWith(client.net.fetchBundle(honest.net.peerId, "0x1234"), "INVALID_HASH");
  });
});
