// The client against a loopback HTTP server playing a node: answers mapped to coded errors, the
// event stream's reconnects resuming with Last-Event-ID, waitForDecision's progress and timeout.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { ClientError, SentinelClient, type NodeEvent, type Progress } from "../../src/client/index.ts";

const ID = `0x${"ab".repeat(32)}` as const;
const DIGEST = `0x${"cd".repeat(32)}` as const;

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

async function node(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const { url, server } = await serve(handler);
  servers.push(server);
  return url;
}

function attestation(outcome = 1) {
  return { candidateId: ID, digest: DIGEST, encoded: `0x${"00".repeat(554)}`, setIndex: 0, signers: [0, 1, 2], outcome, chainId: "31337", target: `0x${"11".repeat(20)}`, codehash: DIGEST };
}

function status(stage: number) {
  const pending = { pending: true, state: "relaying", dispatches: 0, lastError: null, nextAt: 0 };
  const relay: Record<string, unknown> =
    stage < 2
      ? { "31337": null, "31338": null }
      : stage === 2
        ? { "31337": pending, "31338": pending }
        : stage === 3
        ? { "31337": { pending: true, state: "relaying", dispatches: 1, lastError: "RPC down", nextAt: 0 }, "31338": { status: "submitted", txHash: DIGEST, final: true } }
        : { "31337": { status: "already-recorded", final: true }, "31338": { status: "submitted", txHash: DIGEST, final: true } };
  return {
    candidateId: ID,
    verification: stage >= 1 ? { outcome: 1 } : null,
    signedDigest: stage >= 1 ? DIGEST : null,
    attestation: stage >= 2 ? attestation() : null,
    relay,
  };
}

describe("SentinelClient requests", () => {
  it("submit: 202 admitted, 200 duplicate; the proposer is sent", async () => {
    const bodies: unknown[] = [];
    const url = await node(async (request, response) => {
      let text = "";
      for await (const chunk of request) text += chunk;
      bodies.push(JSON.parse(text));
      json(response, bodies.length === 1 ? 202 : 200, { candidateId: ID, status: "admitted" });
    });
    const client = new SentinelClient({ url: `${url}/` });
    const submission = { candidate: { chainId: "1" }, signature: "0x01" as const, proposer: `0x${"22".repeat(20)}` as const };
    assert.deepEqual(await client.submit(submission), { candidateId: ID, duplicate: false });
    assert.deepEqual(await client.submit(submission), { candidateId: ID, duplicate: true });
    assert.deepEqual(bodies[0], submission);
  });

  it("a refusal is REFUSED with the API's code; 5xx and a closed port are NODE_UNAVAILABLE; 404 is undefined", async () => {
    const url = await node((request, response) => {
      if (request.url?.startsWith("/v1/candidates/")) return json(response, 404, { error: "NOT_FOUND", message: "no such candidate" });
      if (request.url?.startsWith("/v1/attestations/")) return json(response, 503, { error: "CHAIN_UNAVAILABLE", message: "try again" });
      json(response, 403, { error: "NOT_ENROLLED", message: "the proposer is not enrolled" });
    });
    const client = new SentinelClient({ url });
    await assert.rejects(client.submit({ candidate: {}, signature: "0x01" }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, "REFUSED");
      assert.equal(error.meta.apiCode, "NOT_ENROLLED");
      assert.equal(error.meta.status, 403);
      return true;
    });
    assert.equal(await client.status(ID), undefined);
    await assert.rejects(client.attestation(ID), { code: "NODE_UNAVAILABLE" });
    await assert.rejects(new SentinelClient({ url: "http://127.0.0.1:9" }).status(ID), { code: "NODE_UNAVAILABLE" });
    assert.throws(() => new SentinelClient({ url: "not a url" }), { code: "INVALID_ARGUMENT" });
    await assert.rejects(client.status("0x12" as never), { code: "INVALID_ARGUMENT" });
  });

  it("429 (this address over the node's refusal budget) is NODE_UNAVAILABLE, never REFUSED: nothing was decided", async () => {
    const url = await node((_request, response) => {
      response.setHeader("retry-after", "3");
      json(response, 429, { error: "RATE_LIMITED", message: "this address sent too many malformed requests; retry after 3 s" });
    });
    await assert.rejects(new SentinelClient({ url }).submit({ candidate: {}, signature: "0x01" }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, "NODE_UNAVAILABLE");
      assert.equal(error.meta.apiCode, "RATE_LIMITED");
      assert.match(error.message, /retry after 3 s \(try again, or another node\)/);
      return true;
    });
  });

  it("a node that does not answer in time: CLIENT_TIMEOUT", async () => {
    const url = await node(() => {});
    await assert.rejects(new SentinelClient({ url, timeoutMs: 100 }).status(ID), { code: "CLIENT_TIMEOUT" });
  });

  it("an answer that is not a status: BAD_RESPONSE", async () => {
    const url = await node((_, response) => json(response, 200, { hello: "world" }));
    await assert.rejects(new SentinelClient({ url }).status(ID), { code: "BAD_RESPONSE" });
  });
});

