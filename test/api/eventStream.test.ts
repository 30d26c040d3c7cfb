// The event stream over real HTTP on loopback, from a real EventSource client: resumed with
// Last-Event-ID across a server restart (nothing lost, nothing twice), live events after the
// backlog, heartbeats, a slow reader cut off without slowing the node, bad requests refused.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { keccak256, stringToHex, type Hex } from "viem";
import { EventStream, EventStreamError } from "../../src/api/eventStream.ts";
import { Database } from "../../src/db/database.ts";
import { EVENT_TYPES, EventLog } from "../../src/events/eventLog.ts";
import { systemClock } from "../../src/util/clock.ts";
import { EventSourceClient } from "../helpers/eventSourceClient.ts";

const candidate = (i: number): Hex => keccak256(stringToHex(`candidate ${i}`));

/** A node's event log and stream behind a loopback HTTP server, on a fixed port so a restart keeps the URL. */
async function serve(dir: string, port = 0, options: ConstructorParameters<typeof EventStream>[0] = {}) {
  const db = await Database.open(dir);
  const log = new EventLog({}, { db, clock: systemClock, logger: pino({ level: "silent" }) });
  await log.open();
  const stream = new EventStream(options, { log });
  const server: Server = createServer((request, response) => {
    stream.serve(request, response).catch((error: unknown) => {
      const status = error instanceof EventStreamError ? error.meta.status : 500;
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: (error as EventStreamError).code }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    log,
    stream,
    url,
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await log.flush();
      await db.close();
    },
  };
}

describe("the event stream", () => {
  let dir: string;
  const clients: EventSourceClient[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-event-stream-"));
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a real EventSource gets the backlog, then live events, and resumes across a restart with nothing lost or twice", async () => {
    let node = await serve(dir);
    for (let i = 0; i < 5; i++) node.log.emit("candidate.admitted", candidate(i), { i });
    await node.log.flush();
    const client = new EventSourceClient(`${node.url}/v1/events`, EVENT_TYPES);
    clients.push(client);
    await client.waitFor(5);
    node.log.emit("verdict.signed", candidate(5), {});
    await client.waitFor(6);

    // The node goes away; events it writes when back must reach the client, and only those.
    const port = node.port;
    await node.close();
    node = await serve(dir, port, { retryMs: 100 });
    for (let i = 6; i < 10; i++) node.log.emit("relay.result", candidate(i), { i });
    await node.log.flush();
    const received = await client.waitFor(10);
    assert.deepEqual(received.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "every event once, in order");
    assert.deepEqual(received.map((e) => e.data.candidateId), Array.from({ length: 10 }, (_, i) => candidate(i)));
    assert.ok(client.errors >= 1, "the client saw the connection drop and reconnected");
    await node.close();
  });

  it("resumes from Last-Event-ID, filters by type and candidate, and refuses bad requests", async () => {
    const node = await serve(dir);
    for (let i = 0; i < 6; i++) node.log.emit(i % 2 === 0 ? "candidate.admitted" : "verdict.signed", candidate(i % 3), { i });
    await node.log.flush();
    const controller = new AbortController();
    const response = await fetch(`${node.url}/v1/events?types=verdict.signed`, { headers: { "last-event-id": "2" }, signal: controller.signal });
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const reader = response.body!.getReader();
    let text = "";
    for (let i = 0; i < 50 && (text.match(/^id: /gm) ?? []).length < 2; i++) text += new TextDecoder().decode((await reader.read()).value);
    assert.deepEqual([...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])), [4, 6], "after 2, verdicts only");
    controller.abort();

    for (const [query, status, code] of [
      ["?lastEventId=-1", 400, "BAD_EVENT_ID"],
      ["?lastEventId=1e3", 400, "BAD_EVENT_ID"],
      ["?types=nope", 400, "BAD_QUERY"],
      ["?types=", 400, "BAD_QUERY"],
      ["?candidateId=0x12", 400, "BAD_QUERY"],
    ] as const) {
      const bad = await fetch(`${node.url}/v1/events${query}`);
      assert.equal(bad.status, status, query);
      assert.equal(((await bad.json()) as { error: string }).error, code, query);
    }
    await node.close();
  });

  it("filters by target and chain: a protocol hears only of its own contracts", async () => {
    const node = await serve(dir);
    const mine = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const other = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
    node.log.emit("candidate.admitted", candidate(0), { chainId: "31337", target: mine });
    node.log.emit("candidate.admitted", candidate(1), { chainId: "31337", target: other });
    node.log.emit("revocation.alert", candidate(2), { kind: "invariant", chainId: "1", target: mine });
    node.log.emit("relay.result", candidate(0), { chainId: 31337 });
    node.log.emit("revocation.signed", candidate(3), { chainId: "31337", target: mine.toLowerCase() });
    node.log.emit("verdict.signed", candidate(4), { chainId: "31337", target: other });
    await node.log.flush();
    const ids = async (query: string, count: number) => {
      const controller = new AbortController();
      const response = await fetch(`${node.url}/v1/events${query}`, { signal: controller.signal });
      assert.equal(response.status, 200, query);
      const reader = response.body!.getReader();
      let text = "";
      for (let i = 0; i < 50 && (text.match(/^id: /gm) ?? []).length < count; i++) text += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      return [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    };
    // A marker event at the end, so each read knows it has seen everything before it.
    node.log.emit("candidate.admitted", candidate(9), { chainId: "31337", target: mine });
    await node.log.flush();
    assert.deepEqual(await ids(`?target=${mine.toLowerCase()}&chainId=31337`, 3), [1, 5, 7]);
    assert.deepEqual(await ids(`?target=${mine}`, 4), [1, 3, 5, 7]);
    assert.deepEqual(await ids(`?target=${mine},${other}&types=candidate.admitted`, 3), [1, 2, 7]);
    assert.deepEqual(await ids("?chainId=1", 1), [3]);
    for (const query of ["?target=0x12", `?target=${mine},`, "?chainId=0", "?chainId=x", "?chainId=-1", `?target=${Array.from({ length: 33 }, () => mine).join(",")}`]) {
      const bad = await fetch(`${node.url}/v1/events${query}`);
      assert.equal(bad.status, 400, query);
      assert.equal(((await bad.json()) as { error: string }).error, "BAD_QUERY", query);
    }
    await node.close();
  });

  it("sends heartbeats while idle", async () => {
    const node = await serve(dir, 0, { heartbeatMs: 50 });
    const controller = new AbortController();
    const reader = (await fetch(`${node.url}/v1/events`, { signal: controller.signal })).body!.getReader();
    let text = "";
    for (let i = 0; i < 20 && !text.includes(": ping"); i++) text += new TextDecoder().decode((await reader.read()).value);
    assert.match(text, /^retry: \d+$/m);
    assert.match(text, /^: ping$/m);
    controller.abort();
    await node.close();
  });

  it("cuts off a client that does not read, and emitting never waits for it", async () => {
    const node = await serve(dir, 0, { maxBufferedBytes: 64 * 1024 });
    const controller = new AbortController();
    // Opened and never read: its socket fills up.
    await fetch(`${node.url}/v1/events`, { signal: controller.signal });
    const big = "x".repeat(8 * 1024);
    for (let i = 0; i < 2_000 && node.stream.stats.cutOff === 0; i++) {
      node.log.emit("relay.result", candidate(i), { big });
      if (i % 50 === 0) await node.log.flush();
    }
    await node.log.flush();
    assert.equal(node.stream.stats.cutOff, 1, "the slow client was cut off");
    for (let i = 0; i < 100 && node.stream.clients > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(node.stream.clients, 0);
    controller.abort();
    await node.close();
  });

  it("refuses streams beyond maxClients with 503", async () => {
    const node = await serve(dir, 0, { maxClients: 1 });
    const controller = new AbortController();
    const first = await fetch(`${node.url}/v1/events`, { signal: controller.signal });
    assert.equal(first.status, 200);
    const second = await fetch(`${node.url}/v1/events`);
    assert.equal(second.status, 503);
    controller.abort();
    await node.close();
  });
});
