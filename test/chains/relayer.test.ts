// ChainRelayer on a real anvil chain with a real SentinelRegistry and BLS-signed attestations:
// the relay itself, a fallback relayer that finds the work done, two primaries racing, an RPC
// that is down for a while (through a local HTTP proxy answering 503), a send whose answer is
// lost, deterministic reverts, cancellation and the bookkeeping a status API reads.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { encodeFunctionData, getAddress, keccak256, parseEventLogs, stringToHex, type Address, type Hex } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { connectChain, type ChainClients } from "../../src/chains/clients.ts";
import { deployRegistry } from "../../src/chains/registry.ts";
import { RegistryReader } from "../../src/chains/registryReader.ts";
import { ChainRelayer, type ChainRelayerOptions, type RelayJob } from "../../src/chains/relayer.ts";
import { classifyRelayError } from "../../src/chains/relayErrors.ts";
import { attestationGasLimit } from "../../src/chains/relayGas.ts";
import { decodeAttestation, encodeAttestation } from "../../src/codec/attestation.ts";
import { Outcome, verdictDigest, type Verdict } from "../../src/codec/types.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { latestTimestamp, startTestChain, type TestChain } from "../helpers/chain.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-relayer-test"));
const abi = SentinelRegistry.abi;
const silent = pino({ level: "silent" });
/** Distinct from every rank step and backoff the tests use, so polls can be told apart. */
const RECEIPT_POLL_MS = 3;
const show = (value: unknown) => JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? `${v}` : v));
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the proxy does with one JSON-RPC request. */
type ProxyAction = "forward" | "fail" | "forward-then-fail";

/**
 * A JSON-RPC proxy in front of anvil. `decide` sees each request's method and its running count;
 * "fail" answers HTTP 503 without forwarding, "forward-then-fail" forwards (the chain sees it)
 * and still answers 503, as when a response is lost on the way back.
 */
class FlakyRpc {
  readonly methods: string[] = [];
  decide: (method: string, count: number) => ProxyAction = () => "forward";
  private readonly server: Server;
  private readonly upstream: string;

  private constructor(server: Server, upstream: string) {
    this.server = server;
    this.upstream = upstream;
  }

