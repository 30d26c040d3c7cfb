// The shadow deployment's RPC client sends one request at a time: anvil 1.7 forks can deadlock
// for good on concurrent requests that make them fetch state from the origin chain (reproduced
// at about one shadow run in 25; none in 150 runs once serialised).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { JsonRpc } from "../../../src/verify/shadow/index.ts";

describe("the fork's JSON-RPC client", () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const served: string[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      served.push(method);
      // Answers arrive out of order if requests overlap: later ones are quicker.
      setTimeout(() => {
        inFlight -= 1;
        response.setHeader("content-type", "application/json");
        response.end(JSON.stringify(method === "fail" ? { jsonrpc: "2.0", id, error: { code: -32000, message: "no" } } : { jsonrpc: "2.0", id, result: method }));
      }, 30 - served.length * 5);
    });
  });
  let url = "";
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("never has two requests in flight, answers each in order, and goes on after a failed one", async () => {
    const rpc = new JsonRpc(url, new AbortController().signal);
    const methods = ["a", "b", "fail", "c", "d"];
    const answers = await Promise.allSettled(methods.map((method) => rpc.request(method, [])));
    assert.equal(maxInFlight, 1);
    assert.deepEqual(served, methods);
    assert.deepEqual(
      answers.map((answer) => (answer.status === "fulfilled" ? answer.value : (answer.reason as Error).message)),
      ["a", "b", "fail: no", "c", "d"],
    );
  });
});
