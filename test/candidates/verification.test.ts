// One candidate's verification, with a real candidate store and scripted pipeline answers: a
// failure to observe (this node's RPC, a time limit) is never signed — the node abstains, says
// why, and is retried — while facts about the candidate are signed, rejections included.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { getAddress, keccak256, stringToHex, type Hex } from "viem";
import type { AdmittedCandidate } from "../../src/admission/admission.ts";
import { BundleUnavailableError, type BundleSource } from "../../src/candidates/bundleSource.ts";
import { CandidateStore } from "../../src/candidates/candidateStore.ts";
import { VerifyLaterError } from "../../src/candidates/scheduler.ts";
import { CandidateVerification } from "../../src/candidates/verification.ts";
import { Outcome, type Verdict } from "../../src/codec/types.ts";
import type { Signer } from "../../src/consensus/signer.ts";
import { Database } from "../../src/db/database.ts";
import type { EventType } from "../../src/events/eventLog.ts";
import { ManualClock } from "../../src/util/clock.ts";
import type { Finding, PipelineResult } from "../../src/verify/pipeline.ts";
import { PipelineWorkerError } from "../../src/verify/worker/pipelineWorker.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-verification-test"));
const hash = (label: string): Hex => keccak256(stringToHex(label));
const admitted: AdmittedCandidate = {
  id: hash("candidate"),
  proposer: getAddress("0x00000000000000000000000000000000000000aa"),
  signed: {
    candidate: {
      chainId: 31337n,
      target: getAddress("0x00000000000000000000000000000000000a11ce"),
      implementation: getAddress("0x0000000000000000000000000000000000000b0b"),
      sourceHash: hash("bundle"),
      policyHash: hash("policy"),
      blockNumber: 1n,
      nonce: 1n,
      createdAt: 1_000n,
      expiresAt: 2_000n,
    },
    signature: `0x${"11".repeat(65)}`,
  },
};

function result(findings: Finding[], outcome: Outcome = Outcome.Approve): PipelineResult {
  return { outcome, reasons: 0n, findings, findingsDigest: hash(JSON.stringify(findings)), codehash: hash("code"), timings: {} };
}

