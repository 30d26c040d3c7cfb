// Where monitoring meets the stores and the signer: which approvals are watched (held, unexpired,
// with a known policy, not yet revoked) and when a revocation is signed (only for an approval
// attestation this node holds, built from it, the same verdict for every breach of it).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keccak256, stringToHex, type Hex } from "viem";
import type { AttestationRecord } from "../../src/attestations/attestationStore.ts";
import type { CandidateRecord } from "../../src/candidates/candidateStore.ts";
import { encodeAttestation } from "../../src/codec/attestation.ts";
import { signedCandidateToJson } from "../../src/codec/candidate.ts";
import { DEFAULT_POLICY, parsePolicy } from "../../src/codec/policy.ts";
import { revocationId, revocationVerdict } from "../../src/codec/revocation.ts";
import { Outcome, type Verdict } from "../../src/codec/types.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { ApprovalSource, signRevocation } from "../../src/monitoring/approvals.ts";
import type { Breach, MonitoredApproval } from "../../src/monitoring/monitor.ts";
import { FIXED_CANDIDATE } from "../helpers/fixedCandidate.ts";

const NETWORK = keccak256(stringToHex("sentinel-approvals-test"));
const committee = LocalCommittee.generate(4, NETWORK);
const policy = parsePolicy({ ...DEFAULT_POLICY, invariants: [{ name: "cap", function: "function value() view returns (uint256)", args: [], relation: "lte", value: "100" }] });
const approvalId = keccak256(stringToHex("approval"));
const approval: Verdict = {
  candidateId: approvalId,
  chainId: FIXED_CANDIDATE.chainId,
  target: FIXED_CANDIDATE.target,
  codehash: keccak256(stringToHex("code")),
  outcome: Outcome.Approve,
  policyHash: keccak256(stringToHex("policy")),
  reasons: 0n,
  findingsDigest: keccak256(stringToHex("findings")),
  issuedAt: 1_000n,
  expiresAt: 5_000n,
};

function recordOf(verdict: Verdict): AttestationRecord {
  return {
    candidateId: verdict.candidateId,
    digest: "0x",
    encoded: encodeAttestation(committee.attest(verdict, 0)),
    setIndex: 0,
    signers: [0, 1, 2],
    outcome: verdict.outcome,
    chainId: verdict.chainId.toString(),
    target: verdict.target,
    codehash: verdict.codehash,
    receivedAt: "",
  };
}

function stores(held: AttestationRecord[], withCandidate = true) {
  const byId = new Map(held.map((r) => [r.candidateId, r]));
  const candidate = { signed: signedCandidateToJson({ candidate: FIXED_CANDIDATE, signature: `0x${"11".repeat(65)}` }) } as unknown as CandidateRecord;
  return {
    attestations: {
      withOutcome: async (outcome: number) => held.filter((r) => r.outcome === outcome),
      has: async (id: Hex) => byId.has(id),
      get: async (id: Hex) => byId.get(id),
    },
    candidates: { get: async (id: Hex) => (withCandidate && id === approvalId ? candidate : undefined), bundle: async () => ({ policy }) as never },
  };
}

describe("ApprovalSource", () => {
  it("watches a held, unexpired approval with the policy's invariants and the candidate's pinned block", async () => {
    const source = new ApprovalSource({}, { networkId: NETWORK, ...stores([recordOf(approval)]), nowSeconds: () => 2_000n });
    const [watched, ...rest] = await source.list();
    assert.equal(rest.length, 0);
    assert.equal(watched!.approvalId, approvalId);
    assert.equal(watched!.pinnedBlock, FIXED_CANDIDATE.blockNumber);
    assert.deepEqual(watched!.invariants.map((i) => i.name), ["cap"]);
  });

  it("drops expired approvals, revoked ones, and those whose candidate this node does not hold", async () => {
    const held = [recordOf(approval)];
    assert.equal((await new ApprovalSource({}, { networkId: NETWORK, ...stores(held), nowSeconds: () => 5_000n }).list()).length, 0);
    assert.equal((await new ApprovalSource({}, { networkId: NETWORK, ...stores(held, false), nowSeconds: () => 2_000n }).list()).length, 0);
    const revoke = revocationVerdict(NETWORK, { approvalId, approval, invariant: "cap" });
    assert.equal((await new ApprovalSource({}, { networkId: NETWORK, ...stores([...held, recordOf(revoke)]), nowSeconds: () => 2_000n }).list()).length, 0);
  });
});

describe("signRevocation", () => {
  const watched: MonitoredApproval = { approvalId, approval, pinnedBlock: 7n, invariants: policy.invariants };
  const breach = (episode: number): Breach => ({ approval: watched, invariant: "cap", start: { key: "k", episode, block: BigInt(10 + episode) }, value: { value: "101" }, expected: "100" });

  it("signs the codec's revocation of the held approval, the same verdict for every episode", async () => {
    const signed: Verdict[] = [];
    const events: string[] = [];
    const m = {
      networkId: NETWORK,
      attestations: stores([recordOf(approval)]).attestations,
      signer: { signAndSend: async (verdict: Verdict) => (signed.push(verdict), { status: "signed" as const, digest: "0x" as Hex }) },
      events: { emit: (type: string) => void events.push(type) },
    };
    await signRevocation(m, breach(1));
    await signRevocation(m, breach(2));
    assert.deepEqual(signed, [revocationVerdict(NETWORK, { approvalId, approval, invariant: "cap" }), revocationVerdict(NETWORK, { approvalId, approval, invariant: "cap" })]);
    assert.equal(signed[0]!.candidateId, revocationId(NETWORK, { approvalId, approval, invariant: "cap" }));
    assert.deepEqual(events, ["revocation.signed", "revocation.signed"]);
  });

  it("refuses without a held approval of that code: a node revokes only what it saw approved", async () => {
    const signed: Verdict[] = [];
    const signer = { signAndSend: async (verdict: Verdict) => (signed.push(verdict), { status: "signed" as const, digest: "0x" as Hex }) };
    assert.equal(await signRevocation({ networkId: NETWORK, attestations: stores([]).attestations, signer }, breach(1)), undefined);
    const rejected = recordOf({ ...approval, outcome: Outcome.Reject });
    assert.equal(await signRevocation({ networkId: NETWORK, attestations: stores([rejected]).attestations, signer }, breach(1)), undefined);
    const otherCode = recordOf({ ...approval, codehash: keccak256(stringToHex("other")) });
    assert.equal(await signRevocation({ networkId: NETWORK, attestations: stores([otherCode]).attestations, signer }, breach(1)), undefined);
    assert.equal(signed.length, 0);
  });
});
