import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createPublicClient, getAddress, http, type Hex } from "viem";
import { connectChain } from "../../src/chains/clients.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { RPC_DISAGREE, RPC_UNAVAILABLE, RpcQuorum } from "../../src/chains/rpcQuorum.ts";
import { startAnvil, type AnvilInstance } from "../../src/verify/shadow/anvil.ts";
import { rpc, startTestChain, type TestChain } from "../helpers/chain.ts";
import { startLyingRpc, type LyingRpc } from "../helpers/lyingRpc.ts";

const log = pino({ level: "silent" });
const TARGET = getAddress("0x00000000000000000000000000000000000c0de1");
const CODE: Hex = "0x6001600055";
const LIE: Hex = "0x60ff600055";

/** A JSON-RPC call that returns the whole answer, error included. */
async function call(url: string, method: string, params: unknown[] = []): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }) });
  return (await response.json()) as { result?: unknown; error?: { code: number; message: string } };
}

describe("RpcQuorum: reads a chain from several endpoints and answers only what a quorum agrees on", () => {
  let chain: TestChain;
  let honest: LyingRpc;
  let liar: LyingRpc;
  let silent: LyingRpc;
  const quorums: RpcQuorum[] = [];
  const start = async (urls: string[], quorum = Math.floor(urls.length / 2) + 1, timeoutMs = 2_000) => {
    const q = new RpcQuorum({ chainId: 31337, urls, quorum, timeoutMs }, { logger: log });
    quorums.push(q);
    await q.start();
    return q;
  };

  before(async () => {
    chain = await startTestChain();
    await rpc(chain.anvil.rpcUrl, "anvil_setCode", [TARGET, CODE]);
    await rpc(chain.anvil.rpcUrl, "anvil_setStorageAt", [TARGET, "0x0", `0x${"00".repeat(31)}2a`]);
    await rpc(chain.anvil.rpcUrl, "evm_mine", []);
    honest = await startLyingRpc(chain.anvil.rpcUrl);
    liar = await startLyingRpc(chain.anvil.rpcUrl, { code: new Map([[TARGET.toLowerCase(), LIE]]), storage: new Map<string, Hex>([[TARGET.toLowerCase(), `0x${"ff".repeat(32)}`]]) });
    silent = await startLyingRpc(chain.anvil.rpcUrl, { silent: true });
  });
  after(async () => {
    for (const q of quorums) await q.stop();
    for (const endpoint of [honest, liar, silent]) await endpoint?.stop();
    await chain?.stop();
  });

  it("an honest majority outvotes a liar: the code and storage read are the chain's", async () => {
    const q = await start([liar.url, chain.anvil.rpcUrl, honest.url]);
    const client = createPublicClient({ transport: http(q.url, { retryCount: 0 }) });
    assert.equal(await client.getCode({ address: TARGET }), CODE);
    assert.equal(await client.getStorageAt({ address: TARGET, slot: "0x0" }), `0x${"00".repeat(31)}2a`);
  });

  it("with a liar among two endpoints, the read fails with RPC_DISAGREE: never the lie, never 'no code'", async () => {
    const q = await start([chain.anvil.rpcUrl, liar.url]);
    const code = await call(q.url, "eth_getCode", [TARGET, "latest"]);
    assert.equal(code.error?.code, RPC_DISAGREE, JSON.stringify(code));
    assert.match(code.error!.message, /chain 31337: RPC endpoints disagree on eth_getCode \(1 of 2 answers agree, quorum 2\)/);
    assert.doesNotMatch(code.error!.message, /127\.0\.0\.1/, "endpoints are never named by URL");
    assert.equal((await call(q.url, "eth_getStorageAt", [TARGET, "0x0", "latest"])).error?.code, RPC_DISAGREE);
    // What the liar does not lie about is read as usual.
    assert.equal((await call(q.url, "eth_chainId")).result, "0x7a69");
    assert.equal(q.disagreements.get("eth_getCode"), 1);
  });

  it("a forked block (another hash for the same number) is a disagreement", async () => {
    const forker = await startLyingRpc(chain.anvil.rpcUrl, { forkBlocks: true });
    try {
      const q = await start([chain.anvil.rpcUrl, forker.url]);
      assert.equal((await call(q.url, "eth_getBlockByNumber", ["0x1", false])).error?.code, RPC_DISAGREE);
    } finally {
      await forker.stop();
    }
  });

  it("a silent endpoint does not hold reads a quorum answers; without a quorum the read fails once its timeout passes", async () => {
    const q = await start([silent.url, chain.anvil.rpcUrl, honest.url], 2, 60_000);
    const started = performance.now();
    assert.equal((await call(q.url, "eth_getCode", [TARGET, "latest"])).result, CODE);
    assert.equal(typeof (await call(q.url, "eth_blockNumber")).result, "string");
    assert.ok(performance.now() - started < 5_000, "answered without waiting for the silent endpoint");

    const starved = await start([silent.url, chain.anvil.rpcUrl], 2, 300);
    const answer = await call(starved.url, "eth_getCode", [TARGET, "latest"]);
    assert.equal(answer.error?.code, RPC_UNAVAILABLE, JSON.stringify(answer));
    assert.match(answer.error!.message, /1 RPC endpoint\(s\) answered eth_getCode, 2 needed/);
    assert.equal(starved.endpointFailures[0], 1);
  });

  it("an endpoint answering 64 MiB, or JSON nested 100,000 deep, is a failed endpoint: its answer is never read whole or parsed", async () => {
    const flooder = await startLyingRpc(chain.anvil.rpcUrl, { floodBytes: 64 << 20 });
    const nester = await startLyingRpc(chain.anvil.rpcUrl, { nestDepth: 100_000 });
    try {
      const q = await start([flooder.url, nester.url, chain.anvil.rpcUrl, honest.url], 2);
      const heap = process.memoryUsage().heapUsed;
      assert.equal((await call(q.url, "eth_getCode", [TARGET, "latest"])).result, CODE);
      // The answer came from the two honest endpoints; wait for the bad ones to be counted.
      const deadline = Date.now() + 10_000;
      while ((q.endpointFailures[0] === 0 || q.endpointFailures[1] === 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(q.endpointFailures, [1, 1, 0, 0]);
      assert.ok(process.memoryUsage().heapUsed - heap < 48 << 20, "the flood was not held in memory");

      const bad = await start([flooder.url, nester.url], 2);
      assert.equal((await call(bad.url, "eth_getCode", [TARGET, "latest"])).error?.code, RPC_UNAVAILABLE);
    } finally {
      await flooder.stop();
      await nester.stop();
    }
  });

  it("a reverted call is an answer like any other: endpoints agreeing on the revert data answer it", async () => {
    const reverter = getAddress("0x00000000000000000000000000000000000bad01");
    // PUSH1 0xaa PUSH1 0 MSTORE PUSH1 32 PUSH1 0 REVERT: reverts with one word of data.
    await rpc(chain.anvil.rpcUrl, "anvil_setCode", [reverter, "0x60aa60005260206000fd"]);
    const q = await start([chain.anvil.rpcUrl, honest.url]);
    const reverted = await call(q.url, "eth_call", [{ to: reverter, data: "0x" }, "latest"]);
    assert.ok(reverted.error, JSON.stringify(reverted));
    assert.notEqual(reverted.error.code, RPC_DISAGREE);
    assert.equal((reverted.error as { data?: unknown }).data, `0x${"00".repeat(31)}aa`);
  });

  it("a transaction is sent to every endpoint and the first acceptance answers; its receipt is read as usual", async () => {
    const q = await start([chain.anvil.rpcUrl, honest.url]);
    const { wallet, client } = connectChain(31337, q.url, ANVIL_DEV_KEYS[1]!);
    const before = honest.calls.get("eth_sendRawTransaction") ?? 0;
    const hash = await wallet.sendTransaction({ to: TARGET, value: 1n });
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 10_000 });
    assert.equal(receipt.status, "success");
    assert.equal(honest.calls.get("eth_sendRawTransaction"), before + 1, "the second endpoint was sent it too");
  });

  it("batches, bad bodies and other methods", async () => {
    const q = await start([chain.anvil.rpcUrl, honest.url]);
    const batch = (await (await fetch(q.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "eth_chainId" }, { jsonrpc: "2.0", id: 2, method: "eth_getCode", params: [TARGET, "latest"] }]) })).json()) as { id: number; result: unknown }[];
    assert.deepEqual(batch.map((b) => [b.id, b.result]), [[1, "0x7a69"], [2, CODE]]);
    assert.equal((await fetch(q.url, { method: "POST", body: "{" })).status, 400);
    assert.equal((await fetch(q.url)).status, 405);
    assert.equal((await call(q.url, "eth_getTransactionReceipt", [`0x${"ab".repeat(32)}`])).result, null);
  });

  it("refuses a quorum it cannot have", () => {
    assert.throws(() => new RpcQuorum({ chainId: 1, urls: ["http://a"], quorum: 2 }, { logger: log }), /quorum 2 is not between 1 and 1/);
    assert.throws(() => new RpcQuorum({ chainId: 1, urls: [], quorum: 1 }, { logger: log }), /no RPC endpoint/);
  });
});

