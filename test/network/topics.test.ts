import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateKeyPair } from "@libp2p/crypto/keys";
import {
  NetworkError,
  bundleProtocolFor,
  defaultNetworkOptions,
  inboxTopic,
  kindOfTopic,
  resolveNetworkOptions,
  topicsFor,
} from "../../src/network/index.ts";

const ID = "0x0123456789ABCDEF00112233445566778899aabbccddeeff0011223344556677";
const PEER = "12D3KooWGRUVh7dRc3RSRt6kscBnPTxiCCCdKFRtpGCoLsMvrQ6J";

function invalidOption(fn: () => unknown, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof NetworkError);
    assert.equal(err.code, "INVALID_OPTIONS");
    assert.equal(err.meta["field"], field);
    return true;
  });
}

describe("topics", () => {
  it("are versioned under the first 8 bytes of the network id, lowercase", () => {
    assert.deepEqual(topicsFor(ID), {
      candidate: "/sentinel/0123456789abcdef/1/candidates",
      verdict: "/sentinel/0123456789abcdef/1/verdicts",
      attestation: "/sentinel/0123456789abcdef/1/attestations",
      approval: "/sentinel/0123456789abcdef/1/approvals",
    });
    assert.equal(bundleProtocolFor(ID), "/sentinel/0123456789abcdef/bundle/1");
  });

  it("map back to their kind, and other topics to none", () => {
    const topics = topicsFor(ID);
    assert.equal(kindOfTopic(topics, topics.verdict), "verdict");
    assert.equal(kindOfTopic(topics, "/sentinel/ffffffffffffffff/1/verdicts"), undefined);
  });

  it("give each validator a verdict inbox, which carries verdicts", () => {
    const topics = topicsFor(ID);
    assert.equal(inboxTopic(topics, 7), "/sentinel/0123456789abcdef/1/verdicts/to/7");
    assert.equal(kindOfTopic(topics, inboxTopic(topics, 0)), "verdict");
    assert.equal(kindOfTopic(topics, inboxTopic(topics, 217)), "verdict");
    for (const other of ["/to/", "/to/x", "/to/01", "/to/-1", "/to/1/", "/to/12345", "/to/1.5"]) {
      assert.equal(kindOfTopic(topics, `${topics.verdict}${other}`), undefined, other);
    }
    assert.equal(kindOfTopic(topics, inboxTopic(topicsFor(`0x1${ID.slice(3)}`), 0)), undefined, "another network's inbox");
  });

  it("differ between networks", () => {
    const other = `0x1${ID.slice(3)}` as const;
    assert.notEqual(topicsFor(other).candidate, topicsFor(ID).candidate);
  });

  it("refuse a malformed network id", () => {
    assert.throws(() => topicsFor("0x1234"), { name: "NetworkError", code: "INVALID_OPTIONS" });
  });
});

describe("resolveNetworkOptions", () => {
  const base = { networkId: ID, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [`/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`] } as const;

  it("applies the defaults and parses the addresses", () => {
    const resolved = resolveNetworkOptions({ ...base, listen: [...base.listen], bootstrap: [...base.bootstrap] });
    assert.equal(resolved.maxMessageBytes, 1024 * 1024);
    assert.equal(resolved.maxBundleBytes, 4 * 1024 * 1024);
    assert.equal(resolved.validationTimeoutMs, defaultNetworkOptions.validationTimeoutMs);
    assert.equal(resolved.bootstrap[0]?.peerId, PEER);
    assert.equal(resolved.privateKey, undefined);
  });

  it("refuses bad values, naming the field", () => {
    invalidOption(() => resolveNetworkOptions({ ...base, listen: [], bootstrap: [] }), "listen");
    invalidOption(() => resolveNetworkOptions({ ...base, networkId: "0xabc", listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [] }), "networkId");
    invalidOption(() => resolveNetworkOptions({ ...base, listen: ["not a multiaddr"], bootstrap: [] }), "listen");
    invalidOption(() => resolveNetworkOptions({ ...base, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: ["/ip4/127.0.0.1/tcp/4001"] }), "bootstrap");
    invalidOption(() => resolveNetworkOptions({ ...base, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [], maxMessageBytes: 0 }), "maxMessageBytes");
    invalidOption(
      () => resolveNetworkOptions({ ...base, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [], maxMessageBytes: 8 * 1024 * 1024 }),
      "maxMessageBytes",
    );
    const plain = { ...base, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [] };
    invalidOption(() => resolveNetworkOptions({ ...plain, inboxes: -1 }), "inboxes");
    invalidOption(() => resolveNetworkOptions({ ...plain, inboxes: 1.5 }), "inboxes");
    invalidOption(() => resolveNetworkOptions({ ...plain, inboxes: 1025 }), "inboxes");
    invalidOption(() => resolveNetworkOptions({ ...plain, inboxes: 4, inbox: 4 }), "inbox");
    invalidOption(() => resolveNetworkOptions({ ...plain, inbox: 0 }), "inbox");
    assert.equal(resolveNetworkOptions({ ...plain, inboxes: 4, inbox: 3 }).inbox, 3);
  });

  it("accepts an Ed25519 identity and refuses any other key type", async () => {
    const ed25519 = await generateKeyPair("Ed25519");
    assert.equal(resolveNetworkOptions({ ...base, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [], privateKey: ed25519 }).privateKey, ed25519);
    const secp = await generateKeyPair("secp256k1");
    invalidOption(() => resolveNetworkOptions({ ...base, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [], privateKey: secp }), "privateKey");
  });
});
