// A node that cannot observe does not vote: node 3 reads chain B through a proxy that fails
// every request pinned to a block number (what verification and the shadow fork read), while
// "latest" reads (what admission and the relayer need) pass. Node 3 admits the candidate, signs
// nothing and says why; the three others attest it; once node 3's chain answers again it
// verifies and signs the same verdict as everyone.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Outcome } from "../../src/codec/types.ts";
import { codehashOf, signCandidate, startDevnet, submitCandidate, waitForDecision, type Devnet } from "../../src/devnet/devnet.ts";
import { candidateStatus } from "../helpers/candidateStatus.ts";
import { waitFor as waitUntil } from "../helpers/wait.ts";

const TIMEOUT_MS = 90_000;
/** A block number: short hex, unlike addresses (40 digits), hashes and slots (64). */
const BLOCK_NUMBER = /^0x[0-9a-fA-F]{1,16}$/;

/** Whether a JSON-RPC call is pinned to a block number (its block parameter, not its call data). */
function pinned(call: { method?: string; params?: unknown[] }): boolean {
  const params = call.params ?? [];
  if (call.method === "eth_getBlockByNumber") return typeof params[0] === "string" && BLOCK_NUMBER.test(params[0]);
  const last = params.at(-1);
  return typeof last === "string" && BLOCK_NUMBER.test(last);
}

/** Forwards to anvil; while `failing`, answers a JSON-RPC error to any request that names a block number. */
async function pinnedReadsProxy(upstream: string) {
  const state = { failing: true, refused: 0, refusedMethods: new Set<string>() };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks).toString();
      const parsed = JSON.parse(body) as { id?: unknown; method?: string; params?: unknown[] } | { method?: string; params?: unknown[] }[];
      const calls = Array.isArray(parsed) ? parsed : [parsed];
      if (state.failing && calls.some(pinned)) {
        state.refused++;
        for (const call of calls) state.refusedMethods.add(String(call.method));
        const id = Array.isArray(parsed) ? null : (parsed.id ?? null);
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32603, message: "upstream unavailable" } }));
        return;
      }
      try {
        const answer = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
        response.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text());
      } catch {
        response.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const status = candidateStatus;

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> => waitUntil(what, probe, TIMEOUT_MS);

describe("a node that cannot observe abstains", { timeout: 300_000 }, () => {
  let devnet: Devnet;
  let proxy: Awaited<ReturnType<typeof pinnedReadsProxy>>;

  before(async () => {
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-abstain-${process.pid}`) });
    // Chain B: a node reads its validator set from its first chain at start, at a pinned block.
    proxy = await pinnedReadsProxy(devnet.chains[1]!.anvil.rpcUrl);
    const node = devnet.nodes[3]!;
    await node.stop();
    const config = JSON.parse(readFileSync(node.configPath, "utf8")) as { chains: { rpcUrl: string }[] };
    config.chains[1]!.rpcUrl = proxy.url;
    writeFileSync(node.configPath, JSON.stringify(config, null, 2));
    node.start();
    await node.waitReady();
  });
  after(async () => {
    await devnet?.stop();
    await proxy?.close();
  });

  it("signs nothing while it cannot read the pinned block, says why, and signs the network's verdict once it can", async () => {
    const chain = devnet.chains[1]!;
    const body = await signCandidate(devnet, chain, chain.protocol.benign, 1n);
    const id = await submitCandidate(devnet.nodes[0]!, body);
    const codehash = await codehashOf(chain, chain.protocol.benign);
    assert.ok(await waitForDecision(devnet, { chainId: chain.chainId, target: chain.protocol.proxy, codehash }, Outcome.Approve, TIMEOUT_MS), "the other three attest it");

    const abstaining = await waitFor(`node 3 to abstain (refused so far: ${[...proxy.state.refusedMethods].join(", ")})`, async () => {
      const s = await status(devnet, 3, id);
      return s?.abstention ? s : undefined;
    });
    assert.equal(abstaining.signedDigest, null, "node 3 signed nothing");
    assert.ok(abstaining.abstention!.findings.every((f) => ["CHECK_FAILED", "CHECK_TIMED_OUT", "BLOCK_UNAVAILABLE"].includes(f.code)), JSON.stringify(abstaining.abstention));
    assert.ok(proxy.state.refused > 0);
    const metrics = await (await fetch(`${devnet.nodes[3]!.apiUrl}/metrics`)).text();
    assert.match(metrics, /^sentinel_verify_queue_events_total\{event="abstained"\} [1-9]/m);

    // Its chain answers again: the next retry verifies and signs what everyone signed.
    proxy.state.failing = false;
    const attested = (await status(devnet, 0, id))!.attestation!;
    const healed = await waitFor("node 3 to sign", async () => {
      const s = await status(devnet, 3, id);
      return s?.signedDigest ? s : undefined;
    });
    assert.equal(healed.signedDigest, attested.digest);
    assert.equal(healed.abstention, null);
  });
});