describe("a shadow fork read through a quorum with a liar", () => {
  let chain: TestChain;
  let liar: LyingRpc;
  let q: RpcQuorum;
  let fork: AnvilInstance | undefined;
  before(async () => {
    chain = await startTestChain();
    await rpc(chain.anvil.rpcUrl, "anvil_setCode", [TARGET, CODE]);
    await rpc(chain.anvil.rpcUrl, "evm_mine", []);
    liar = await startLyingRpc(chain.anvil.rpcUrl, { code: new Map([[TARGET.toLowerCase(), LIE]]) });
    q = new RpcQuorum({ chainId: 31337, urls: [chain.anvil.rpcUrl, liar.url], quorum: 2, timeoutMs: 2_000 }, { logger: log });
    await q.start();
  });
  after(async () => {
    await fork?.stop();
    await q?.stop();
    await liar?.stop();
    await chain?.stop();
  });

  it("the fork reads the disputed code as an error, not as the lie and not as empty", async () => {
    fork = await startAnvil({ chainId: 31337, forkUrl: q.url, forkBlockNumber: 1n });
    const answer = await call(fork.rpcUrl, "eth_getCode", [TARGET, "latest"]);
    assert.notEqual(answer.result, LIE);
    assert.notEqual(answer.result, "0x");
    assert.ok(answer.error, `the fork answered ${JSON.stringify(answer)}`);
  });
});
