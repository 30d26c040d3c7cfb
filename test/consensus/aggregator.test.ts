import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { fastAggregateVerify, Signature, verify } from "@chainsafe/blst";
import { bytesToHex, hexToBytes, keccak256, stringToHex, type Hex } from "viem";
import type { Attestation } from "../../src/codec/attestation.ts";
import { revocationVerdict } from "../../src/codec/revocation.ts";
import { Outcome, verdictDigest, type Verdict } from "../../src/codec/types.ts";
import type { VerdictMessage } from "../../src/codec/verdictMessage.ts";
import { decodeVerdictMessage, encodeVerdictMessage } from "../../src/codec/verdictMessage.ts";
import { VerdictAggregator, type Evidence } from "../../src/consensus/aggregator.ts";
import { BatchVerifier } from "../../src/consensus/batchVerifier.ts";
import { VerdictError } from "../../src/consensus/validation/verdict.ts";
import { signatureFromEip2537 } from "../../src/crypto/bls.ts";
import { signerIndices } from "../../src/consensus/validatorSet.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { randomVerdict } from "../../src/devnet/randomVerdict.ts";

const NETWORK = keccak256(stringToHex("aggregator-test"));
const committee = LocalCommittee.generate(4, NETWORK);

const verdict = randomVerdict;

function message(v: Verdict, validatorIndex: number, signer = committee.secretKeys[validatorIndex]!): VerdictMessage {
  const signature = signer.sign(hexToBytes(verdictDigest(NETWORK, v)));
  return { setIndex: 0, validatorIndex, verdict: v, signature: bytesToHex(signature.toBytes(true)) };
}

function setup() {
  const attestations: Attestation[] = [];
  const evidence: Evidence[] = [];
  const aggregator = new VerdictAggregator(
    { networkId: NETWORK, set: { index: 0, keys: committee.publicKeys, threshold: committee.threshold } },
    { verifier: new BatchVerifier({ maxBatch: 8, maxWaitMs: 1 }), onAttestation: (a) => attestations.push(a), onEvidence: (e) => evidence.push(e) },
  );
  return { aggregator, attestations, evidence };
}

