// The revocation verdict: a function of (network, approval, invariant) alone, so every honest node
// signs the same bytes; its id lives apart from candidate ids; it outranks exactly the approval it
// names under the registry's ordering (equal issue time, revoke wins the tie).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keccak256, stringToHex, type Hex } from "viem";
import { REVOCATION_REASONS, REVOCATION_TAG, revocationId, revocationVerdict } from "../../src/codec/revocation.ts";
import { Outcome, verdictDigest, type Verdict } from "../../src/codec/types.ts";
import { reasonBitmap } from "../../src/verify/reasons.ts";
import { approvalVerdict } from "../helpers/verdicts.ts";

const hash = (label: string): Hex => keccak256(stringToHex(label));
const NETWORK = hash("network-a");

const approval: Verdict = approvalVerdict({ expiresAt: 9_000n });
const subject = { approvalId: approval.candidateId, approval, invariant: "value-capped" };

describe("revocation verdicts", () => {
  it("are the same bytes for every node: built only from the approval and the invariant", () => {
    const a = revocationVerdict(NETWORK, subject);
    const b = revocationVerdict(NETWORK, { ...subject, approval: { ...approval } });
    assert.deepEqual(a, b);
    assert.equal(verdictDigest(NETWORK, a), verdictDigest(NETWORK, b));
  });

  it("revoke the approval's subject at the approval's issue time, until its expiry", () => {
    const revoke = revocationVerdict(NETWORK, subject);
    assert.equal(revoke.outcome, Outcome.Revoke);
    assert.deepEqual([revoke.chainId, revoke.target, revoke.codehash, revoke.policyHash], [approval.chainId, approval.target, approval.codehash, approval.policyHash]);
    assert.equal(revoke.issuedAt, approval.issuedAt);
    assert.equal(revoke.expiresAt, approval.expiresAt);
  });

  it("carry the INVARIANT_VIOLATED reason bit of verify/reasons.ts", () => {
    assert.equal(REVOCATION_REASONS, reasonBitmap(["INVARIANT_VIOLATED"]));
  });

  it("have an id of their own per (network, approval, invariant), never the approval's", () => {
    const id = revocationId(NETWORK, subject);
    assert.notEqual(id, approval.candidateId);
    assert.notEqual(id, REVOCATION_TAG);
    assert.notEqual(id, revocationId(hash("network-b"), subject));
    assert.notEqual(id, revocationId(NETWORK, { ...subject, invariant: "other" }));
    assert.notEqual(id, revocationId(NETWORK, { ...subject, approvalId: hash("another approval") }));
    assert.notEqual(revocationVerdict(NETWORK, subject).findingsDigest, revocationVerdict(NETWORK, { ...subject, invariant: "other" }).findingsDigest);
  });

  it("refuse to revoke anything but an approval", () => {
    assert.throws(() => revocationVerdict(NETWORK, { ...subject, approval: { ...approval, outcome: Outcome.Reject } }));
  });
});
