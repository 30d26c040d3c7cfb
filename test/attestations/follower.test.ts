// The attestation follower against a real registry on anvil, read through an RPC proxy that caps
// log ranges as providers do: recorded attestations are found by paging (history at start, then
// as they come), only once they are under the chain's confirmations, and read back byte for byte
// from their transactions.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { createPublicClient, getAddress, http, keccak256, stringToHex, type Address, type Hex, type PublicClient } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { AttestationFollower } from "../../src/attestations/follower.ts";
import { deployRegistry } from "../../src/chains/registry.ts";
import { recordState } from "../../src/chains/registryRecords.ts";
import { encodeAttestation, type Attestation } from "../../src/codec/attestation.ts";
import { Outcome, verdictDigest, type Verdict } from "../../src/codec/types.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { latestTimestamp, rpc, startTestChain, type TestChain } from "../helpers/chain.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-catch-up-test"));
const MAX_RANGE = 10n;
const hash = (label: string): Hex => keccak256(stringToHex(label));

/** Forwards JSON-RPC to anvil, refusing eth_getLogs over MAX_RANGE blocks (or from "earliest"), as providers do. */
async function cappingProxy(upstream: string): Promise<{ url: string; wideQueries: number; close(): Promise<void> }> {
  const state = { wideQueries: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks).toString();
      const call = JSON.parse(body) as { id: number; method: string; params: [{ fromBlock?: string; toBlock?: string }] };
      if (call.method === "eth_getLogs") {
        const { fromBlock, toBlock } = call.params[0];
        const from = fromBlock === undefined || !fromBlock.startsWith("0x") ? -1n : BigInt(fromBlock);
        const to = toBlock === undefined || !toBlock.startsWith("0x") ? 2n ** 64n : BigInt(toBlock);
        if (from < 0n || to - from + 1n > MAX_RANGE) {
          state.wideQueries++;
          response.writeHead(200, { "content-type": "application/json" });
          response.end(JSON.stringify({ jsonrpc: "2.0", id: call.id, error: { code: -32005, message: `query exceeds max block range ${MAX_RANGE}` } }));
          return;
        }
      }
      const answer = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(await answer.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get wideQueries() {
      return state.wideQueries;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("recorded attestations, followed", () => {
  let chain: TestChain;
  let committee: LocalCommittee;
  let registry: Address;
  let proxy: Awaited<ReturnType<typeof cappingProxy>>;
  let client: PublicClient;

  before(async () => {
    chain = await startTestChain();
    committee = LocalCommittee.generate(4, NETWORK_ID);
    registry = getAddress((await deployRegistry(chain, { networkId: NETWORK_ID, rotationGracePeriodSeconds: 3600n, genesis: committee.genesis() })).address);
    proxy = await cappingProxy(chain.anvil.rpcUrl);
    client = createPublicClient({ transport: http(proxy.url, { retryCount: 0 }) }) as PublicClient;
  });
  after(async () => {
    await proxy?.close();
    await chain?.stop();
  });

  async function record(label: string): Promise<{ attestation: Attestation; digest: Hex }> {
    const issuedAt = await latestTimestamp(chain);
    const verdict: Verdict = {
      candidateId: hash(label),
      chainId: BigInt(chain.chain.id),
      target: getAddress("0x00000000000000000000000000000000000a11ce"),
      codehash: hash(`code ${label}`),
      outcome: Outcome.Approve,
      policyHash: hash("policy"),
      reasons: 0n,
      findingsDigest: hash("findings"),
      issuedAt,
      expiresAt: issuedAt + 86_400n,
    };
    const attestation = committee.attest(verdict, 0, committee.firstSigners(committee.threshold));
    const sent = await chain.wallet.writeContract({ address: registry, abi: SentinelRegistry.abi, functionName: "submitAttestation", args: [encodeAttestation(attestation)] });
    assert.equal((await chain.client.waitForTransactionReceipt({ hash: sent })).status, "success");
    return { attestation, digest: verdictDigest(NETWORK_ID, verdict) };
  }

  const mine = (blocks: number) => rpc(chain.anvil.rpcUrl, "anvil_mine", [`0x${blocks.toString(16)}`]);

  function follower(accepted: { attestation: Attestation; recordedOn: readonly number[] }[], options: { confirmations?: number; backfillBlocks?: bigint; held?: Set<string> } = {}) {
    return new AttestationFollower(
      { networkId: NETWORK_ID, maxLogRange: MAX_RANGE, backfillBlocks: options.backfillBlocks ?? 1_000n, pollIntervalMs: 1_000 },
      {
        chains: [{ chainId: chain.chain.id, client, registry, confirmations: options.confirmations ?? 0 }],
        accept: async (found, _digest, recordedOn) => void accepted.push({ attestation: found, recordedOn }),
        hasAttestation: async (id) => options.held?.has(id) === true,
        clock: new ManualClock(0),
        logger: pino({ level: "silent" }),
      },
    );
  }

  it("reads the history at start in pages the provider serves, and each attestation back from its transaction", async () => {
    const first = await record("history 1");
    await mine(25);
    const second = await record("history 2");
    await mine(12);
    const accepted: { attestation: Attestation; recordedOn: readonly number[] }[] = [];
    await follower(accepted).poll();
    const mine_ = (digest: Hex) => accepted.find(({ attestation }) => verdictDigest(NETWORK_ID, attestation.verdict) === digest);
    assert.equal(encodeAttestation(mine_(first.digest)!.attestation), encodeAttestation(first.attestation));
    assert.equal(encodeAttestation(mine_(second.digest)!.attestation), encodeAttestation(second.attestation));
    assert.deepEqual(mine_(first.digest)!.recordedOn, [chain.chain.id]);
    assert.equal(proxy.wideQueries, 0, "never asked for more than the provider serves");
  });

  it("follows new records as they come, skips those already held, and looks no further back than its window", async () => {
    const old = await record("before the window");
    await mine(30);
    const accepted: { attestation: Attestation; recordedOn: readonly number[] }[] = [];
    const held = new Set<string>();
    const live = follower(accepted, { backfillBlocks: 20n, held });
    await live.poll();
    assert.equal(accepted.length, 0, "older than the backfill window");
    const fresh = await record("new");
    const heldOne = await record("held");
    held.add(heldOne.attestation.verdict.candidateId);
    await live.poll();
    assert.deepEqual(accepted.map(({ attestation }) => attestation.verdict.candidateId), [fresh.attestation.verdict.candidateId]);
    assert.notEqual(old.digest, fresh.digest);
    await live.poll();
    assert.equal(accepted.length, 1, "each record once");
  });

  it("a record counts as final only under the chain's confirmations", async () => {
    const { digest } = await record("confirmations");
    const ref = { client, registry, confirmations: 3 };
    assert.equal(await recordState(ref, digest), "unconfirmed");
    assert.equal(await recordState({ ...ref, confirmations: 0 }, digest), "final");
    await mine(3);
    assert.equal(await recordState(ref, digest), "final");
    assert.equal(await recordState(ref, hash("absent")), "absent");
  });

  it("a reorg that removes the record makes it absent again", async () => {
    const snapshot = (await rpc(chain.anvil.rpcUrl, "evm_snapshot", [])) as string;
    const { digest } = await record("reorged");
    assert.equal(await recordState({ client, registry, confirmations: 0 }, digest), "final");
    await rpc(chain.anvil.rpcUrl, "evm_revert", [snapshot]);
    assert.equal(await recordState({ client, registry, confirmations: 0 }, digest), "absent");
  });

  it("hands a record over only once it is under the chain's confirmations", async () => {
    const accepted: { attestation: Attestation; recordedOn: readonly number[] }[] = [];
    const confirming = follower(accepted, { confirmations: 2 });
    await confirming.poll();
    const before = accepted.length;
    const { attestation } = await record("confirmed");
    await confirming.poll();
    assert.equal(accepted.length, before, "not under its confirmations yet");
    await mine(2);
    await confirming.poll();
    assert.equal(accepted.at(-1)!.attestation.verdict.candidateId, attestation.verdict.candidateId);
    assert.equal(proxy.wideQueries, 0);
  });
});
