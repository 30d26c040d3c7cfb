// The API's hardening, over real loopback connections to a real backend (level database): wrong
// methods, unknown and malformed paths, input whose cost could grow faster than its size, content
// types, stalled bodies, malformed candidates named by field, signature errors named as such.
// Every refusal is a 4xx `{error, message}` and stores nothing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startApiNode, submission, type ApiNode } from "../helpers/apiNode.ts";
import { rawRequest } from "../helpers/rawHttp.ts";

const JSON_HEADERS = { "content-type": "application/json" };

async function refusal(response: Response, status: number, code?: string): Promise<{ error: string; message: string }> {
  const body = (await response.json()) as { error: string; message: string };
  assert.equal(response.status, status, JSON.stringify(body));
  assert.deepEqual(Object.keys(body).sort(), ["error", "message"]);
  if (code) assert.equal(body.error, code, body.message);
  return body;
}

describe("the API's hardening", () => {
  let node: ApiNode;
  before(async () => {
    node = await startApiNode({ server: { bodyTimeoutMs: 1_000, headersTimeoutMs: 1_000 } });
  });
  after(() => node.close());

  it("a wrong method on a known path is 405 with Allow; an unknown path is 404", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      for (const path of ["/health", "/ready", "/v1/peers", "/metrics", "/openapi.json", `/v1/candidates/0x${"11".repeat(32)}`, "/v1/attestations"]) {
        const response = await fetch(`${node.url}${path}`, { method, headers: JSON_HEADERS, body: "{}" });
        await refusal(response, 405, "METHOD_NOT_ALLOWED");
        assert.match(response.headers.get("allow") ?? "", /GET/, `${method} ${path}`);
      }
    }
    for (const method of ["GET", "PUT", "DELETE"]) {
      const response = await fetch(`${node.url}/v1/candidates`, { method });
      await refusal(response, 405, "METHOD_NOT_ALLOWED");
      assert.equal(response.headers.get("allow"), "POST");
    }
    await refusal(await fetch(`${node.url}/v1/events`, { method: "POST", headers: JSON_HEADERS, body: "{}" }), 405, "METHOD_NOT_ALLOWED");
    const connect = await rawRequest(node.url, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n");
    assert.equal(connect.status, 405);
    await refusal(await fetch(`${node.url}/nope`), 404, "NOT_FOUND");
    await refusal(await fetch(`${node.url}/v1/candidates/0x12/extra`), 404, "NOT_FOUND");
    assert.equal((await fetch(`${node.url}/health`)).status, 200);
    assert.equal((await fetch(`${node.url}/health/`)).status, 200, "one trailing slash, as before");
  });

  it("paths starting // or /\\ are 404, never 500", async () => {
    for (const path of ["//", "//health", "/\\", "/\\health", "//v1/candidates", "///"]) {
      const response = await rawRequest(node.url, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(response.status, 404, path);
      assert.equal(JSON.parse(response.body).error, "NOT_FOUND", path);
    }
    for (const path of ["/%2F%2F", "/%", "/v1/candidates/%ZZ", "*", "http://x/nope"]) {
      const response = await rawRequest(node.url, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.ok(response.status >= 400 && response.status < 500, `${path}: ${response.status}`);
      assert.ok([400, 404].includes(response.status), `${path}: ${response.status}`);
      assert.ok(JSON.parse(response.body).error, path);
    }
  });

  it("a run of slashes costs no more than its length: 100k and 16k slashes answer 4xx, about as fast as a short path", async () => {
    // Ten of each: the 16,300 slashes cost ~200 ms each when the work was quadratic.
    const time = async (path: string) => {
      const started = process.cpuUsage();
      let status = 0;
      for (let i = 0; i < 10; i++) status = (await rawRequest(node.url, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, { timeoutMs: 30_000 })).status;
      const cpu = process.cpuUsage(started);
      return { status, cpuMs: (cpu.user + cpu.system) / 1000 };
    };
    const short = await time("/health/x");
    for (const path of ["/".repeat(100_000), "/".repeat(16_300), `/a${"/".repeat(16_300)}b`, `/health${"/".repeat(16_000)}`, `/${"/".repeat(16_000)}x`, `/v1/candidates/${"/".repeat(16_000)}`]) {
      const long = await time(path);
      assert.ok(long.status >= 400 && long.status < 500, `${path.length} chars: ${long.status}`);
      // Quadratic work: seconds for ten; linear: a few ms. A generous bound between the two.
      assert.ok(long.cpuMs < short.cpuMs + 500, `${path.length} chars took ${long.cpuMs} ms of CPU`);
    }
  });

  it("content type must be application/json (with an optional UTF-8 charset)", async () => {
    for (const type of ["application/jsonfoo", "text/plain", "application/json-patch+json", "application/x-www-form-urlencoded", "application/json; charset=latin1"]) {
      await refusal(await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": type }, body: "{}" }), 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    const noType = await rawRequest(node.url, "POST /v1/candidates HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    assert.equal(noType.status, 415);
    for (const type of ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]) {
      await refusal(await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": type }, body: "{}" }), 400, "CANDIDATE_REQUIRED");
    }
  });

  it("a body shorter than its Content-Length is cut off at the body timeout (1 s here), not held", async () => {
    const response = await rawRequest(node.url, "POST /v1/candidates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"candidate\":", { timeoutMs: 8_000, keepOpen: true });
    assert.ok(response.status === 408 || response.closed, `status ${response.status}, closed ${response.closed}`);
    assert.ok(response.ms < 5_000, `held ${response.ms} ms`);
    if (response.status) assert.equal(JSON.parse(response.body).error, "BODY_TIMEOUT");
    // A byte at a time (each within the socket's idle time) does not extend it either.
    const slow = await new Promise<number>((resolve) => {
      const started = performance.now();
      void import("node:net").then(({ connect }) => {
        const { port } = new URL(node.url);
        const socket = connect(Number(port), "127.0.0.1", () => {
          socket.write("POST /v1/candidates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n");
          const drip = setInterval(() => socket.write(" "), 200);
          socket.on("close", () => {
            clearInterval(drip);
            resolve(performance.now() - started);
          });
          setTimeout(() => socket.destroy(), 8_000);
        });
        socket.on("error", () => undefined);
      });
    });
    assert.ok(slow < 5_000, `a dripping body held ${slow} ms`);
  });

  it("headers that never end are cut off at the headers timeout (1 s here): 408, connection closed", async () => {
    const response = await rawRequest(node.url, "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ", { timeoutMs: 8_000, keepOpen: true });
    assert.ok(response.ms < 5_000, `held ${response.ms} ms`);
    assert.ok(response.closed);
    assert.equal(response.status, 408);
    assert.equal(JSON.parse(response.body).error, "REQUEST_TIMEOUT");
  });

  it("{} is CANDIDATE_REQUIRED; a malformed field is MALFORMED naming it; nothing stored", async () => {
    const post = (body: unknown) => fetch(`${node.url}/v1/candidates`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) });
    const missing = await refusal(await post({}), 400, "CANDIDATE_REQUIRED");
    assert.match(missing.message, /candidate/);
    const { body } = await submission(node.proposer, 1n);
    const candidate = body["candidate"] as Record<string, unknown>;
    for (const [field, value] of [
      ["chainId", "0x7a69"],
      ["chainId", 31337],
      ["target", "0x12"],
      ["implementation", null],
      ["sourceHash", "nope"],
      ["policyHash", "0x"],
      ["blockNumber", "-1"],
      ["nonce", "01"],
      ["createdAt", ""],
      ["expiresAt", "1e9"],
    ] as const) {
      const refused = await refusal(await post({ ...body, candidate: { ...candidate, [field]: value } }), 400, "MALFORMED");
      assert.match(refused.message, new RegExp(`candidate\\.${field}`), refused.message);
    }
    const { [("nonce" as string)]: _dropped, ...withoutNonce } = candidate;
    assert.match((await refusal(await post({ ...body, candidate: withoutNonce }), 400, "MALFORMED")).message, /candidate\.nonce: is required/);
    assert.match((await refusal(await post({ ...body, signature: "0x00" }), 400, "MALFORMED")).message, /^signature/);
    assert.match((await refusal(await post({ ...body, proposer: "alice" }), 400, "MALFORMED")).message, /^proposer/);
    assert.match((await refusal(await post({ ...body, bundle: "x" }), 400, "MALFORMED")).message, /^bundle/);
    assert.match((await refusal(await post([body]), 400, "MALFORMED")).message, /^body/);
    await refusal(await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: JSON_HEADERS, body: "{\"candidate\":" }), 400, "BAD_JSON");
    await refusal(await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: JSON_HEADERS, body: "" }), 400);
    // Nesting is refused before JSON.parse, which spends ~15 ms on 100 KB of `[`.
    const deep = await refusal(await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: JSON_HEADERS, body: "[".repeat(100_000) }), 400, "BAD_JSON");
    assert.match(deep.message, /nested deeper than 64/);
    // Past uint64: the schema's pattern passes it, admission's parse names it.
    assert.match((await refusal(await post({ ...body, candidate: { ...candidate, nonce: "18446744073709551616" } }), 400, "MALFORMED")).message, /candidate\.nonce/);
    assert.equal(await node.storedCount(), 0);
  });

  it("signature errors are named: with `proposer`, an edited field or another network id is 400 BAD_SIGNATURE", async () => {
    const post = (body: unknown) => fetch(`${node.url}/v1/candidates`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) });
    const { body } = await submission(node.proposer, 2n);
    const edited = { ...body, candidate: { ...(body["candidate"] as object), nonce: "3" }, proposer: node.proposer.address };
    assert.match((await refusal(await post(edited), 400, "BAD_SIGNATURE")).message, /does not match this candidate.*changed after it was signed, or signed for another network id/);
    const other = await submission(node.proposer, 2n, `0x${"ee".repeat(32)}`);
    await refusal(await post({ ...other.body, proposer: node.proposer.address }), 400, "BAD_SIGNATURE");
    // Without `proposer`: NOT_ENROLLED, saying both what it may mean.
    const { proposer: _p, ...unclaimed } = edited;
    assert.match((await refusal(await post(unclaimed), 403, "NOT_ENROLLED")).message, /not an enrolled proposer.*or the candidate was changed after it was signed/);
    // Signed as claimed, but nobody enrolled it: still NOT_ENROLLED.
    await refusal(await post({ ...body, proposer: node.proposer.address }), 403, "NOT_ENROLLED");
    assert.equal(await node.storedCount(), 0);
  });

  it("admits a valid candidate (202), then knows it (200), as before", async () => {
    const enrolled = await startApiNode({ enrolled: "proposer" });
    try {
      const { body, id } = await submission(enrolled.proposer, 7n);
      const post = () => fetch(`${enrolled.url}/v1/candidates`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ ...body, proposer: enrolled.proposer.address }) });
      const first = await post();
      assert.equal(first.status, 202);
      assert.deepEqual(await first.json(), { candidateId: id, status: "admitted" });
      const second = await post();
      assert.equal(second.status, 200);
      assert.deepEqual(await second.json(), { candidateId: id, status: "known" });
      const status = await fetch(`${enrolled.url}/v1/candidates/${id.toUpperCase().replace("0X", "0x")}`);
      assert.equal(status.status, 200);
      assert.equal(((await status.json()) as { candidateId: string }).candidateId, id);
      assert.equal(await enrolled.storedCount(), 1);
    } finally {
      await enrolled.close();
    }
  });
});
