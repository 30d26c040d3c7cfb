// A poisoned RPC endpoint never yields a signature on its lie. On chain B, an endpoint of our own
// (test/helpers/lyingRpc.ts) answers the malicious implementation's code for the benign one —
// what a hijacked provider would do to make a network refuse, or with the roles swapped approve,
// an upgrade. Node 2 reads chain B through three endpoints, one of them the liar (quorum 2): the
// honest two outvote it and it signs the network's verdict. Node 3 reads it through two, one the
// liar (quorum 2): they disagree, it signs nothing and says why. Nodes 0 and 1 read the chain
// directly; with node 2 they reach the threshold, and the attestation is the honest one.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Outcome } from "../../src/codec/types.ts";
import { codehashOf, signCandidate, startDevnet, submitCandidate, waitForDecision, type Devnet } from "../../src/devnet/devnet.ts";
import { startLyingRpc, type LyingRpc } from "../helpers/lyingRpc.ts";
import { candidateStatus } from "../helpers/candidateStatus.ts";
import { waitFor as waitUntil } from "../helpers/wait.ts";
import { streamTextUntil } from "../helpers/streamText.ts";

const TIMEOUT_MS = 90_000;

const status = candidateStatus;

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> => waitUntil(what, probe, TIMEOUT_MS);

describe("a lying RPC endpoint", { timeout: 300_000 }, () => {
  let devnet: Devnet;
  let liar: LyingRpc;
  let honest: LyingRpc;

  /** Restarts `node` reading chain B through `urls`. */
  async function readChainBThrough(node: number, urls: string[]) {
    const n = devnet.nodes[node]!;
    await n.stop();
    const config = JSON.parse(readFileSync(n.configPath, "utf8")) as { chains: Record<string, unknown>[] };
    delete config.chains[1]!["rpcUrl"];
    config.chains[1]!["rpcUrls"] = urls;
    writeFileSync(n.configPath, JSON.stringify(config, null, 2));
    n.start();
    await n.waitReady();
  }

  before(async () => {
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-lying-rpc-${process.pid}`) });
    const chain = devnet.chains[1]!;
    const maliciousCode = (await chain.client.getCode({ address: chain.protocol.malicious }))!;
    liar = await startLyingRpc(chain.anvil.rpcUrl, { code: new Map([[chain.protocol.benign.toLowerCase(), maliciousCode]]) });
    honest = await startLyingRpc(chain.anvil.rpcUrl);
    await readChainBThrough(2, [liar.url, chain.anvil.rpcUrl, honest.url]);
    await readChainBThrough(3, [chain.anvil.rpcUrl, liar.url]);
  });
  after(async () => {
    await devnet?.stop();
    await liar?.stop();
    await honest?.stop();
  });

  it("is outvoted where a quorum of honest endpoints exists, and otherwise makes its node abstain: no signature on the lie", async () => {
    const chain = devnet.chains[1]!;
    const body = await signCandidate(devnet, chain, chain.protocol.benign, 1n);
    const id = await submitCandidate(devnet.nodes[0]!, body);
    const codehash = await codehashOf(chain, chain.protocol.benign);
    assert.ok(await waitForDecision(devnet, { chainId: chain.chainId, target: chain.protocol.proxy, codehash }, Outcome.Approve, TIMEOUT_MS), "the benign upgrade is approved");
    const attested = await waitFor("node 0's attestation", async () => (await status(devnet, 0, id))?.attestation ?? undefined);

    const outvoting = await waitFor("node 2 to sign", async () => (await status(devnet, 2, id))?.signedDigest ?? undefined);
    assert.equal(outvoting, attested.digest, "node 2, with one liar among three endpoints, signed the honest verdict");

    const abstaining = await waitFor("node 3 to abstain", async () => {
      const s = await status(devnet, 3, id);
      return s?.abstention ? s : undefined;
    });
    assert.equal(abstaining.signedDigest, null, "node 3 signed nothing");
    assert.ok(abstaining.abstention!.findings.length > 0);
    assert.ok(abstaining.abstention!.findings.every((f) => ["CHECK_FAILED", "CHECK_TIMED_OUT", "BLOCK_UNAVAILABLE"].includes(f.code)), JSON.stringify(abstaining.abstention));
    assert.match(JSON.stringify(abstaining.abstention), /RPC endpoints disagree on eth_getCode/, "it abstained because its endpoints disagreed");
    assert.ok((liar.calls.get("eth_getCode") ?? 0) > 0, "the liar was asked");
    // Said on its event stream and in its metrics too.
    const { text } = await streamTextUntil(`${devnet.nodes[3]!.apiUrl}/v1/events?types=verification.deferred&lastEventId=0`, (t) => t.includes("RPC endpoints disagree"));
    assert.match(text, /event: verification\.deferred[\s\S]*RPC endpoints disagree on eth_getCode/);
    const metrics = await (await fetch(`${devnet.nodes[3]!.apiUrl}/metrics`)).text();
    assert.match(metrics, new RegExp(`^sentinel_rpc_disagreements_total\\{chain="${chain.chainId}",method="eth_getCode"\\} [1-9]`, "m"));
    // Still nothing signed on a later look: abstention is not a delayed vote on the lie.
    assert.equal((await status(devnet, 3, id))!.signedDigest, null);
  });
});
