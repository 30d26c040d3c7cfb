// The API's refusal budget: the token bucket and its keys (pure, a hand-driven clock), then over
// real loopback connections from two addresses (127.0.0.1, an honest client; 127.0.0.2, one
// sending malformed requests): the second is answered 429 with Retry-After once its budget is
// spent, on new connections and on kept-alive ones, while the first is served as before, and it
// is served again once the budget has refilled.
import assert from "node:assert/strict";
import { Agent } from "node:http";
import { after, before, describe, it } from "node:test";
import { chargeable, RefusalBudget, sourceOf } from "../../src/api/refusalBudget.ts";
import { startApiNode, submission, type ApiNode } from "../helpers/apiNode.ts";
import { httpRequest, rawRequest } from "../helpers/rawHttp.ts";

function clockAt(start: number) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

describe("RefusalBudget", () => {
  it("a source may be refused `refusals` times, then waits for one refusal's worth of refill", () => {
    const clock = clockAt(1_000_000);
    const over: string[] = [];
    const budget = new RefusalBudget({ refusals: 3, perSeconds: 30 }, { clock, onOver: (source) => over.push(source) });
    for (let i = 0; i < 2; i++) budget.charge("10.0.0.1");
    assert.equal(budget.retryAfter("10.0.0.1"), 0);
    budget.charge("10.0.0.1");
    assert.equal(budget.retryAfter("10.0.0.1"), 10, "one refusal refills in 30 s / 3");
    assert.equal(budget.retryAfter("10.0.0.2"), 0, "another address is not touched");
    assert.deepEqual(over, ["10.0.0.1"]);
    clock.t += 9_500;
    assert.equal(budget.retryAfter("10.0.0.1"), 1);
    clock.t += 500;
    assert.equal(budget.retryAfter("10.0.0.1"), 0);
    budget.charge("10.0.0.1");
    assert.deepEqual(over, ["10.0.0.1"], "still the same episode: logged once");
    clock.t += 30_000;
    budget.charge("10.0.0.1"); // refilled in full: the episode ended, this is a fresh budget
    assert.equal(budget.retryAfter("10.0.0.1"), 0);
    assert.deepEqual(budget.stats, { charged: 5, shed: 0, sourcesOver: 1 });
  });

  it("never holds more than maxSources; the least recently seen is forgotten first", () => {
    const clock = clockAt(0);
    const budget = new RefusalBudget({ refusals: 1, perSeconds: 60, maxSources: 3 }, { clock });
    for (const address of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) budget.charge(address);
    budget.charge("10.0.0.1"); // seen again: now the most recent
    budget.charge("10.0.0.4");
    assert.equal(budget.size, 3);
    assert.equal(budget.retryAfter("10.0.0.2"), 0, "forgotten");
    assert.ok(budget.retryAfter("10.0.0.1") > 0);
    assert.ok(budget.retryAfter("10.0.0.4") > 0);
  });

  it("keys: IPv4, IPv4-mapped IPv6 as IPv4, IPv6 by /64, nothing for what is not an address", () => {
    assert.equal(sourceOf("192.0.2.7"), "192.0.2.7");
    assert.equal(sourceOf("::ffff:192.0.2.7"), "192.0.2.7");
    assert.equal(sourceOf("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
    assert.equal(sourceOf("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
    assert.equal(sourceOf("2001:db8::1"), "2001:db8:0:0::/64");
    assert.equal(sourceOf("fe80::1%eth0"), "fe80:0:0:0::/64");
    assert.equal(sourceOf("1::3:4:5:6:1.2.3.4"), "1:0:3:4::/64", "a dotted tail is two groups");
    assert.equal(sourceOf("::1"), "0:0:0:0::/64");
    assert.equal(sourceOf(undefined), undefined);
    assert.equal(sourceOf("not an address"), undefined);
    const budget = new RefusalBudget({ refusals: 1, perSeconds: 60 }, { clock: clockAt(0) });
    budget.charge("2001:db8:1:2::1");
    assert.ok(budget.retryAfter("2001:db8:1:2::ffff") > 0, "one /64 shares a budget");
    assert.equal(budget.retryAfter("2001:db8:1:3::1"), 0);
    budget.charge(undefined);
    assert.equal(budget.stats.charged, 1, "an unknown address is never charged");
  });

  it("charges malformed requests, not a resource not there yet, a conflict, its own 429, or success", () => {
    for (const status of [400, 403, 405, 408, 413, 414, 415, 431]) assert.equal(chargeable(status, false), true, String(status));
    assert.equal(chargeable(404, true), true, "an unknown route");
    assert.equal(chargeable(404, false), false, "a candidate not there yet: relayers poll");
    for (const status of [200, 202, 409, 429, 500, 503]) assert.equal(chargeable(status, false), false, String(status));
  });

  it("refuses a budget that could never serve anyone", () => {
    assert.throws(() => new RefusalBudget({ refusals: 0, perSeconds: 60 }, { clock: clockAt(0) }), RangeError);
    assert.throws(() => new RefusalBudget({ refusals: 5, perSeconds: 0 }, { clock: clockAt(0) }), RangeError);
  });
});

describe("the refusal budget on a real server", () => {
  const ABUSER = "127.0.0.2";
  const REFUSALS = 10;
  let node: ApiNode;
  let budget: RefusalBudget;
  let candidate: `0x${string}`;
  before(async () => {
    budget = new RefusalBudget({ refusals: REFUSALS, perSeconds: 2 }, { clock: { now: () => Date.now() } });
    node = await startApiNode({ enrolled: "proposer", server: { refusalBudget: budget } });
    const { body, id } = await submission(node.proposer, 1n);
    const admitted = await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    assert.equal(admitted.status, 202);
    candidate = id;
  });
  after(() => node.close());

  it("an address over its budget gets 429 with Retry-After, on new and kept-alive connections; another address is served", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const bad = () => httpRequest(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: "{", agent, localAddress: ABUSER, timeoutMs: 5_000 });
      // A candidate not there yet is not charged: a relayer polling for it is never shed.
      for (let i = 0; i < 3 * REFUSALS; i++) {
        assert.equal(await httpRequest(`${node.url}/v1/attestations/0x${"ab".repeat(32)}`, { method: "GET", agent, localAddress: ABUSER, timeoutMs: 5_000 }), 404);
      }
      const statuses: number[] = [];
      for (let i = 0; i < REFUSALS + 5; i++) statuses.push(await bad());
      assert.deepEqual(statuses, [...Array<number>(REFUSALS).fill(400), ...Array<number>(5).fill(429)], "the 11th on the kept-alive connection is shed");
      // Not HTTP at all: parsed, it would be a 400; shed as the connection is accepted, it is never read.
      const fresh = await rawRequest(node.url, "\u0000\u0001 not http\r\n\r\n", { localAddress: ABUSER });
      assert.equal(fresh.status, 429, "a new connection is answered as it is accepted");
      assert.equal(fresh.headers["retry-after"], "1");
      assert.equal(fresh.headers["connection"], "close");
      assert.deepEqual(JSON.parse(fresh.body), { error: "RATE_LIMITED", message: "this address sent too many malformed requests; retry after 1 s" });
      // Valid requests from the same address are shed too: the budget is the address's.
      assert.equal((await rawRequest(node.url, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", { localAddress: ABUSER })).status, 429);

      // The honest address: its answers, including its own mistakes, are what they always were.
      assert.equal((await fetch(`${node.url}/health`)).status, 200);
      assert.equal((await fetch(`${node.url}/v1/candidates/${candidate}`)).status, 200);
      const mistake = await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
      assert.equal(mistake.status, 400);
      assert.equal(((await mistake.json()) as { error: string }).error, "BAD_JSON");
      assert.equal(await node.storedCount(), 1, "nothing more stored");
      assert.ok(budget.stats.shed >= 7, JSON.stringify(budget.stats));

      // Refilled (2 s for the whole budget, 0.2 s for one refusal): served again.
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(await bad(), 400, "refilled: answered in full again");
    } finally {
      agent.destroy();
    }
  });
});
