// The node's check pipeline in its worker thread: the node's inputs cross the thread boundary
// intact (a bundle that does not parse is reported exactly as in process), the origin check's
// enrollment question comes back to the node, the thread runs below the main thread's priority,
// and close() ends it, with any shadow fork it started. Real anvil, real worker thread.
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { encodeFunctionData, getAddress, keccak256, toHex, type Address } from "viem";
import pino from "pino";
import { PlainUUPSVault, SentinelTestERC1967Proxy } from "../../../artifacts/contracts.ts";
import type { Candidate } from "../../../src/codec/candidate.ts";
import { Outcome } from "../../../src/codec/types.ts";
import { prepareUpgrade, readUpgradeCase, type PreparedUpgrade } from "../../../src/devnet/upgradeFixture.ts";
import { PipelineWorker, PipelineWorkerError, type VerifyJob } from "../../../src/verify/worker/pipelineWorker.ts";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { TEST_COMPILE_CACHE, testCompiler } from "../../helpers/compiler.ts";
import { isAlive } from "../../helpers/proc.ts";

const CORPUS = fileURLToPath(new URL("../../fixtures/corpus", import.meta.url));

const PROPOSER: Address = "0x00000000000000000000000000000000000000aa";

/** Nice values of this process's threads (Linux). */
function threadNiceValues(): number[] {
  return readdirSync("/proc/self/task").map((tid) => Number(readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]));
}

