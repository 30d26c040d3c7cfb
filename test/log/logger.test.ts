import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createPublicClient, http } from "viem";
import { createLogger, logFormat, rpcFailureReason, scrubUrls } from "../../src/log/logger.ts";

/** A destination that keeps what is written; `isTTY` as a terminal would say. */
function sink(isTTY: boolean): Writable & { isTTY: boolean; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY: boolean; text(): string };
  stream.isTTY = isTTY;
  stream.text = () => chunks.join("");
  return stream;
}

/** An RPC URL with an API key in it, on a port nothing listens on. */
const SECRET_URL = "http://127.0.0.1:9/v3/SECRET-API-KEY";

async function deadRpcError(): Promise<unknown> {
  const client = createPublicClient({ transport: http(SECRET_URL, { retryCount: 0, timeout: 2_000 }) });
  return client.getBlockNumber().then(() => assert.fail("nothing listens there"), (error: unknown) => error);
}

describe("the node's logger", () => {
  it("is JSON unless the destination is a terminal; SENTINEL_LOG_FORMAT decides when set", () => {
    assert.equal(logFormat({}, false), "json");
    assert.equal(logFormat({}, undefined), "json");
    assert.equal(logFormat({}, true), "pretty");
    assert.equal(logFormat({ SENTINEL_LOG_FORMAT: "json" }, true), "json");
    assert.equal(logFormat({ SENTINEL_LOG_FORMAT: "pretty" }, false), "pretty");
    assert.equal(logFormat({ SENTINEL_LOG_FORMAT: "yaml" }, false), "json", "an unknown value falls back to the TTY rule");
  });

  it("writes JSON lines carrying the node's name, and pretty text on a terminal", () => {
    const json = sink(false);
    createLogger({ name: "node3", level: "info" }, { destination: json, env: {} }).info({ chainId: 1 }, "hello");
    const line = JSON.parse(json.text()) as Record<string, unknown>;
    assert.equal(line["node"], "node3");
    assert.equal(line["msg"], "hello");
    const pretty = sink(true);
    createLogger({ name: "node3", level: "info" }, { destination: pretty, env: {} }).info({ chainId: 1 }, "hello");
    // Coloured on a terminal: the escape codes out, the text is "INFO: <name>: <message>".
    assert.match(pretty.text().replace(/\u001b\[[0-9;]*m/g, ""), /INFO: node3: hello/);
    assert.throws(() => JSON.parse(pretty.text()));
  });

  it("never logs an RPC URL: not in a viem error's message, details or stack, nor in an error or reason field", async () => {
    const out = sink(false);
    const log = createLogger({ name: "n", level: "debug" }, { destination: out, env: {} });
    const error = await deadRpcError();
    assert.match(String((error as Error).message), /SECRET-API-KEY/, "viem does put the URL in its message");
    log.error({ err: error }, "a read failed");
    log.warn({ error: (error as Error).message, reason: `failed at ${SECRET_URL}` }, "relay attempt failed");
    log.warn({ cause: error }, "an error under another key than err");
    assert.doesNotMatch(out.text(), /SECRET-API-KEY|127\.0\.0\.1:9/);
    assert.match(out.text(), /<url>/);
  });

  it("gives a short reason for a failed RPC call: viem's short message and the network code", async () => {
    const reason = rpcFailureReason(await deadRpcError());
    assert.doesNotMatch(reason, /SECRET|http/);
    assert.ok(reason.length < 200 && reason.length > 0, reason);
    assert.equal(scrubUrls("see https://x.example/key?a=1, then"), "see <url>, then");
    assert.equal(scrubUrls("at file:///srv/sentinel/src/x.ts:1:2"), "at file:///srv/sentinel/src/x.ts:1:2", "a stack's own files are kept");
  });
});