describe("SentinelClient.waitForDecision", () => {
  it("reports each step once, in order, and resolves when every chain's relay is done", async () => {
    let reads = 0;
    const url = await node((_, response) => {
      reads++;
      json(response, 200, status(Math.min(reads - 1, 4)));
    });
    const steps: Progress[] = [];
    const decision = await new SentinelClient({ url }).waitForDecision(ID, { pollMs: 5, onProgress: (step) => steps.push(step) });
    assert.deepEqual(
      steps.map((s) => (s.step === "relay" ? `relay ${s.chainId} ${"pending" in s.result ? "pending" : s.result.status}` : s.step)),
      ["admitted", "verified", "signed", "attestation", "relay 31337 pending", "relay 31338 pending", "relay 31337 pending", "relay 31338 submitted", "relay 31337 already-recorded"],
    );
    assert.equal(decision.outcome, "approve");
    assert.equal(decision.recordedEverywhere, true);
    assert.deepEqual(Object.keys(decision.chains).sort(), ["31337", "31338"]);
    assert.deepEqual(decision.notRelayed, []);
  });

  it("a chain without a relay once the attestation exists is one the node does not relay to: named, not waited for", async () => {
    const url = await node((_, response) => json(response, 200, { ...status(4), relay: { "31337": null, "31338": { status: "submitted", txHash: DIGEST, final: true } } }));
    const decision = await new SentinelClient({ url }).waitForDecision(ID, { pollMs: 5, timeoutMs: 2_000 });
    assert.deepEqual(decision.notRelayed, ["31337"]);
    assert.deepEqual(Object.keys(decision.chains), ["31338"]);
  });

  it("a chain that refused the attestation for good: resolved, not recorded everywhere", async () => {
    const url = await node((_, response) =>
      json(response, 200, { ...status(4), relay: { "31337": { status: "failed", code: "RELAY_REVERTED", error: "StaleVerdict", final: false } } }),
    );
    const decision = await new SentinelClient({ url }).waitForDecision(ID, { pollMs: 5 });
    assert.equal(decision.recordedEverywhere, false);
  });

  it("no decision in time: CLIENT_TIMEOUT naming the last step; an unreachable node: NODE_UNAVAILABLE", async () => {
    const url = await node((_, response) => json(response, 200, status(1)));
    await assert.rejects(new SentinelClient({ url }).waitForDecision(ID, { pollMs: 5, timeoutMs: 100 }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, "CLIENT_TIMEOUT");
      assert.match(error.message, /last step: the node signed verdict/);
      return true;
    });
    await assert.rejects(new SentinelClient({ url: "http://127.0.0.1:9" }).waitForDecision(ID, { pollMs: 5, timeoutMs: 100 }), { code: "NODE_UNAVAILABLE" });
  });

  it("an aborted wait: ABORTED", async () => {
    const url = await node((_, response) => json(response, 200, status(0)));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(new SentinelClient({ url }).waitForDecision(ID, { pollMs: 5, signal: controller.signal }), { code: "ABORTED" });
  });
});

