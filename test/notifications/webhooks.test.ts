// Webhook delivery against real HTTP receivers on loopback, with the outbox on a real level
// database and time on a ManualClock: retries with growing waits, deliveries pending at a stop
// delivered after a restart, the outbox bound, refusals and expiry, no redirect followed, and
// neither the URL nor the secret in any log line.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import { pino, type Logger } from "pino";
import { keccak256, stringToHex, type Hex } from "viem";
import { Database } from "../../src/db/database.ts";
import { EventLog } from "../../src/events/eventLog.ts";
import { WebhookDispatcher, type DispatcherOptions } from "../../src/notifications/dispatcher.ts";
import { WebhookOutbox, type OutboxWebhook } from "../../src/notifications/outbox.ts";
import { verifySignature } from "../../src/notifications/signature.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { waitFor } from "../helpers/wait.ts";

const SECRET = "s3cret-0123456789abcdef-do-not-log";
const TARGET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const candidate = (n: number): Hex => keccak256(stringToHex(`candidate-${n}`));

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A loopback receiver answering the statuses in turn (the last one from then on). */
async function receiver(clock: ManualClock, statuses: number[], extra: Record<string, string> = {}): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      got.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), at: clock.now() });
      response.writeHead(statuses[Math.min(got.length - 1, statuses.length - 1)]!, extra);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=url-secret`, got, server };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** Every log line, as text. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

describe("webhooks", () => {
  let dir: string;
  let db: Database;
  const servers: Server[] = [];
  const stops: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-webhooks-"));
    db = await Database.open(dir);
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    for (const server of servers.splice(0)) await close(server);
    await db.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  /** An event log whose events go to the outbox, and the dispatcher over it. */
  async function node(
    url: string,
    clock: ManualClock,
    logger: Logger,
    options: { maxEntries?: number; dispatcher?: Partial<DispatcherOptions>; webhook?: Partial<OutboxWebhook>; start?: boolean } = {},
  ) {
    const webhook: OutboxWebhook = { name: "ops", events: ["revocation.alert", "attestation.formed"], ...options.webhook };
    let dispatcher: WebhookDispatcher | undefined;
    const outbox = new WebhookOutbox({ maxEntries: options.maxEntries ?? 100, nodeKey: "node-a", nodeName: "node-a" }, { db, logger, webhooks: [webhook], onQueued: (name) => dispatcher?.wake(name) });
    await outbox.open();
    const events = new EventLog({}, { db, clock, logger, recorders: [outbox] });
    await events.open();
    dispatcher = new WebhookDispatcher({ timeoutMs: 2_000, ...options.dispatcher }, { outbox, webhooks: [{ name: "ops", url, secret: SECRET }], clock, logger, random: () => 0.5 });
    if (options.start !== false) dispatcher.start();
    const stop = async () => {
      await events.flush();
      await dispatcher.stop();
    };
    stops.push(stop);
    return { outbox, events, dispatcher, stop };
  }

  const alert = (episode: number) => ({ kind: "invariant", chainId: "31337", target: TARGET, invariant: "supplyCap", episode, block: "12" });

  it("signs each delivery, and retries a receiver answering 500 twice then 200 with growing waits", async () => {
    const clock = new ManualClock(1_764_906_000_000);
    const { url, got, server } = await receiver(clock, [500, 500, 200]);
    servers.push(server);
    const { logger, lines } = capturingLogger();
    const { events, dispatcher, outbox } = await node(url, clock, logger);
    events.emit("revocation.alert", candidate(1), alert(1));
    await events.flush();
    await waitFor("the first attempt", async () => got.length === 1 && clock.pending === 1, 5_000, 5);
    // Backoff 1 s then 2 s, equal jitter at 0.5: waits of 750 ms and 1,500 ms.
    await clock.advance(749);
    assert.equal(got.length, 1);
    await clock.advance(1);
    await waitFor("the second attempt", async () => got.length === 2 && clock.pending === 1, 5_000, 5);
    await clock.advance(1_499);
    assert.equal(got.length, 2);
    await clock.advance(1);
    await waitFor("the third attempt", async () => got.length === 3 && outbox.size("ops") === 0, 5_000, 5);
    const waits = [got[1]!.at - got[0]!.at, got[2]!.at - got[1]!.at];
    assert.deepEqual(waits, [750, 1_500]);
    assert.ok(waits[1]! > waits[0]!);
    // The same bytes and id each time, each attempt signed at its own time.
    assert.equal(new Set(got.map((r) => r.body)).size, 1);
    assert.equal(new Set(got.map((r) => r.headers["sentinel-event-id"])).size, 1);
    for (const r of got) assert.equal(verifySignature(SECRET, String(r.headers["sentinel-signature"]), r.body, Math.floor(r.at / 1000)), true);
    const body = JSON.parse(got[0]!.body) as { id: string; type: string; data: { episode: number } };
    assert.equal(body.id, got[0]!.headers["sentinel-event-id"]);
    assert.equal(body.type, "revocation.alert");
    assert.deepEqual(dispatcher.stats.get("ops"), { delivered: 1, failed: 2, refused: 0, expired: 0 });
    assert.equal(clock.pending, 0);
    const text = lines.join("");
    assert.ok(!text.includes(SECRET) && !text.includes("url-secret") && !text.includes("127.0.0.1"), "a log line names the URL or the secret");
  });

  it("gives the same id to the same alert on two nodes, and different ids to different episodes", async () => {
    const clock = new ManualClock(1_000);
    const { url, got, server } = await receiver(clock, [200]);
    servers.push(server);
    const { events } = await node(url, clock, pino({ level: "silent" }));
    events.emit("revocation.alert", candidate(1), alert(1));
    events.emit("revocation.alert", candidate(1), alert(2));
    await events.flush();
    await waitFor("two deliveries", async () => got.length === 2, 5_000, 5);
    const { deliveryIdOf } = await import("../../src/notifications/deliveryId.ts");
    const other = deliveryIdOf({ id: 977, type: "revocation.alert", at: 5, candidateId: candidate(1), data: { ...alert(1), value: "7", block: "13" } }, "node-b");
    assert.equal(got[0]!.headers["sentinel-event-id"], other);
    assert.notEqual(got[1]!.headers["sentinel-event-id"], other);
  });

  it("delivers after a restart what a stopped node left pending, and nothing twice", async () => {
    const clock = new ManualClock(1_000);
    const down = await receiver(clock, [503]);
    servers.push(down.server);
    const first = await node(down.url, clock, pino({ level: "silent" }));
    for (let i = 0; i < 5; i++) first.events.emit("attestation.formed", candidate(i), { chainId: "31337", target: TARGET, outcome: 1 });
    await first.events.flush();
    await waitFor("a failed attempt", async () => down.got.length >= 1 && clock.pending === 1, 5_000, 5);
    assert.equal(first.outbox.size("ops"), 5);
    await first.stop();
    stops.splice(0);
    await db.close();

    db = await Database.open(dir);
    const up = await receiver(clock, [200]);
    servers.push(up.server);
    const second = await node(up.url, clock, pino({ level: "silent" }));
    assert.equal(second.outbox.size("ops"), 5);
    // The first attempt's backoff is kept across the restart.
    await clock.advance(750);
    await waitFor("five deliveries", async () => up.got.length === 5 && second.outbox.size("ops") === 0, 5_000, 5);
    const ids = up.got.map((r) => (JSON.parse(r.body) as { candidateId: string }).candidateId);
    assert.deepEqual(ids, [0, 1, 2, 3, 4].map((i) => candidate(i)));
  });

  it("queues in the event's own batch: a node that stops before any attempt delivers at its next start", async () => {
    const clock = new ManualClock(1_000);
    const { url, got, server } = await receiver(clock, [200]);
    servers.push(server);
    const first = await node(url, clock, pino({ level: "silent" }), { start: false });
    first.events.emit("revocation.alert", candidate(7), alert(1));
    await first.stop();
    stops.splice(0);
    await db.close();
    assert.equal(got.length, 0);
    db = await Database.open(dir);
    await node(url, clock, pino({ level: "silent" }));
    await waitFor("the delivery", async () => got.length === 1, 5_000, 5);
  });

  it("queues nothing for an event whose write failed (the outbox entry is in the event's own batch)", async () => {
    const clock = new ManualClock(1_000);
    const { url, server } = await receiver(clock, [200]);
    servers.push(server);
    const { events, outbox } = await node(url, clock, pino({ level: "silent" }), { start: false });
    await db.close();
    events.emit("revocation.alert", candidate(1), alert(1));
    await events.flush();
    assert.equal(events.stats.failures, 1);
    assert.equal(outbox.size("ops"), 0, "the reserved place is given back");
  });

  it("bounds the outbox: what does not fit is counted and logged, and room is logged when it comes back", async () => {
    const clock = new ManualClock(1_000);
    const { url, got, server } = await receiver(clock, [503, 200]);
    servers.push(server);
    const { logger, lines } = capturingLogger();
    const { events, outbox } = await node(url, clock, logger, { maxEntries: 3 });
    for (let i = 0; i < 5; i++) events.emit("attestation.formed", candidate(i), { chainId: "31337", target: TARGET });
    await events.flush();
    assert.equal(outbox.size("ops"), 3);
    assert.equal(outbox.stats.dropped.get("ops"), 2);
    assert.equal(lines.filter((line) => line.includes("webhook outbox full")).length, 1);
    await waitFor("the failed attempt", async () => got.length === 1 && clock.pending === 1, 5_000, 5);
    await clock.advance(750);
    await waitFor("three deliveries", async () => outbox.size("ops") === 0, 5_000, 5);
    events.emit("attestation.formed", candidate(9), { chainId: "31337", target: TARGET });
    await events.flush();
    assert.ok(lines.some((line) => line.includes("room again") && line.includes('"dropped":2')));
    await waitFor("the new one delivered", async () => got.length === 5, 5_000, 5);
  });

  it("drops a delivery the receiver refuses with a 4xx and moves on", async () => {
    const clock = new ManualClock(1_000);
    const { url, got, server } = await receiver(clock, [401, 200]);
    servers.push(server);
    const { events, dispatcher, outbox } = await node(url, clock, pino({ level: "silent" }));
    events.emit("revocation.alert", candidate(1), alert(1));
    events.emit("revocation.alert", candidate(2), alert(1));
    await events.flush();
    await waitFor("both answered", async () => got.length === 2 && outbox.size("ops") === 0, 5_000, 5);
    assert.deepEqual(dispatcher.stats.get("ops"), { delivered: 1, failed: 0, refused: 1, expired: 0 });
  });

  it("does not follow a redirect, and gives up a delivery older than its maximum age", async () => {
    const clock = new ManualClock(1_000);
    const elsewhere = await receiver(clock, [200]);
    const { url, got, server } = await receiver(clock, [302], { location: elsewhere.url });
    servers.push(server, elsewhere.server);
    const { events, dispatcher, outbox } = await node(url, clock, pino({ level: "silent" }), { dispatcher: { maxAgeMs: 60_000 } });
    events.emit("revocation.alert", candidate(1), alert(1));
    await events.flush();
    // Each step moves the clock 40 s: a few attempts, each a failure, then the delivery is too old.
    for (let i = 0; i < 20 && outbox.size("ops") > 0; i++) {
      await waitFor("an attempt scheduled", async () => clock.pending === 1 || outbox.size("ops") === 0, 5_000, 5);
      await clock.advance(40_000);
    }
    await waitFor("given up", async () => outbox.size("ops") === 0, 5_000, 5);
    assert.equal(elsewhere.got.length, 0);
    assert.equal(dispatcher.stats.get("ops")!.expired, 1);
    assert.equal(dispatcher.stats.get("ops")!.delivered, 0);
    assert.ok(got.length >= 2, `${got.length} attempts`);
    assert.equal(dispatcher.stats.get("ops")!.failed, got.length);
  });

  it("gives up an attempt with no answer at its timeout", async () => {
    const clock = new ManualClock(1_000);
    const got: number[] = [];
    const silent = createServer(() => got.push(1));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    servers.push(silent);
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const { events, dispatcher } = await node(url, clock, pino({ level: "silent" }), { dispatcher: { timeoutMs: 200 } });
    events.emit("revocation.alert", candidate(1), alert(1));
    await events.flush();
    await waitFor("the attempt timed out", async () => dispatcher.stats.get("ops")!.failed === 1, 5_000, 10);
    assert.equal(got.length, 1);
    silent.closeAllConnections();
  });

  it("queues only the event types and targets a webhook asks for", async () => {
    const clock = new ManualClock(1_000);
    const { url, server } = await receiver(clock, [503]);
    servers.push(server);
    const { events, outbox } = await node(url, clock, pino({ level: "silent" }), { start: false, webhook: { targets: new Set([`31337:${TARGET.toLowerCase()}`]) } });
    events.emit("revocation.alert", candidate(1), alert(1));
    events.emit("revocation.alert", candidate(2), { ...alert(1), chainId: "1" });
    events.emit("revocation.alert", candidate(3), { ...alert(1), target: "0x0000000000000000000000000000000000000001" });
    events.emit("verdict.signed", candidate(4), { chainId: "31337", target: TARGET });
    events.emit("relay.result", candidate(5), { chainId: 31337 });
    await events.flush();
    assert.equal(outbox.size("ops"), 1);
  });
});
