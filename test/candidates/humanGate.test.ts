// The human gate on a real level database and a manual clock: an automated APPROVE waits for m
// distinct approvers, a duplicate counts once, the window's close signs REJECT with
// HUMAN_APPROVAL_REQUIRED, approvals that came before this node's report are held and counted,
// and a restart (a new gate on the same store) loses none.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pino } from "pino";
import { getAddress, keccak256, stringToHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { AdmittedCandidate } from "../../src/admission/admission.ts";
import { ApprovalStore } from "../../src/candidates/approvalStore.ts";
import { HumanGate, rejectionOf } from "../../src/candidates/humanGate.ts";
import { encodeSignedApproval, signedApprovalToJson, type SignedHumanApproval } from "../../src/codec/humanApproval.ts";
import type { HumanGate as GatePolicy } from "../../src/codec/policy.ts";
import { Outcome, sentinelDomain, SENTINEL_TYPES, type HumanApproval, type Verdict } from "../../src/codec/types.ts";
import { ApprovalError } from "../../src/consensus/validation/approval.ts";
import { Database } from "../../src/db/database.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { ReasonCode } from "../../src/verify/reasons.ts";

const NETWORK = keccak256(stringToHex("gate-test"));
const FINDINGS = keccak256(stringToHex("findings"));
const START = 1_800_000_000;
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const accounts = [0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey()));
const policyGate: GatePolicy = { threshold: 2, approvers: accounts.map((a) => a.address) };

function candidate(name: string): { admitted: AdmittedCandidate; verdict: Verdict } {
  const id = keccak256(stringToHex(name));
  const admitted = {
    id,
    signed: { candidate: { chainId: 31337n, createdAt: BigInt(START), expiresAt: BigInt(START + 3600) } },
    proposer: getAddress("0x0000000000000000000000000000000000000001"),
  } as unknown as AdmittedCandidate;
  const verdict: Verdict = {
    candidateId: id,
    chainId: 31337n,
    target: getAddress("0x0000000000000000000000000000000000000002"),
    codehash: keccak256("0x01"),
    outcome: Outcome.Approve,
    policyHash: keccak256("0x02"),
    reasons: 0n,
    findingsDigest: FINDINGS,
    issuedAt: BigInt(START),
    expiresAt: BigInt(START + 3600),
  };
  return { admitted, verdict };
}

async function approve(account: PrivateKeyAccount, candidateId: Hex, fields: Partial<HumanApproval> = {}): Promise<SignedHumanApproval> {
  const message: HumanApproval = { candidateId, findingsDigest: FINDINGS, expiresAt: BigInt(START + 7200), ...fields };
  const signature = await account.signTypedData({ domain: sentinelDomain(NETWORK), types: SENTINEL_TYPES, primaryType: "HumanApproval", message });
  return { ...message, approver: account.address, signature };
}

async function harness(dir = mkdtempSync(join(tmpdir(), "sentinel-gate-"))) {
  if (!dirs.includes(dir)) dirs.push(dir);
  const db = await Database.open(dir);
  const clock = new ManualClock(START * 1000);
  const signed: Verdict[] = [];
  const published: Uint8Array[] = [];
  const known = new Set<Hex>();
  const gate = new HumanGate(
    { networkId: NETWORK, closingMarginSeconds: 30 },
    {
      store: new ApprovalStore({}, { db }),
      hasCandidate: async (id) => known.has(id),
      sign: async (_admitted, verdict) => void signed.push(verdict),
      publish: async (bytes) => void published.push(bytes),
      isValidSignature: async () => false,
      clock,
      logger: pino({ level: "silent" }),
    },
  );
  return { dir, db, clock, gate, signed, published, known, close: async () => (gate.stop(), await db.close()) };
}

