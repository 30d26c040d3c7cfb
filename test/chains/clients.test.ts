// The verification worker's chain reads are bounded by the check's time limit, not viem's 10 s
// default: a node starved of CPU must not fail a check its peers pass. A real HTTP server on
// loopback that answers eth_blockNumber late.
import { strict as assert } from "node:assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { chainReader } from "../../src/chains/clients.ts";

const ANSWER_AFTER_MS = 600;

describe("chainReader", () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        const { id } = JSON.parse(body) as { id: number };
        setTimeout(() => response.end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x2a" })), ANSWER_AFTER_MS);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("waits for a slow answer up to its timeout", async () => {
    assert.equal(await chainReader(31337, url, { timeoutMs: 5_000 }).getBlockNumber({ cacheTime: 0 }), 42n);
  });

  it("gives up on an answer slower than its timeout", async () => {
    await assert.rejects(chainReader(31337, url, { timeoutMs: 200 }).getBlockNumber({ cacheTime: 0 }), /took too long/);
  });
});
