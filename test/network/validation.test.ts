// GossipValidator without libp2p: what each handler outcome is reported as.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { PeerId } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { GossipActionError } from "../../src/network/errors.ts";
import { GossipValidator, gossipActionOf, gossipMessageId, type GossipHandlers, type GossipVerdict } from "../../src/network/gossip.ts";
import { testLogger } from "./helpers.ts";

const from: PeerId = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));

function validator(
  handler: (data: Uint8Array) => Promise<GossipVerdict>,
  options: { validationTimeoutMs?: number; maxPendingValidations?: number } = {},
): { v: GossipValidator; reports: GossipVerdict[]; calls: () => number } {
  const reports: GossipVerdict[] = [];
  let calls = 0;
  const wrapped = (data: Uint8Array): Promise<GossipVerdict> => {
    calls += 1;
    return handler(data);
  };
  const handlers: GossipHandlers = { candidate: wrapped, verdict: wrapped, attestation: wrapped, approval: wrapped };
  const v = new GossipValidator(
    { maxMessageBytes: 16, validationTimeoutMs: options.validationTimeoutMs ?? 1_000, maxPendingValidations: options.maxPendingValidations ?? 8 },
    { handlers, logger: testLogger(), report: (_id, _from, verdict) => reports.push(verdict) },
  );
  return { v, reports, calls: () => calls };
}

describe("GossipValidator", () => {
  it("reports the handler's verdict", async () => {
    for (const verdict of ["accept", "ignore", "reject"] as const) {
      const { v, reports } = validator(async () => verdict);
      await v.validate("verdict", "id", new Uint8Array(4), from);
      assert.deepEqual(reports, [verdict]);
    }
  });

  it("turns a throwing handler into ignore", async () => {
    const { v, reports } = validator(async () => {
      throw new Error("boom");
    });
    await v.validate("candidate", "id", new Uint8Array(4), from);
    assert.deepEqual(reports, ["ignore"]);
    assert.equal(v.counters().handlerErrors, 1);
  });

  it("reports the action of a GossipActionError the handler throws; not a handler error", async () => {
    for (const action of ["ignore", "reject"] as const) {
      const { v, reports } = validator(async () => {
        throw new GossipActionError(action, "SOME_RULE", "refused");
      });
      await v.validate("verdict", "id", new Uint8Array(4), from);
      assert.deepEqual(reports, [action]);
      assert.equal(v.counters().handlerErrors, 0);
    }
  });

  it("gossipActionOf: an error's own action, else ignore (a local failure costs the sender nothing)", () => {
    assert.equal(gossipActionOf(new GossipActionError("reject", "X", "x")), "reject");
    assert.equal(gossipActionOf(new GossipActionError("ignore", "X", "x")), "ignore");
    assert.equal(gossipActionOf(new Error("boom")), "ignore");
    assert.equal(gossipActionOf("not even an error"), "ignore");
    assert.equal(gossipActionOf(undefined), "ignore");
  });

  it("turns a non-verdict into ignore", async () => {
    const { v, reports } = validator(async () => "yes" as unknown as GossipVerdict);
    await v.validate("candidate", "id", new Uint8Array(4), from);
    assert.deepEqual(reports, ["ignore"]);
  });

  it("turns a slow handler into ignore", async () => {
    const { v, reports } = validator(() => new Promise(() => undefined), { validationTimeoutMs: 20 });
    await v.validate("attestation", "id", new Uint8Array(4), from);
    assert.deepEqual(reports, ["ignore"]);
    assert.equal(v.counters().timeouts, 1);
  });

  it("rejects an oversized message without calling the handler", async () => {
    const { v, reports, calls } = validator(async () => "accept");
    assert.equal(v.precheck("candidate", new Uint8Array(17), from), "reject");
    assert.equal(v.precheck("candidate", new Uint8Array(16), from), undefined);
    await v.validate("candidate", "id", new Uint8Array(17), from);
    assert.deepEqual(reports, ["reject"]);
    assert.equal(calls(), 0);
    assert.equal(v.counters().oversized, 2);
  });

  it("ignores messages beyond maxPendingValidations and counts them", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { v, reports } = validator(async () => {
      await gate;
      return "accept";
    }, { maxPendingValidations: 2 });
    const first = [v.validate("verdict", "1", new Uint8Array(1), from), v.validate("verdict", "2", new Uint8Array(1), from)];
    await v.validate("verdict", "3", new Uint8Array(1), from);
    assert.deepEqual(reports, ["ignore"]);
    assert.equal(v.counters().droppedOverload, 1);
    release();
    await Promise.all(first);
    assert.deepEqual(reports, ["ignore", "accept", "accept"]);
    assert.equal(v.pendingValidations(), 0);
  });
});

describe("gossipMessageId", () => {
  it("depends on content and topic only", () => {
    const data = new TextEncoder().encode("verdict");
    assert.deepEqual(gossipMessageId("/t/a", data), gossipMessageId("/t/a", Uint8Array.from(data)));
    assert.notDeepEqual(gossipMessageId("/t/a", data), gossipMessageId("/t/b", data));
    assert.notDeepEqual(gossipMessageId("/t/a", data), gossipMessageId("/t/a", new Uint8Array([1])));
    assert.equal(gossipMessageId("/t/a", data).byteLength, 32);
  });

  it("cannot be forged by moving bytes between topic and data", () => {
    const enc = new TextEncoder();
    assert.notDeepEqual(gossipMessageId("/t/ab", enc.encode("c")), gossipMessageId("/t/a", enc.encode("bc")));
  });
});