describe("CandidateVerification", () => {
  let dir: string;
  let db: Database;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-verification-"));
    db = await Database.open(dir);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function verification(
    answer: () => Promise<PipelineResult>,
    bundles: Pick<BundleSource, "load"> = { load: async () => ({}) as never },
    candidate: AdmittedCandidate = admitted,
  ) {
    const store = new CandidateStore({}, { db });
    await store.add(candidate, "api", null, new Date(0));
    const signed: Verdict[] = [];
    const events: { type: EventType; data: unknown }[] = [];
    const waiting: Verdict[] = [];
    const part = new CandidateVerification(
      {},
      {
        networkId: NETWORK_ID,
        store,
        bundles: bundles as BundleSource,
        pipeline: { verify: answer },
        chains: new Map([[31337, { chainId: 31337, rpcUrl: "http://127.0.0.1:1", registry: getAddress("0x0000000000000000000000000000000000000001") }]]),
        signer: { signAndSend: async (verdict: Verdict) => (signed.push(verdict), { status: "signed", digest: hash("d") }) } as unknown as Signer,
        humanGate: { wait: async (_admitted, verdict) => void waiting.push(verdict) },
        mark: () => {},
        onSigned: () => {},
        events: { emit: (type, _id, data) => void events.push({ type, data }) },
        clock: new ManualClock(5_000),
        logger: pino({ level: "silent" }),
      },
    );
    return { part, store, signed, events, waiting };
  }

  for (const code of ["CHECK_FAILED", "CHECK_TIMED_OUT", "COMPILER_UNAVAILABLE", "BLOCK_UNAVAILABLE"] as const) {
    it(`abstains on ${code}: nothing signed, the reason kept and announced, retried later`, async () => {
      const { part, store, signed, events } = await verification(async () =>
        result([{ check: "shadow-deployment", code, severity: "reject", message: "eth_call failed: fetch failed" }], Outcome.Reject),
      );
      await assert.rejects(part.run(admitted), (error: unknown) => error instanceof VerifyLaterError && /could not observe/.test(error.message));
      assert.deepEqual(signed, []);
      const record = await store.get(admitted.id);
      assert.equal(record?.verification, null);
      assert.deepEqual((record?.abstention as { findings: { code: string }[] }).findings.map((f) => f.code), [code]);
      assert.deepEqual(events.map((e) => e.type), ["verification.deferred"]);
      assert.equal(part.stats.abstained, 1);
    });
  }

  it("signs facts, rejections included, and forgets an earlier abstention", async () => {
    let first = true;
    const { part, store, signed } = await verification(async () => {
      if (first) {
        first = false;
        return result([{ check: "shadow-deployment", code: "CHECK_TIMED_OUT", severity: "reject", message: "timed out" }], Outcome.Reject);
      }
      return result([{ check: "bytecode", code: "SELFDESTRUCT_REACHABLE", severity: "reject", message: "reachable SELFDESTRUCT" }], Outcome.Reject);
    });
    await assert.rejects(part.run(admitted), VerifyLaterError);
    await part.run(admitted);
    assert.equal(signed.length, 1);
    assert.equal(signed[0]!.outcome, Outcome.Reject);
    const record = await store.get(admitted.id);
    assert.equal(record?.abstention, undefined);
    assert.equal((record?.verification as { outcome: number }).outcome, Outcome.Reject);
  });

  it("under a human gate, an automated approval waits for approvers and an automated rejection is signed at once", async () => {
    const gated = { load: async () => ({ policy: { humanGate: { threshold: 2, approvers: [] } } }) as never };
    const approving = await verification(async () => result([{ check: "bytecode", code: "OK", severity: "info", message: "fine" }]), gated);
    await approving.part.run(admitted);
    assert.deepEqual(approving.signed, []);
    assert.equal(approving.waiting.length, 1);
    assert.equal(approving.waiting[0]!.outcome, Outcome.Approve);
    assert.equal(((await approving.store.get(admitted.id))?.verification as { outcome: number }).outcome, Outcome.Approve, "the automated report is stored for approvers to read");
    await db.close();
    db = await Database.open(join(dir, "rejecting"));
    const rejecting = await verification(async () => result([{ check: "bytecode", code: "SELFDESTRUCT_REACHABLE", severity: "reject", message: "reachable" }], Outcome.Reject), gated);
    await rejecting.part.run(admitted);
    assert.deepEqual(rejecting.waiting, []);
    assert.equal(rejecting.signed.length, 1);
  });

  it("a bound candidate's verdict carries its binding and is otherwise the unbound one's; the store keeps it", async () => {
    const binding = hash("operation");
    const bound: AdmittedCandidate = { ...admitted, id: hash("bound"), signed: { ...admitted.signed, candidate: { ...admitted.signed.candidate, binding } } };
    const plain = await verification(async () => result([]));
    await plain.part.run(admitted);
    const boundRun = await verification(async () => result([]), undefined, bound);
    await boundRun.part.run(bound);
    const [unboundVerdict] = plain.signed;
    const [boundVerdict] = boundRun.signed;
    assert.equal(unboundVerdict!.binding, undefined);
    assert.ok(!("binding" in unboundVerdict!), "an unbound verdict has no binding field at all");
    assert.deepEqual(boundVerdict, { ...unboundVerdict, candidateId: bound.id, binding });
    const stored = await boundRun.store.get(bound.id);
    assert.equal((stored?.signed as { candidate: { binding?: string } }).candidate.binding, binding);
  });

  it("a bundle no peer served, or a worker that died, is this node's problem: retried, never a finding", async () => {
    const unavailable = await verification(async () => result([]), {
      load: async () => {
        throw new BundleUnavailableError("BUNDLE_UNAVAILABLE", "no peer served it", { hash: hash("bundle"), failures: [] });
      },
    });
    await assert.rejects(unavailable.part.run(admitted), VerifyLaterError);
    assert.deepEqual(unavailable.signed, []);
    await db.close();
    db = await Database.open(join(dir, "second"));
    const died = await verification(async () => {
      throw new PipelineWorkerError("WORKER_DIED", "the verification worker died");
    });
    await assert.rejects(died.part.run(admitted), VerifyLaterError);
    assert.deepEqual(died.signed, []);
  });
});