  static async start(upstream: string): Promise<FlakyRpc> {
    let proxy: FlakyRpc | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        void proxy!.handle(Buffer.concat(chunks).toString(), response);
      });
    });
    proxy = new FlakyRpc(server, upstream);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  count(method: string): number {
    return this.methods.filter((m) => m === method).length;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(body: string, response: import("node:http").ServerResponse): Promise<void> {
    const method = (JSON.parse(body) as { method?: string }).method ?? "batch";
    this.methods.push(method);
    const action = this.decide(method, this.methods.length);
    if (action === "fail") {
      response.writeHead(503).end("unavailable");
      return;
    }
    const upstream = await fetch(this.upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    const text = await upstream.text();
    if (action === "forward-then-fail") {
      response.writeHead(503).end("unavailable");
      return;
    }
    response.writeHead(upstream.status, { "content-type": "application/json" }).end(text);
  }
}

describe("ChainRelayer", () => {
  let chain: TestChain;
  let committee: LocalCommittee;
  let registry: Address;
  let reader: RegistryReader;
  let candidates = 0;

  before(async () => {
    chain = await startTestChain();
    committee = LocalCommittee.generate(4, NETWORK_ID);
    const deployment = await deployRegistry(chain, { networkId: NETWORK_ID, rotationGracePeriodSeconds: 3600n, genesis: committee.genesis() });
    registry = getAddress(deployment.address);
    reader = new RegistryReader({ chainId: chain.chain.id, registry }, { client: chain.client });
  });
  after(() => chain?.stop());

  /** A fresh verdict on a fresh target, attested by a threshold of the committee. */
  async function newJob(rank = 0, overrides: Partial<Verdict> = {}): Promise<RelayJob & { verdict: Verdict }> {
    const issuedAt = await latestTimestamp(chain);
    const n = ++candidates;
    const verdict: Verdict = {
      candidateId: keccak256(stringToHex(`relayer-candidate-${n}`)),
      chainId: BigInt(chain.chain.id),
      target: getAddress(keccak256(stringToHex(`target-${n}`)).slice(0, 42)),
      codehash: keccak256(stringToHex(`code-${n}`)),
      outcome: Outcome.Approve,
      policyHash: keccak256(stringToHex("policy")),
      reasons: 0n,
      findingsDigest: keccak256(stringToHex("findings")),
      issuedAt,
      expiresAt: issuedAt + 86_400n,
      ...overrides,
    };
    const attestation = encodeAttestation(committee.attest(verdict, 0, committee.firstSigners(committee.threshold)));
    return { candidateId: verdict.candidateId, digest: verdictDigest(NETWORK_ID, verdict), attestation, rank, verdict };
  }

  interface Harness {
    relayer: ChainRelayer;
    clients: ChainClients;
    sleeps: number[];
  }

  /**
   * A relayer sending from dev account `key`, through `rpcUrl` (anvil itself by default). Its
   * waits (rank delay, backoff) are recorded in `sleeps` and resolve at once unless `sleep` is
   * given, so tests never wait on the clock. Receipt polls (automine still takes a moment to
   * publish a receipt) really sleep RECEIPT_POLL_MS and are not recorded.
   */
  function relayerFor(
    key: number,
    options: Partial<ChainRelayerOptions> & { rpcUrl?: string; sleep?: (ms: number) => Promise<void> } = {},
  ): Harness {
    const { rpcUrl = chain.anvil.rpcUrl, sleep, ...overrides } = options;
    const clients = connectChain(chain.chain.id, rpcUrl, ANVIL_DEV_KEYS[key]!);
    const sleeps: number[] = [];
    const relayer = new ChainRelayer(
      {
        chainId: chain.chain.id,
        registry,
        fallbackStepMs: 1_000,
        maxAttempts: 5,
        backoffMs: { initial: 10, max: 40 },
        receiptPollMs: RECEIPT_POLL_MS,
        receiptTimeoutMs: 10_000,
        ...overrides,
      },
      {
        client: clients.client,
        wallet: clients.wallet,
        logger: silent,
        sleep: (ms) => {
          if (ms === RECEIPT_POLL_MS) return delay(ms);
          sleeps.push(ms);
          return sleep ? sleep(ms) : Promise.resolve();
        },
      },
    );
    return { relayer, clients, sleeps };
  }

  /** A job made stale by a newer verdict on the same subject, recorded first (labelled for its candidate id). */
  async function staleJob(newerLabel: string): Promise<RelayJob & { verdict: Verdict }> {
    const stale = await newJob();
    const newer = await newJob(0, {
      candidateId: keccak256(stringToHex(newerLabel)),
      target: stale.verdict.target,
      codehash: stale.verdict.codehash,
      issuedAt: stale.verdict.issuedAt + 10n,
      outcome: Outcome.Revoke,
    });
    assert.equal((await relayerFor(1).relayer.relay(newer)).status, "submitted");
    return stale;
  }

  const nonceOf = (address: Address) => chain.client.getTransactionCount({ address, blockTag: "latest" });

  /** VerdictRecorded events for `digest` in the whole chain history. */
  async function recordedEvents(digest: Hex): Promise<number> {
    const logs = await chain.client.getLogs({ address: registry, fromBlock: 0n, toBlock: "latest" });
    return parseEventLogs({ abi, logs, eventName: "VerdictRecorded" }).filter((log) => log.args.digest === digest).length;
  }

  /** Hashes of the transactions from `address` to the registry in blocks after `fromBlock`, in order. */
  async function transactionsFrom(address: Address, fromBlock: bigint): Promise<Hex[]> {
    const latest = await chain.client.getBlockNumber({ cacheTime: 0 });
    const hashes: Hex[] = [];
    for (let n = fromBlock + 1n; n <= latest; n++) {
      const block = await chain.client.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        if (getAddress(tx.from) === address && tx.to !== null && getAddress(tx.to) === registry) hashes.push(tx.hash);
      }
    }
    return hashes;
  }
  const sentToRegistry = async (address: Address, fromBlock: bigint) => (await transactionsFrom(address, fromBlock)).length;

  it("submits an attestation, after which the registry approves the code", async () => {
    const job = await newJob();
    const { relayer, clients, sleeps } = relayerFor(1);
    const before = await nonceOf(clients.wallet.account.address);

    const result = await relayer.relay(job);
    assert.equal(result.status, "submitted", JSON.stringify(result, (_, v) => (typeof v === "bigint" ? `${v}` : v)));
    assert.ok(result.gasUsed > 0n && result.blockNumber > 0n);
    assert.equal(await reader.isRecorded(job.digest), true);
    assert.equal(await reader.isApproved(job.verdict.chainId, job.verdict.target, job.verdict.codehash), true);
    assert.equal(await nonceOf(clients.wallet.account.address), before + 1);
    assert.deepEqual(sleeps, [], "rank 0 relays at once");

    const [status] = relayer.status(job.candidateId);
    assert.ok(status);
    assert.equal(status.state, "submitted");
    assert.equal(status.txHash, result.txHash);
    assert.equal(status.attempts, 1);
    assert.equal(relayer.stats().submitted, 1);
  });

  it("a fallback relayer (rank 1) waits its step, finds the digest recorded and sends nothing", async () => {
    const job = await newJob();
    const primary = relayerFor(1);
    let primaryDone!: Promise<unknown>;
    // The fallback's step ends when the primary has finished: no clock involved.
    const fallback = relayerFor(2, { fallbackStepMs: 5_000, sleep: () => primaryDone.then(() => undefined) });
    const fallbackNonce = await nonceOf(fallback.clients.wallet.account.address);

    primaryDone = primary.relayer.relay(job);
    const [first, second] = await Promise.all([primaryDone, fallback.relayer.relay({ ...job, rank: 1 })]);
    assert.equal((first as { status: string }).status, "submitted");
    assert.deepEqual(second, { status: "already-recorded", by: "other-relayer" });
    assert.deepEqual(fallback.sleeps, [5_000], "waited rank * fallbackStepMs");
    assert.equal(await nonceOf(fallback.clients.wallet.account.address), fallbackNonce, "the fallback sent nothing");
    assert.equal(fallback.relayer.status(job.candidateId)[0]?.state, "already-recorded");
  });

  it("two primaries racing: one records the verdict, the other reports already-recorded", async (t) => {
    const job = await newJob();
    const a = relayerFor(3);
    const b = relayerFor(4);
    const startBlock = await chain.client.getBlockNumber({ cacheTime: 0 });

    const results = await Promise.all([a.relayer.relay(job), b.relayer.relay(job)]);
    assert.deepEqual(results.map((r) => r.status).sort(), ["already-recorded", "submitted"]);
    const winnerIndex = results.findIndex((r) => r.status === "submitted");
    const winner = results[winnerIndex]!;
    assert.ok(winner.status === "submitted");
    assert.deepEqual(results[1 - winnerIndex], { status: "already-recorded", by: "other-relayer" });
    assert.equal(await recordedEvents(job.digest), 1, "exactly one VerdictRecorded");

    const [winnerHarness, loserHarness] = winnerIndex === 0 ? [a, b] : [b, a];
    assert.equal(await sentToRegistry(winnerHarness.clients.wallet.account.address, startBlock), 1);
    // Exactly one transaction succeeds. Whether the loser's lands too depends on the interleaving:
    // if its gas estimate ran before the winner's transaction was mined, nothing could stop it, and
    // it reverts with AlreadyRecorded before the pairing, which keeps it cheap.
    const loserSent = await sentToRegistry(loserHarness.clients.wallet.account.address, startBlock);
    const loserTx = loserHarness.relayer.status(job.candidateId)[0]?.txHash;
    assert.equal(loserSent, loserTx === undefined ? 0 : 1);
    if (loserTx !== undefined) {
      const receipt = await chain.client.getTransactionReceipt({ hash: loserTx });
      assert.equal(receipt.status, "reverted");
      assert.ok(receipt.gasUsed * 3n < winner.gasUsed, `loser paid ${receipt.gasUsed} gas, winner ${winner.gasUsed}`);
    }
    t.diagnostic(`the loser ${loserTx === undefined ? "sent nothing" : "landed a transaction that reverted cheaply"}`);
  });

  it("the same relayer asked twice for one digest sends it once", async () => {
    const job = await newJob();
    const { relayer, clients } = relayerFor(5);
    const before = await nonceOf(clients.wallet.account.address);
    const [first, second] = await Promise.all([relayer.relay(job), relayer.relay(job)]);
    assert.equal(first.status, "submitted");
    assert.deepEqual(second, { status: "already-recorded" }, "joined the first job, which this relayer submitted");
    assert.deepEqual(await relayer.relay(job), { status: "already-recorded" }, "and remembers it afterwards");
    assert.equal(await nonceOf(clients.wallet.account.address), before + 1);
    assert.equal(relayer.status(job.candidateId).length, 1);
  });

  it("serialises sends: concurrent jobs of one relayer get consecutive nonces", async () => {
    const jobs = await Promise.all([newJob(), newJob(), newJob(), newJob()]);
    const { relayer, clients } = relayerFor(6);
    const before = await nonceOf(clients.wallet.account.address);
    const results = await Promise.all(jobs.map((job) => relayer.relay(job)));
    assert.deepEqual(results.map((r) => r.status), ["submitted", "submitted", "submitted", "submitted"]);
    assert.equal(await nonceOf(clients.wallet.account.address), before + 4);
  });

  describe("through an unreliable RPC", () => {
    let proxy: FlakyRpc;
    before(async () => {
      proxy = await FlakyRpc.start(chain.anvil.rpcUrl);
    });
    after(() => proxy?.close());

    it("classifies real failures: contract reverts end a job, RPC failures are retried", async () => {
      const job = await newJob();
      assert.equal((await relayerFor(1).relayer.relay(job)).status, "submitted");
      const { clients } = relayerFor(2);
      const submit = { address: registry, abi, functionName: "submitAttestation", args: [job.attestation] } as const;
      const failure = (promise: Promise<unknown>) =>
        promise.then(
          () => assert.fail("expected a failure"),
          (error: unknown) => classifyRelayError(error),
        );

      const simulated = await failure(clients.client.simulateContract({ ...submit, account: clients.wallet.account }));
      assert.equal(simulated.kind, "revert");
      assert.equal(simulated.name, "AlreadyRecorded");
      // The relayer's own simulation: a plain eth_call, not decoded by viem against the ABI.
      const called = await failure(clients.client.call({ account: clients.wallet.account, to: registry, data: encodeFunctionData(submit) }));
      assert.equal(called.kind, "revert");
      assert.equal(called.name, "AlreadyRecorded");
      // The gas estimate of a prepared transaction is not decoded by viem; the relayer decodes it.
      const prepared = await failure(
        clients.wallet.prepareTransactionRequest({ to: registry, data: encodeFunctionData(submit), account: clients.wallet.account, chain: clients.chain }),
      );
      assert.equal(prepared.kind, "revert");
      assert.equal(prepared.name, "AlreadyRecorded");

      proxy.decide = () => "fail";
      const overProxy = connectChain(chain.chain.id, proxy.url, ANVIL_DEV_KEYS[2]!);
      const unavailable = await failure(overProxy.client.simulateContract({ ...submit, account: overProxy.wallet.account }));
      proxy.decide = () => "forward";
      assert.deepEqual(unavailable, { kind: "retry", message: "RPC answered HTTP 503" });

      const refused = connectChain(chain.chain.id, "http://127.0.0.1:9", ANVIL_DEV_KEYS[2]!);
      assert.equal((await failure(refused.client.readContract({ address: registry, abi, functionName: "isRecorded", args: [job.digest] }))).kind, "retry");
      assert.equal(classifyRelayError(new TypeError("a bug")).kind, "fatal");
    });

    it("retries with exponential backoff while the RPC answers 503, then submits", async () => {
      const job = await newJob();
      const { relayer, clients, sleeps } = relayerFor(8, { rpcUrl: proxy.url });
      const before = await nonceOf(clients.wallet.account.address);
      proxy.methods.length = 0;
      // Each attempt reads the registry once (eth_call): its first three attempts fail.
      let registryReads = 0;
      proxy.decide = (method) => (method === "eth_call" && ++registryReads <= 3 ? "fail" : "forward");

      const result = await relayer.relay(job);
      assert.equal(result.status, "submitted");
      assert.deepEqual(sleeps, [10, 20, 40], "initial, doubled, doubled");
      assert.equal(relayer.status(job.candidateId)[0]?.attempts, 4);
      assert.equal(relayer.stats().retries, 3);
      assert.equal(await nonceOf(clients.wallet.account.address), before + 1);
      assert.equal(await reader.isRecorded(job.digest), true);
    });

    it("caps the backoff and gives up after maxAttempts while the RPC stays down", async () => {
      const job = await newJob();
      const { relayer, sleeps } = relayerFor(8, { rpcUrl: proxy.url, maxAttempts: 6 });
      proxy.decide = () => "fail";
      const result = await relayer.relay(job);
      proxy.decide = () => "forward";
      assert.equal(result.status, "failed");
      assert.equal(result.status === "failed" && result.code, "RELAY_RETRIES_EXHAUSTED");
      assert.equal(result.status === "failed" && result.attempts, 6);
      assert.deepEqual(sleeps, [10, 20, 40, 40, 40]);
      assert.equal(relayer.status(job.candidateId)[0]?.state, "failed");
      assert.equal(await reader.isRecorded(job.digest), false);
    });

    it("prepares without eth_estimateGas: a simulation, and the cost model's gas limit, which covers the transaction", async () => {
      const job = await newJob();
      const { relayer } = relayerFor(7, { rpcUrl: proxy.url });
      proxy.methods.length = 0;
      const result = await relayer.relay(job);
      assert.ok(result.status === "submitted");
      assert.equal(proxy.count("eth_estimateGas") + proxy.count("eth_fillTransaction"), 0, proxy.methods.join(" "));
      assert.equal(proxy.count("eth_call"), 1, "one simulation");
      assert.equal(proxy.count("eth_chainId"), 0, "a local key signs without asking");
      const tx = await chain.client.getTransaction({ hash: result.txHash });
      assert.equal(tx.gas, attestationGasLimit(decodeAttestation(job.attestation).signers));
      assert.ok(result.gasUsed < tx.gas, `used ${result.gasUsed} of ${tx.gas}`);
    });

    it("a transaction out of gas at a limit that was not estimated is retried with an estimate, and estimates from then on", async () => {
      const job = await newJob();
      const { relayer, clients, sleeps } = relayerFor(6, { rpcUrl: proxy.url, gas: 100_000n });
      const sender = clients.wallet.account.address;
      const startBlock = await chain.client.getBlockNumber({ cacheTime: 0 });
      proxy.methods.length = 0;
      const result = await relayer.relay(job);
      assert.ok(result.status === "submitted");
      const sent = await transactionsFrom(sender, startBlock);
      assert.equal(sent.length, 2, "the out-of-gas transaction, then the one that landed");
      const outOfGas = await chain.client.getTransactionReceipt({ hash: sent[0]! });
      assert.equal(outOfGas.status, "reverted");
      assert.equal(outOfGas.gasUsed, 100_000n);
      assert.equal(sent[1], result.txHash);
      assert.equal(relayer.status(job.candidateId)[0]?.attempts, 2);
      assert.deepEqual(sleeps, [10], "one backoff");
      // viem estimates through eth_fillTransaction where the node has it (anvil does).
      const estimates = () => proxy.count("eth_estimateGas") + proxy.count("eth_fillTransaction");
      assert.equal(estimates(), 1, proxy.methods.join(" "));
      assert.equal(await reader.isRecorded(job.digest), true);

      proxy.methods.length = 0;
      assert.equal((await relayer.relay(await newJob())).status, "submitted");
      assert.equal(estimates(), 1, "and so does the next job");
    });

    describe("an anticipated primary (nonce and fees read before the attestation)", () => {
      const reads = ["eth_call", "eth_getTransactionCount", "eth_getBlockByNumber", "eth_maxPriorityFeePerGas", "eth_estimateGas"];
      const readsIn = (methods: string[]) => methods.filter((method) => reads.includes(method));

      it("signs and sends at once: no read between the attestation and the broadcast", async () => {
        const job = await newJob();
        const { relayer, clients } = relayerFor(7, { rpcUrl: proxy.url });
        const before = await nonceOf(clients.wallet.account.address);
        await relayer.anticipate();
        proxy.methods.length = 0;
        const result = await relayer.relay({ ...job, fresh: true });
        assert.ok(result.status === "submitted", show(result));
        const untilBroadcast = proxy.methods.slice(0, proxy.methods.indexOf("eth_sendRawTransaction"));
        assert.deepEqual(untilBroadcast, [], `requests before the broadcast: ${proxy.methods.join(" ")}`);
        assert.deepEqual(readsIn(proxy.methods), [], "and none after it but the receipt");
        assert.equal(await nonceOf(clients.wallet.account.address), before + 1);
        assert.equal(await reader.isApproved(job.verdict.chainId, job.verdict.target, job.verdict.codehash), true);
      });

      it("never reuses the anticipated nonce: the next job takes the one after it", async () => {
        const [first, second] = await Promise.all([newJob(), newJob()]);
        const { relayer, clients } = relayerFor(7, { rpcUrl: proxy.url });
        const before = await nonceOf(clients.wallet.account.address);
        await relayer.anticipate();
        proxy.methods.length = 0;
        assert.equal((await relayer.relay({ ...first, fresh: true })).status, "submitted");
        assert.equal((await relayer.relay({ ...second, fresh: true })).status, "submitted");
        assert.deepEqual(readsIn(proxy.methods), [], "both sent from the one read ahead");
        assert.equal(await nonceOf(clients.wallet.account.address), before + 2);
      });

      it("a nonce taken elsewhere since the read: refused, then prepared afresh and sent", async () => {
        const job = await newJob();
        const { relayer, clients, sleeps } = relayerFor(7, { rpcUrl: proxy.url });
        await relayer.anticipate();
        // The same account sends something else: the anticipated nonce is gone.
        const other = await clients.wallet.sendTransaction({ to: clients.wallet.account.address, value: 0n });
        await chain.client.waitForTransactionReceipt({ hash: other });
        const result = await relayer.relay({ ...job, fresh: true });
        assert.ok(result.status === "submitted", show(result));
        assert.equal(relayer.status(job.candidateId)[0]?.attempts, 2);
        assert.deepEqual(sleeps, [10], "one backoff");
        assert.equal(await reader.isRecorded(job.digest), true);
      });

      it("an unsimulated transaction that reverts is retried through the simulation, which names the reason", async () => {
        const stale = await staleJob("newer-than-anticipated");
        const { relayer, clients } = relayerFor(7, { rpcUrl: proxy.url });
        const startBlock = await chain.client.getBlockNumber({ cacheTime: 0 });
        await relayer.anticipate();
        const result = await relayer.relay({ ...stale, fresh: true });
        assert.ok(result.status === "failed");
        assert.equal(result.code, "RELAY_REVERTED");
        assert.match(result.error, /^StaleVerdict\(/);
        assert.equal(result.attempts, 2);
        const sent = await transactionsFrom(clients.wallet.account.address, startBlock);
        assert.equal(sent.length, 1, "the unsimulated transaction only: the simulation stopped the second");
        assert.equal((await chain.client.getTransactionReceipt({ hash: sent[0]! })).status, "reverted");
      });

      it("a digest someone else recorded meanwhile: the reverted transaction is read as already recorded", async () => {
        const job = await newJob();
        assert.equal((await relayerFor(1).relayer.relay({ ...job, fresh: true })).status, "submitted");
        const { relayer } = relayerFor(7, { rpcUrl: proxy.url });
        await relayer.anticipate();
        assert.deepEqual(await relayer.relay({ ...job, fresh: true }), { status: "already-recorded", by: "other-relayer" });
        assert.equal(await recordedEvents(job.digest), 1);
      });

      it("an attestation that is not fresh (learned from a chain or a peer, or relayed again) is simulated first: recorded, nothing is sent", async () => {
        const job = await newJob();
        assert.equal((await relayerFor(1).relayer.relay(job)).status, "submitted");
        const { relayer, clients } = relayerFor(7, { rpcUrl: proxy.url });
        const before = await nonceOf(clients.wallet.account.address);
        await relayer.anticipate();
        proxy.methods.length = 0;
        assert.deepEqual(await relayer.relay(job), { status: "already-recorded", by: "other-relayer" });
        assert.equal(proxy.count("eth_sendRawTransaction"), 0, proxy.methods.join(" "));
        assert.equal(await nonceOf(clients.wallet.account.address), before, "no doomed transaction");
      });

      it("only the primary's first attempt goes unsimulated: a fallback relayer simulates", async () => {
        const job = await newJob();
        const { relayer } = relayerFor(7, { rpcUrl: proxy.url });
        await relayer.anticipate();
        proxy.methods.length = 0;
        assert.equal((await relayer.relay({ ...job, rank: 1, fresh: true })).status, "submitted");
        assert.equal(proxy.count("eth_call"), 1, proxy.methods.join(" "));
      });
    });

    it("a broadcast whose answer is lost is followed up, never sent twice", async () => {
      const job = await newJob();
      const { relayer, clients } = relayerFor(9, { rpcUrl: proxy.url });
      const before = await nonceOf(clients.wallet.account.address);
      let lost = 0;
      proxy.decide = (method) => (method === "eth_sendRawTransaction" && lost++ === 0 ? "forward-then-fail" : "forward");
      proxy.methods.length = 0;

      const result = await relayer.relay(job);
      proxy.decide = () => "forward";
      assert.equal(result.status, "submitted");
      assert.equal(proxy.count("eth_sendRawTransaction"), 1, "the signed transaction was not sent again");
      assert.equal(await nonceOf(clients.wallet.account.address), before + 1);
      assert.equal(relayer.status(job.candidateId)[0]?.attempts, 2);
      assert.equal(relayer.status(job.candidateId)[0]?.txHash, result.status === "submitted" ? result.txHash : undefined);
    });

    it("a broadcast that never reached the node is broadcast again, byte for byte", async () => {
      const job = await newJob();
      const { relayer, clients } = relayerFor(9, { rpcUrl: proxy.url });
      const before = await nonceOf(clients.wallet.account.address);
      let dropped = 0;
      proxy.decide = (method) => (method === "eth_sendRawTransaction" && dropped++ === 0 ? "fail" : "forward");
      proxy.methods.length = 0;

      const result = await relayer.relay(job);
      proxy.decide = () => "forward";
      assert.equal(result.status, "submitted");
      assert.equal(proxy.count("eth_sendRawTransaction"), 2, "dropped once, then the same bytes again");
      assert.equal(await nonceOf(clients.wallet.account.address), before + 1);
    });
  });

  it("a deterministic revert (StaleVerdict) fails after one attempt without sending", async () => {
    const stale = await staleJob("newer");

    const { relayer, clients, sleeps } = relayerFor(2);
    const before = await nonceOf(clients.wallet.account.address);
    const result = await relayer.relay(stale);
    assert.equal(result.status, "failed");
    assert.ok(result.status === "failed");
    assert.equal(result.code, "RELAY_REVERTED");
    assert.match(result.error, /^StaleVerdict\(/);
    assert.equal(result.attempts, 1);
    assert.deepEqual(sleeps, [], "no backoff: a revert is not retried");
    assert.equal(await nonceOf(clients.wallet.account.address), before, "no transaction sent");
    assert.equal(relayer.status(stale.candidateId)[0]?.state, "failed");
  });

  it("an expired attestation fails the same way", async () => {
    const issuedAt = (await latestTimestamp(chain)) - 100n;
    const job = await newJob(0, { issuedAt, expiresAt: issuedAt + 1n });
    const { relayer } = relayerFor(2);
    const result = await relayer.relay(job);
    assert.ok(result.status === "failed");
    assert.equal(result.code, "RELAY_REVERTED");
    assert.match(result.error, /^AttestationExpired\(/);
  });

  it("refuses a job whose digest or candidate id does not match its attestation", async () => {
    const job = await newJob();
    const { relayer } = relayerFor(2);
    const wrongDigest = await relayer.relay({ ...job, digest: keccak256("0x01") });
    assert.ok(wrongDigest.status === "failed");
    assert.equal(wrongDigest.code, "RELAY_INVALID_JOB");
    const wrongCandidate = await relayer.relay({ ...job, candidateId: keccak256("0x02") });
    assert.ok(wrongCandidate.status === "failed" && wrongCandidate.code === "RELAY_INVALID_JOB");
    const truncated = await relayer.relay({ ...job, attestation: job.attestation.slice(0, -2) as Hex });
    assert.ok(truncated.status === "failed" && truncated.code === "RELAY_INVALID_JOB");
    assert.equal(await reader.isRecorded(job.digest), false);
  });

  it("cancel() aborts a fallback relayer's wait; stop() refuses new jobs", async () => {
    const job = await newJob(3);
    const never = () => new Promise<void>(() => {});
    const { relayer, clients } = relayerFor(2, { sleep: never });
    const before = await nonceOf(clients.wallet.account.address);

    const pending = relayer.relay(job);
    await Promise.resolve();
    assert.equal(relayer.status(job.candidateId)[0]?.state, "waiting");
    assert.equal(relayer.cancel(job.candidateId), 1);
    const result = await pending;
    assert.ok(result.status === "failed");
    assert.equal(result.code, "RELAY_CANCELLED");
    assert.equal(result.attempts, 0);
    assert.equal(await nonceOf(clients.wallet.account.address), before);

    const waiting = relayer.relay(await newJob(2));
    await relayer.stop();
    const stopped = await waiting;
    assert.ok(stopped.status === "failed" && stopped.code === "RELAY_STOPPED");
    const refused = await relayer.relay(await newJob());
    assert.ok(refused.status === "failed" && refused.code === "RELAY_STOPPED" && refused.attempts === 0);
  });

  it("bounds its records: the oldest finished jobs are evicted first", async () => {
    const { relayer } = relayerFor(2, { maxTrackedJobs: 2 });
    const jobs = [await newJob(), await newJob(), await newJob()];
    for (const job of jobs) await relayer.relay({ ...job, digest: keccak256("0x03") });
    assert.equal(relayer.jobs().length, 0, "refused jobs leave no record");
    for (const job of jobs) await relayer.relay(job);
    assert.deepEqual(relayer.jobs().map((s) => s.candidateId), [jobs[1]!.candidateId, jobs[2]!.candidateId]);
    assert.equal(relayer.stats().evictedRecords, 1);
  });

  it("refuses a job when every tracked job is still in flight", async () => {
    const { relayer } = relayerFor(2, { maxTrackedJobs: 1, sleep: () => new Promise<void>(() => {}) });
    const waiting = relayer.relay(await newJob(1));
    const refused = await relayer.relay(await newJob(1));
    assert.ok(refused.status === "failed" && refused.code === "RELAY_BUSY");
    assert.equal(relayer.stats().refusedBusy, 1);
    await relayer.stop();
    assert.ok((await waiting).status === "failed");
  });
});
