// SentinelNetwork's operator-facing wiring, between real hosts on 127.0.0.1: libp2p's metrics in
// the registry it is given, and a warning for a peer of another network id.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, describe, it } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { Hex } from "viem";
import { SentinelNetwork } from "../../src/network/index.ts";
import { MapBundleStore, NETWORK_ID, RecordingHandlers, startNode, stopAll, testLogger, waitFor, type TestNode } from "./helpers.ts";

const OTHER_NETWORK_ID: Hex = "0x0badc0de0000000000000000000000000000000000000000000000000000beef";

describe("a network's operator-facing wiring", () => {
  const started: SentinelNetwork[] = [];
  const nodes: TestNode[] = [];
  after(async () => {
    await Promise.all(started.map((net) => net.stop()));
    await stopAll(nodes);
  });

  it("puts libp2p's own metrics in the registry it is given", async () => {
    const registry = new Registry();
    const net = await SentinelNetwork.create(
      { networkId: NETWORK_ID, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [] },
      { handlers: new RecordingHandlers(), bundles: new MapBundleStore(), logger: testLogger(), metricsRegistry: registry },
    );
    started.push(net);
    const text = await registry.metrics();
    assert.match(text, /^libp2p_\w+/m);
    assert.doesNotMatch(text, /^process_cpu/m, "the node registers the default process metrics itself, once");
  });

  it("warns once about a peer that speaks another network id, naming both prefixes", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "warn" }, new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));
    const ours = await SentinelNetwork.create(
      { networkId: NETWORK_ID, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [] },
      { handlers: new RecordingHandlers(), bundles: new MapBundleStore(), logger },
    );
    started.push(ours);
    const stranger = await startNode({ networkId: OTHER_NETWORK_ID, bootstrap: [ours.multiaddrs()[0]!.toString()] });
    nodes.push(stranger);
    const warned = () => lines.filter((line) => line["msg"] === "a peer speaks another network id: check its networkId and this node's bootstrap list");
    await waitFor(() => warned().length > 0, "the warning about the stranger");
    const [line] = warned();
    assert.equal(line!["peer"], stranger.net.peerId.toString());
    assert.deepEqual(line!["theirNetworkPrefix"], [OTHER_NETWORK_ID.slice(2, 18)]);
    assert.equal(line!["ourNetworkPrefix"], NETWORK_ID.slice(2, 18));
  });
});