describe("HumanGate", () => {
  it("waits with fewer than m approvals, counts an approver once, and signs APPROVE at m", async () => {
    const h = await harness();
    const { admitted, verdict } = candidate("a");
    await h.gate.wait(admitted, verdict, policyGate);
    assert.equal(h.gate.status(admitted.id)?.state, "awaiting-approvals");
    const first = await approve(accounts[0]!, admitted.id);
    assert.equal((await h.gate.submit(admitted.id, signedApprovalToJson(first))).added, true);
    assert.equal(h.published.length, 1, "an API approval is gossiped");
    // The same approver again, even with a fresh signature, counts once.
    assert.equal((await h.gate.submit(admitted.id, signedApprovalToJson(await approve(accounts[0]!, admitted.id, { expiresAt: BigInt(START + 9999) })))).added, false);
    assert.equal(h.gate.status(admitted.id)?.count, 1);
    assert.deepEqual(h.signed, []);
    // A forged approval (another key claiming approver 1) and one replayed from another candidate change nothing.
    const forged = { ...(await approve(privateKeyToAccount(generatePrivateKey()), admitted.id)), approver: accounts[1]!.address };
    await assert.rejects(h.gate.submit(admitted.id, signedApprovalToJson(forged)), (e: unknown) => e instanceof ApprovalError && e.code === "BAD_SIGNATURE");
    const replayed = { ...(await approve(accounts[1]!, candidate("other").admitted.id)), candidateId: admitted.id };
    await assert.rejects(h.gate.submit(admitted.id, signedApprovalToJson(replayed)), (e: unknown) => e instanceof ApprovalError && e.code === "BAD_SIGNATURE");
    assert.equal(h.gate.status(admitted.id)?.count, 1);
    // The second approver, from gossip.
    assert.equal(await h.gate.fromGossip(encodeSignedApproval(await approve(accounts[1]!, admitted.id))), "accept");
    assert.deepEqual(h.signed, [verdict]);
    assert.equal(h.gate.status(admitted.id)?.state, "approved");
    await assert.rejects(h.gate.submit(admitted.id, signedApprovalToJson(await approve(accounts[2]!, admitted.id))), (e: unknown) => e instanceof ApprovalError && e.code === "DECIDED");
    // Nothing signs twice when the window would have closed.
    await h.clock.advance(4000_000);
    assert.equal(h.signed.length, 1);
    await h.close();
  });

  it("signs REJECT with HUMAN_APPROVAL_REQUIRED when the window closes short of m", async () => {
    const h = await harness();
    const { admitted, verdict } = candidate("b");
    await h.gate.wait(admitted, verdict, { ...policyGate, windowSeconds: 600 });
    await h.gate.submit(admitted.id, signedApprovalToJson(await approve(accounts[2]!, admitted.id)));
    await h.clock.advance(599_000);
    assert.deepEqual(h.signed, []);
    await h.clock.advance(1_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(h.signed, [rejectionOf(verdict)]);
    assert.equal((h.signed as Verdict[])[0]!.reasons, 1n << BigInt(ReasonCode.HUMAN_APPROVAL_REQUIRED));
    assert.equal((h.signed as Verdict[])[0]!.findingsDigest, FINDINGS, "the same automated findings digest");
    const status = h.gate.status(admitted.id)!;
    assert.equal(status.state, "rejected");
    assert.match(status.message, /1 of the 2 human approvals required \(3 approvers\)/);
    await h.close();
  });

  it("closes a window longer than a timer can wait (30 days) on time, not at once", async () => {
    const h = await harness();
    const { admitted, verdict } = candidate("long");
    (admitted.signed.candidate as { expiresAt: bigint }).expiresAt = BigInt(START + 31 * 86_400);
    await h.gate.wait(admitted, verdict, { ...policyGate, windowSeconds: 30 * 86_400 });
    await h.clock.advance(30 * 86_400_000 - 1_000);
    assert.deepEqual(h.signed, []);
    await h.clock.advance(1_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((h.signed as Verdict[])[0]?.outcome, Outcome.Reject);
    await h.close();
  });

  it("closes the window a margin before the candidate expires when the policy sets none", async () => {
    const h = await harness();
    const { admitted, verdict } = candidate("c");
    await h.gate.wait(admitted, verdict, policyGate);
    assert.equal(h.gate.status(admitted.id)?.closesAt, new Date((START + 3600 - 30) * 1000).toISOString());
    await h.close();
  });

  it("holds a gossiped approval that arrives before this node's report, and counts it then", async () => {
    const h = await harness();
    const { admitted, verdict } = candidate("d");
    const early = encodeSignedApproval(await approve(accounts[0]!, admitted.id));
    await assert.rejects(h.gate.fromGossip(early), (e: unknown) => e instanceof ApprovalError && e.code === "UNKNOWN_CANDIDATE" && e.action === "ignore");
    h.known.add(admitted.id);
    assert.equal(await h.gate.fromGossip(early), "ignore", "held, not forwarded by this node");
    await h.gate.wait(admitted, verdict, policyGate);
    assert.equal(h.gate.status(admitted.id)?.count, 1);
    await assert.rejects(h.gate.fromGossip(new TextEncoder().encode("{}")), (e: unknown) => e instanceof ApprovalError && e.code === "MALFORMED" && e.action === "reject");
    await h.close();
  });

  it("keeps its approvals across a restart", async () => {
    const h = await harness();
    const { admitted, verdict } = candidate("e");
    await h.gate.wait(admitted, verdict, policyGate);
    await h.gate.submit(admitted.id, signedApprovalToJson(await approve(accounts[1]!, admitted.id)));
    await h.close();
    const again = await harness(h.dir);
    await again.gate.wait(admitted, verdict, policyGate);
    assert.equal(again.gate.status(admitted.id)?.count, 1);
    assert.deepEqual(again.gate.status(admitted.id)?.approvedBy, [accounts[1]!.address]);
    await again.gate.submit(admitted.id, signedApprovalToJson(await approve(accounts[0]!, admitted.id)));
    assert.deepEqual(again.signed, [verdict]);
    await again.close();
    // And once m are stored, a restart signs at once (the signing record makes it the same verdict).
    const third = await harness(h.dir);
    await third.gate.wait(admitted, verdict, policyGate);
    assert.deepEqual(third.signed, [verdict]);
    await third.close();
  });
});