describe("PipelineWorker", () => {
  let chain: TestChain;
  let proxy: Address;
  let implementation: Address;

  before(async () => {
    chain = await startTestChain();
    implementation = getAddress(await chain.deploy(PlainUUPSVault));
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [chain.wallet.account.address] });
    proxy = getAddress(await chain.deploy(SentinelTestERC1967Proxy, [implementation, init]));
  });
  after(() => chain.stop());

  const job = async (): Promise<VerifyJob> => {
    const now = BigInt(Math.floor(Date.now() / 1000));
    const candidate: Candidate = {
      chainId: 31337n,
      target: proxy,
      implementation,
      sourceHash: keccak256(toHex("a bundle nobody can parse")),
      policyHash: `0x${"00".repeat(32)}`,
      blockNumber: await chain.client.getBlockNumber(),
      nonce: 1n,
      createdAt: now,
      expiresAt: now + 3600n,
    };
    return {
      candidateId: keccak256(toHex("candidate")),
      candidate,
      proposer: PROPOSER,
      chain: { chainId: 31337, rpcUrl: chain.anvil.rpcUrl, registry: "0x00000000000000000000000000000000000000bb" },
      bundle: { ok: false, field: "implementation.input", reason: "must be an object" },
    };
  };

  it("reports an unparsable bundle as in process, and asks the node about enrollment", async () => {
    const asked: VerifyJob[] = [];
    const worker = new PipelineWorker(
      { compileCacheDir: TEST_COMPILE_CACHE, niceness: 10, checkTimeoutMs: 30_000 },
      { enrollment: async (j) => (asked.push(j), { enrolled: false }), logger: pino({ level: "silent" }) },
    );
    try {
      const result = await worker.verify(await job());
      assert.equal(result.outcome, Outcome.Reject);
      const source = result.findings.find((f) => f.check === "source");
      assert.equal(source?.code, "SOURCE_UNAVAILABLE");
      assert.match(source!.message, /implementation\.input: must be an object/);
      const origin = result.findings.find((f) => f.check === "origin");
      assert.equal(origin?.code, "ORIGIN_INVALID", "the node's answer (not enrolled) reached the origin check");
      assert.equal(asked.length, 1);
      assert.equal(asked[0]!.proposer, PROPOSER);
      if (process.platform === "linux") {
        assert.ok(threadNiceValues().includes(10), "a thread of this process runs at nice 10");
        assert.equal(threadNiceValues()[0], 0, "the main thread keeps its priority");
      }
    } finally {
      await worker.close();
    }
  });

  it("close() ends the worker: verifications in flight and after fail with a clear error", async () => {
    const worker = new PipelineWorker(
      { compileCacheDir: TEST_COMPILE_CACHE, niceness: 0, checkTimeoutMs: 30_000 },
      { enrollment: () => new Promise(() => {}), logger: pino({ level: "silent" }) },
    );
    const pending = worker.verify(await job());
    await new Promise((resolve) => setTimeout(resolve, 200));
    await worker.close();
    await assert.rejects(pending, PipelineWorkerError);
    await assert.rejects(worker.verify(await job()), /closed/);
  });

  it("a worker whose solver failed ends once idle, and the next verification runs in a new one", async () => {
    const compiler = testCompiler();
    let prepared: PreparedUpgrade;
    try {
      prepared = await prepareUpgrade({ dir: join(CORPUS, "approve-new-function"), upgrade: readUpgradeCase(join(CORPUS, "approve-new-function")), chain, compiler });
    } finally {
      await compiler.close();
    }
    const warnings: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void warnings.push(JSON.parse(line).msg as string) });
    // No time at all for z3's answer: every query "fails", as a crashed z3 would.
    const worker = new PipelineWorker(
      { compileCacheDir: TEST_COMPILE_CACHE, niceness: 0, checkTimeoutMs: 60_000, solverAnswerGuardMs: 0 },
      { enrollment: async () => ({ enrolled: true }), logger },
    );
    try {
      const verifyOnce = async () => {
        const result = await worker.verify({ ...(await job()), candidate: prepared.candidate, bundle: { ok: true, value: prepared.bundle } });
        const access = result.findings.filter((f) => f.check === "access-control");
        assert.ok(access.some((f) => f.code === "CHECK_FAILED" && /z3/.test(f.message)), JSON.stringify(access));
      };
      await verifyOnce();
      for (const deadline = Date.now() + 10_000; warnings.length === 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(warnings.filter((w) => /solver failed/.test(w)).length, 1, "the thread retired");
      await verifyOnce(); // a new thread: it answers (and, its z3 failing too, retires in turn)
      for (const deadline = Date.now() + 10_000; warnings.length < 2 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(warnings.filter((w) => /solver failed/.test(w)).length, 2);
      assert.ok(!warnings.some((w) => /died/.test(w)), "a retirement is not a crash");
    } finally {
      await worker.close();
    }
  });

  it("close() stops the shadow deployment's fork of a verification in flight", { skip: process.platform !== "linux" }, async () => {
    const compiler = testCompiler();
    let prepared: PreparedUpgrade;
    try {
      prepared = await prepareUpgrade({ dir: join(CORPUS, "approve-new-function"), upgrade: readUpgradeCase(join(CORPUS, "approve-new-function")), chain, compiler });
    } finally {
      await compiler.close();
    }
    const worker = new PipelineWorker(
      { compileCacheDir: TEST_COMPILE_CACHE, niceness: 0, checkTimeoutMs: 60_000 },
      { enrollment: async () => ({ enrolled: true }), logger: pino({ level: "silent" }) },
    );
    const pending = worker.verify({ ...(await job()), candidate: prepared.candidate, bundle: { ok: true, value: prepared.bundle } });
    pending.catch(() => {}); // awaited below, after close()
    let forks: number[] = [];
    for (const deadline = Date.now() + 60_000; forks.length === 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      forks = liveForkChildren();
    }
    assert.ok(forks.length > 0, "the verification started a shadow fork");
    await worker.close();
    await assert.rejects(pending, PipelineWorkerError);
    assert.deepEqual(forks.filter(isAlive), [], "no fork outlives the worker");
  });
});

/** Anvil forks this process started that are running (Linux: /proc). */
function liveForkChildren(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
        return Number(stat[1]) === process.pid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--fork-url") && isAlive(pid);
      } catch {
        return false; // exited meanwhile
      }
    });
}