describe("verdict aggregator", () => {
  it("builds one attestation at the threshold, and its aggregate signature verifies", async () => {
    const { aggregator, attestations } = setup();
    const v = verdict();
    for (const i of [0, 1]) assert.equal(await aggregator.ingest(message(v, i)), "accept");
    assert.equal(attestations.length, 0);
    assert.equal(await aggregator.ingest(message(v, 2)), "accept");
    assert.equal(await aggregator.ingest(message(v, 3)), "accept");
    assert.equal(attestations.length, 1, "exactly one attestation per digest");
    const [attestation] = attestations;
    assert.deepEqual(signerIndices(attestation!.signers), [0, 1, 2]);
    const keys = signerIndices(attestation!.signers).map((i) => committee.publicKeys[i]!);
    assert.ok(fastAggregateVerify(hexToBytes(verdictDigest(NETWORK, v)), keys, signatureFromEip2537(attestation!.signature)));
  });

  it("a validator's approval and its later revocation are two votes, never evidence; one node's revocation alone forms nothing", async () => {
    const { aggregator, attestations, evidence } = setup();
    const approval = { ...verdict(), outcome: Outcome.Approve } as Verdict;
    for (const i of [0, 1, 2]) await aggregator.ingest(message(approval, i));
    assert.equal(attestations.length, 1);
    const revoke = revocationVerdict(NETWORK, { approvalId: approval.candidateId, approval, invariant: "cap" });
    assert.equal(await aggregator.ingest(message(revoke, 0)), "accept", "a false alarm of one node is counted, not more");
    assert.equal(attestations.length, 1, "below the threshold: no revocation attestation");
    assert.equal(evidence.length, 0, "signing the approval and then its revocation is not equivocation");
    for (const i of [1, 3]) await aggregator.ingest(message(revoke, i));
    assert.equal(attestations.length, 2);
    assert.equal(attestations[1]!.verdict.outcome, Outcome.Revoke);
    assert.deepEqual(signerIndices(attestations[1]!.signers), [0, 1, 3]);
    assert.equal(evidence.length, 0);
  });

  it("signatures arriving together are verified as one batch", async () => {
    const { aggregator, attestations } = setup();
    const v = verdict();
    const results = await Promise.all([0, 1, 2, 3].map((i) => aggregator.ingest(message(v, i))));
    assert.deepEqual(results, ["accept", "accept", "accept", "accept"]);
    assert.equal(attestations.length, 1);
  });

  it("one forged signature in a batch is rejected alone", async () => {
    const { aggregator } = setup();
    const v = verdict();
    const forged = message(v, 1, committee.secretKeys[0]!); // validator 1's slot, validator 0's key
    const results = await Promise.all([aggregator.ingest(message(v, 0)), aggregator.ingest(forged), aggregator.ingest(message(v, 2))]);
    assert.deepEqual(results, ["accept", "reject", "accept"]);
  });

  it("a bound verdict's signature is not accepted for its binding stripped or moved, even once the bound digest is cached", async () => {
    const { aggregator, attestations } = setup();
    const bound = { ...verdict(), binding: bytesToHex(randomBytes(32)) };
    // A junk-signed copy first: it is refused, but its digest is now computed (and cached).
    const junk = { ...message(bound, 3), signature: message(verdict(), 3).signature };
    assert.equal(await aggregator.ingest(junk), "reject");
    const { binding: _stripped, ...unbound } = bound;
    const real = message(bound, 0);
    assert.equal(await aggregator.ingest({ ...real, verdict: unbound }), "reject");
    assert.equal(await aggregator.ingest({ ...real, verdict: { ...bound, binding: bytesToHex(randomBytes(32)) } }), "reject");
    for (const i of [0, 1, 2]) assert.equal(await aggregator.ingest(message(bound, i)), "accept");
    assert.equal(attestations.length, 1);
    assert.equal(attestations[0]!.verdict.binding, bound.binding);
  });

  it("two validators' signatures swapped: their sum is valid, each alone is not, and both are rejected", async () => {
    // A plain fast-aggregate check of the pair would pass; the random scalars of the same-message
    // combination must not.
    const { aggregator, attestations } = setup();
    const v = verdict();
    const [a, b] = [message(v, 0), message(v, 1)];
    const swapped = [{ ...a, signature: b.signature }, { ...b, signature: a.signature }];
    const results = await Promise.all([...swapped.map((m) => aggregator.ingest(m)), aggregator.ingest(message(v, 2))]);
    assert.deepEqual(results, ["reject", "reject", "accept"]);
    assert.equal(attestations.length, 0);
  });

  it("a point on G2's curve outside its prime-order subgroup is rejected, alone and in a batch", async () => {
    // x = 2 (an Fp2 element with c1 = 0) is on the twist, and its point has a large cofactor.
    const outside = `0xa0${"00".repeat(94)}02` as Hex;
    const alone = setup();
    assert.equal(await alone.aggregator.ingest({ ...message(verdict(), 0), signature: outside }), "reject");
    const batched = setup();
    const v = verdict();
    const results = await Promise.all([
      batched.aggregator.ingest(message(v, 0)),
      batched.aggregator.ingest({ ...message(v, 1), signature: outside }),
      batched.aggregator.ingest(message(v, 2)),
    ]);
    assert.deepEqual(results, ["accept", "reject", "accept"]);
  });

  it("the point at infinity is rejected as a signature, alone and in a batch", async () => {
    const infinity = `0xc0${"00".repeat(95)}` as Hex;
    assert.equal(await setup().aggregator.ingest({ ...message(verdict(), 0), signature: infinity }), "reject");
    const { aggregator } = setup();
    const v = verdict();
    const results = await Promise.all([aggregator.ingest(message(v, 0)), aggregator.ingest({ ...message(v, 1), signature: infinity })]);
    assert.deepEqual(results, ["accept", "reject"]);
  });

  it("a batch of several verdicts, each with several signatures, is verified together and counted per verdict", async () => {
    const { aggregator, attestations } = setup();
    const [v, w] = [verdict(), verdict()];
    const batch = [0, 1, 2].flatMap((i) => [message(v, i), message(w, i)]);
    const results = await Promise.all(batch.map((m) => aggregator.ingest(m)));
    assert.deepEqual(results, Array(6).fill("accept"));
    assert.equal(attestations.length, 2);
  });

  it("rejects a validator index outside the set and a signature that is not a G2 point", async () => {
    const { aggregator } = setup();
    const v = verdict();
    assert.equal(await aggregator.ingest({ ...message(v, 0), validatorIndex: 4 }), "reject");
    assert.equal(await aggregator.ingest({ ...message(v, 0), signature: bytesToHex(new Uint8Array(96)) }), "reject");
    assert.equal(await aggregator.ingest({ ...message(v, 0), signature: bytesToHex(randomBytes(96)) }), "reject");
  });

  it("rejects a signature over other fields (wrong domain or tampered verdict)", async () => {
    const { aggregator } = setup();
    const v = verdict();
    const signed = message(v, 0);
    assert.equal(await aggregator.ingest({ ...signed, verdict: { ...v, outcome: Outcome.Reject } }), "reject");
    const otherNetwork = committee.secretKeys[0]!.sign(hexToBytes(verdictDigest(keccak256(stringToHex("x")), v)));
    assert.equal(await aggregator.ingest({ ...signed, signature: bytesToHex(otherNetwork.toBytes(true)) }), "reject");
  });

  it("ignores another set and a replayed message", async () => {
    const { aggregator } = setup();
    const v = verdict();
    assert.equal(await aggregator.ingest({ ...message(v, 0), setIndex: 1 }), "ignore");
    assert.equal(await aggregator.ingest(message(v, 0)), "accept");
    assert.equal(await aggregator.ingest(message(v, 0)), "ignore");
  });

  it("keeps two different verdicts from one validator as evidence and counts neither twice", async () => {
    const { aggregator, evidence, attestations } = setup();
    const approve = verdict();
    const reject: Verdict = { ...approve, outcome: Outcome.Reject };
    assert.equal(await aggregator.ingest(message(approve, 0)), "accept");
    assert.equal(await aggregator.ingest(message(reject, 0)), "accept");
    assert.equal(evidence.length, 1);
    const proof = evidence[0]!;
    assert.deepEqual([proof.setIndex, proof.validatorIndex], [0, 0]);
    assert.deepEqual([proof.first.verdict, proof.second.verdict], [approve, reject], "both verdicts travel with the proof");
    // Anyone holding the set checks it: two different digests of one candidate, both signed by validator 0.
    for (const side of [proof.first, proof.second]) {
      assert.equal(side.digest, verdictDigest(NETWORK, side.verdict!));
      const sig = Signature.fromBytes(hexToBytes(side.signature));
      assert.ok(verify(hexToBytes(side.digest), committee.publicKeys[0]!, sig));
    }
    assert.notEqual(proof.first.digest, proof.second.digest);
    for (const i of [1, 2]) await aggregator.ingest(message(reject, i));
    assert.equal(attestations.length, 0, "validator 0's second verdict must not count toward the reject");
  });

  it("two conflicting verdicts of one validator checked concurrently: one vote, one proof, never two votes", async () => {
    const { aggregator, evidence, attestations } = setup();
    const approve = verdict();
    const reject: Verdict = { ...approve, outcome: Outcome.Reject };
    // Both pass validation before either is counted (the signature checks overlap).
    assert.deepEqual(await Promise.all([aggregator.ingest(message(approve, 0)), aggregator.ingest(message(reject, 0))]), ["accept", "accept"]);
    assert.equal(evidence.length, 1, "the second to land is evidence");
    const counted = aggregator.signersOf(approve.candidateId).flatMap((group) => group.signers);
    assert.deepEqual(counted, [0], "validator 0 counted once, in one group");
    // The same verdict twice at once counts once.
    const other = verdict();
    await Promise.all([aggregator.ingest(message(other, 1)), aggregator.ingest(message(other, 1))]);
    assert.deepEqual(aggregator.signersOf(other.candidateId).flatMap((group) => group.signers), [1]);
    for (const i of [1, 2]) await aggregator.ingest(message(reject, i));
    assert.equal(attestations.length, 0, "two honest rejects and validator 0's conflicting one are not three");
  });

  it("ingestGossip: the verdict topic's handler accepts, or throws a VerdictError with its action; undecodable bytes are not counted", async () => {
    const { aggregator } = setup();
    const m = message(verdict(), 0);
    assert.equal(await aggregator.ingestGossip(encodeVerdictMessage(m)), "accept");
    await assert.rejects(aggregator.ingestGossip(encodeVerdictMessage(m)), (e: unknown) => e instanceof VerdictError && e.code === "ALREADY_COUNTED" && e.action === "ignore");
    const forged = message(verdict(), 1, committee.secretKeys[0]!);
    await assert.rejects(aggregator.ingestGossip(encodeVerdictMessage(forged)), (e: unknown) => e instanceof VerdictError && e.code === "BAD_SIGNATURE" && e.action === "reject");
    await assert.rejects(aggregator.ingestGossip(new Uint8Array([1, 2])), (e: unknown) => e instanceof VerdictError && e.code === "MALFORMED" && e.action === "reject");
    assert.deepEqual(aggregator.stats, { accepted: 1, rejected: 1, ignored: 1, dropped: 0 });
  });

  it("the wire codec round-trips and refuses truncated and oversized input", () => {
    const m = message(verdict(), 2);
    assert.deepEqual(decodeVerdictMessage(encodeVerdictMessage(m)), m);
    const bytes = encodeVerdictMessage(m);
    assert.throws(() => decodeVerdictMessage(bytes.subarray(0, bytes.length - 5)));
    assert.throws(() => decodeVerdictMessage(new Uint8Array(4096)));
    const json = JSON.parse(new TextDecoder().decode(bytes)) as { signature: Hex };
    json.signature = `${json.signature}00` as Hex;
    assert.throws(() => decodeVerdictMessage(new TextEncoder().encode(JSON.stringify(json))));
  });
});
