// No candidate lost to a late start, with real libp2p hosts on loopback: a candidate gossiped
// before a node existed reaches it, after it connects, through the recent-candidates protocol
// and the backfill, and is handed to admission exactly as a gossiped one (with the peer it came
// from). A peer asked again too soon answers nothing; an answer above the gossip size limit is
// refused whole; a host that serves nothing answers nothing.
import assert from "node:assert/strict";
import type { PeerId } from "@libp2p/interface";
import { afterEach, describe, it } from "node:test";
import { bytesToHex } from "viem";
import { CandidateBackfill } from "../../src/candidates/backfill.ts";
import { SentinelNetwork, type NetworkOptions, type RecentCandidateSource } from "../../src/network/index.ts";
import { systemClock } from "../../src/util/clock.ts";
import { MapBundleStore, MARK, payload, RecordingHandlers, testLogger, waitFor, NETWORK_ID } from "./helpers.ts";

/** A source that keeps what its host accepted from gossip, newest first: the node's RecentCandidates in miniature. */
class AcceptedCandidates extends RecordingHandlers implements RecentCandidateSource {
  readonly kept: Uint8Array[] = [];
  override async candidate(data: Uint8Array, from: PeerId) {
    const verdict = await super.candidate(data, from);
    if (verdict === "accept") this.kept.unshift(data);
    return verdict;
  }
  async recent(limit: number): Promise<Uint8Array[]> {
    return this.kept.slice(0, limit);
  }
}

interface Host {
  net: SentinelNetwork;
  handlers: AcceptedCandidates;
  address: string;
  admitted: { payload: string; from: string }[];
  backfill: CandidateBackfill;
}

async function host(options: Partial<NetworkOptions> = {}, recent?: RecentCandidateSource): Promise<Host> {
  const handlers = new AcceptedCandidates();
  const admitted: Host["admitted"] = [];
  let net: SentinelNetwork | undefined;
  const backfill = new CandidateBackfill(
    { delayMs: 200, minIntervalMs: 60_000 },
    {
      fetch: (peer) => net!.fetchRecentCandidates(net!.peers().find((p) => p.toString() === peer)!),
      // Intake.fromGossip's place: what a real node does with each payload.
      admit: async (bytes, from) => {
        admitted.push({ payload: bytesToHex(bytes), from });
        return handlers.candidate(bytes, net!.peers().find((p) => p.toString() === from)!);
      },
      clock: systemClock,
      logger: testLogger(),
    },
  );
  net = await SentinelNetwork.create(
    { networkId: NETWORK_ID, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [], ...options },
    { handlers, bundles: new MapBundleStore(), logger: testLogger(), recentCandidates: recent ?? handlers, onPeerConnected: (peer) => backfill.connected(peer.toString()) },
  );
  return { net, handlers, address: net.multiaddrs()[0]!.toString(), admitted, backfill };
}

describe("recent candidates after a (re)connection", () => {
  const hosts: Host[] = [];
  afterEach(async () => {
    for (const h of hosts.splice(0)) {
      await h.backfill.stop();
      await h.net.stop();
    }
  });

  it("a node started after a candidate was gossiped still gets it, through admission, from the peer that had it", async () => {
    const a = await host();
    hosts.push(a);
    const bDialsA = await host({ bootstrap: [a.address] });
    hosts.push(bDialsA);
    // a and bDialsA form a network; the candidate is gossiped there.
    await waitFor(() => a.net.subscribers("candidate").length > 0, "a sees a subscriber");
    const candidate = payload(MARK.accept, 200);
    assert.ok((await a.net.publish("candidate", candidate)) >= 1);
    await waitFor(() => bDialsA.handlers.saw(candidate, "candidate"), "gossip delivered");

    // The late node: never on the topic when the candidate was published.
    const late = await host({ bootstrap: [bDialsA.address] });
    hosts.push(late);
    await waitFor(() => late.backfill.stats.admitted === 1, "the backfill admitted it", 10_000);
    assert.equal(late.admitted[0]!.payload, bytesToHex(candidate));
    assert.equal(late.admitted[0]!.from, bDialsA.net.peerId.toString(), "the bundle is asked of the peer that had it");
    assert.ok(late.handlers.saw(candidate, "candidate"), "handed to the same handler as gossip");
    assert.equal(late.admitted.length, 1);
    assert.equal(bDialsA.net.recentServed.served >= 1, true);
  });

  it("answers a peer asking again too soon with nothing, and counts it", async () => {
    const server = await host();
    hosts.push(server);
    const candidate = payload(MARK.accept, 100);
    server.handlers.kept.push(candidate);
    const client = await host({ bootstrap: [server.address] });
    hosts.push(client);
    await waitFor(() => client.admitted.length === 1, "the first answer");
    const peer = client.net.peers().find((p) => p.equals(server.net.peerId))!;
    assert.deepEqual(await client.net.fetchRecentCandidates(peer), []);
    assert.equal(server.net.recentServed.throttled, 1);
  });

  it("refuses an answer above the gossip size limit whole, and admits nothing of it", async () => {
    const server = await host({ maxMessageBytes: 256 * 1024 });
    hosts.push(server);
    const big = new Uint8Array(100 * 1024).fill(7);
    big[0] = MARK.accept;
    server.handlers.kept.push(payload(MARK.accept, 100), big);
    const client = await host({ bootstrap: [server.address], maxMessageBytes: 64 * 1024 });
    hosts.push(client);
    await waitFor(() => client.backfill.stats.failures === 1, "the oversized answer refused");
    assert.equal(client.admitted.length, 0);
  });

  it("refused candidates are counted, and a host with nothing to serve answers nothing", async () => {
    const server = await host();
    hosts.push(server);
    server.handlers.kept.push(payload(MARK.reject, 64), payload(MARK.accept, 64));
    const empty = await host({}, { recent: async () => [] });
    hosts.push(empty);
    const client = await host({ bootstrap: [server.address, empty.address] });
    hosts.push(client);
    await waitFor(() => client.backfill.stats.requests === 2 && client.admitted.length === 2, "both asked");
    await waitFor(() => client.backfill.stats.refused === 1 && client.backfill.stats.admitted === 1, "counted");
  });
});