describe("SentinelClient.subscribe", () => {
  it("reconnects after the stream drops and resumes with Last-Event-ID: no event lost, none repeated", async () => {
    const sent: { lastEventId: string | undefined; query: string }[] = [];
    const url = await node((request, response) => {
      const lastEventId = request.headers["last-event-id"] as string | undefined;
      sent.push({ lastEventId, query: request.url ?? "" });
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write("retry: 20\n\n");
      const from = Number(lastEventId ?? 0) + 1;
      // Two events per connection, the second split across writes, then the connection drops;
      // the first connection also repeats an old event, which must not be delivered twice.
      const frame = (id: number) => `id: ${id}\nevent: relay.result\ndata: ${JSON.stringify({ id, type: "relay.result", at: 0, candidateId: ID, data: {} })}\n\n`;
      if (from > 1) response.write(frame(from - 1));
      response.write(frame(from));
      const second = frame(from + 1);
      response.write(second.slice(0, 10));
      setTimeout(() => {
        response.write(second.slice(10));
        setTimeout(() => response.destroy(), 5);
      }, 5);
    });
    const received: NodeEvent[] = [];
    const errors: string[] = [];
    const subscription = new SentinelClient({ url }).subscribe({ types: ["relay.result"], candidateId: ID, targets: [`0x${"11".repeat(20)}`, `0x${"22".repeat(20)}`], chainId: 31337n, onError: (e) => errors.push(e.code) }, (event) => received.push(event));
    const deadline = Date.now() + 5_000;
    while (received.length < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    subscription.close();
    assert.deepEqual(
      received.slice(0, 6).map((e) => e.id),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(subscription.lastEventId >= 6, true);
    assert.deepEqual(sent.slice(0, 3).map((s) => s.lastEventId), ["0", "2", "4"]);
    assert.match(sent[0]!.query, /types=relay\.result/);
    assert.match(sent[0]!.query, new RegExp(`candidateId=${ID}`));
    assert.match(sent[0]!.query, new RegExp(`target=0x${"11".repeat(20)}%2C0x${"22".repeat(20)}&chainId=31337`));
    assert.ok(errors.every((code) => code === "NODE_UNAVAILABLE"), errors.join());
  });

  it("a 429 on the event stream: reconnects after Retry-After, not sooner, and does not stop", async () => {
    const at: number[] = [];
    const url = await node((_request, response) => {
      at.push(Date.now());
      if (at.length === 1) {
        response.setHeader("retry-after", "1");
        return json(response, 429, { error: "RATE_LIMITED", message: "retry after 1 s" });
      }
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(`id: 1\nevent: candidate.admitted\ndata: ${JSON.stringify({ id: 1, type: "candidate.admitted", at: 0, candidateId: ID, data: {} })}\n\n`);
    });
    const errors: ClientError[] = [];
    const events: NodeEvent[] = [];
    const subscription = new SentinelClient({ url }).subscribe({ onError: (e) => errors.push(e) }, (event) => events.push(event));
    const deadline = Date.now() + 5_000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    subscription.close();
    assert.equal(events.length, 1, "it came back");
    assert.equal(errors[0]?.code, "NODE_UNAVAILABLE");
    assert.ok(at[1]! - at[0]! >= 950, `waited ${at[1]! - at[0]!} ms`);
  });

  it("starts from lastEventId; a 400 stops it with REFUSED instead of reconnecting forever", async () => {
    let connections = 0;
    let header: string | undefined;
    const url = await node((request, response) => {
      connections++;
      header = request.headers["last-event-id"] as string | undefined;
      json(response, 400, { error: "BAD_QUERY", message: "types must be …" });
    });
    const errors: ClientError[] = [];
    const subscription = new SentinelClient({ url }).subscribe({ lastEventId: 41, types: ["nope"], onError: (e) => errors.push(e) }, () => {});
    const deadline = Date.now() + 2_000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    subscription.close();
    assert.equal(header, "41");
    assert.equal(connections, 1);
    assert.equal(errors[0]?.code, "REFUSED");
    assert.equal(errors[0]?.meta.apiCode, "BAD_QUERY");
  });
});
