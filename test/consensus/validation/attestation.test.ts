// The attestation gossip validator without libp2p: an accepted attestation, then its forged,
// replayed, truncated, oversized and wrong-domain twins, each refused with its code and action.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hexToBytes, keccak256, stringToHex, type Hex } from "viem";
import { ATTESTATION_LENGTH, encodeAttestation, type Attestation } from "../../../src/codec/attestation.ts";
import { Outcome, verdictDigest } from "../../../src/codec/types.ts";
import {
  AttestationError,
  validateGossipAttestation,
  type AttestationErrorCode,
} from "../../../src/consensus/validation/attestation.ts";
import { signerBitmap } from "../../../src/consensus/validatorSet.ts";
import { LocalCommittee } from "../../../src/devnet/committee.ts";
import { randomVerdict } from "../../../src/devnet/randomVerdict.ts";
import { gossipActionOf } from "../../../src/network/gossip.ts";

const NETWORK = keccak256(stringToHex("attestation-validation-test"));
const OTHER_NETWORK = keccak256(stringToHex("another network"));
const committee = LocalCommittee.generate(4, NETWORK);
const set = { index: 0, keys: committee.publicKeys, threshold: committee.threshold };
const options = { networkId: NETWORK, set };

const bytesOf = (attestation: Attestation): Uint8Array => hexToBytes(encodeAttestation(attestation));
const attest = (signers = committee.firstSigners(committee.threshold)) => committee.attest(randomVerdict(), 0, signers);

/** The gossip validator over a set of held candidate ids. */
function validate(bytes: Uint8Array, held: ReadonlySet<Hex> = new Set()) {
  return validateGossipAttestation(bytes, options, { isKnown: async (id) => held.has(id) });
}

async function refused(promise: Promise<unknown>, code: AttestationErrorCode, action: "reject" | "ignore"): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AttestationError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.action, action);
    assert.equal(gossipActionOf(error), action);
    return true;
  });
}

/** A copy of the encoded attestation with `value` written at `offset`. */
function patched(bytes: Uint8Array, offset: number, value: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy.set(value, offset);
  return copy;
}

describe("attestation gossip validation", () => {
  it("accepts a threshold of the set's signatures over a verdict, with its digest", async () => {
    const attestation = attest();
    const valid = await validate(bytesOf(attestation));
    assert.deepEqual(valid.attestation, attestation);
    assert.equal(valid.digest, verdictDigest(NETWORK, attestation.verdict));
  });

  it("forged: the bitmap names signers other than those who signed (BAD_SIGNATURE, reject)", async () => {
    const attestation = attest([0, 1, 2]);
    await refused(validate(bytesOf({ ...attestation, signers: signerBitmap([0, 1, 3]) })), "BAD_SIGNATURE", "reject");
  });

  it("forged: a verdict field changed after signing (BAD_SIGNATURE, reject)", async () => {
    const attestation = attest();
    await refused(validate(bytesOf({ ...attestation, verdict: { ...attestation.verdict, outcome: Outcome.Reject } })), "BAD_SIGNATURE", "reject");
  });

  it("forged: an aggregate that is no G2 point (INVALID_SIGNATURE_ENCODING, reject)", async () => {
    const bytes = bytesOf(attest());
    await refused(validate(patched(bytes, 298, new Uint8Array(256).fill(0xff))), "INVALID_SIGNATURE_ENCODING", "reject");
  });

  it("forged: a signer the set does not have (UNKNOWN_SIGNER, reject); too few signers (BELOW_THRESHOLD, reject)", async () => {
    const attestation = attest();
    await refused(validate(bytesOf({ ...attestation, signers: signerBitmap([0, 1, 2, 5]) })), "UNKNOWN_SIGNER", "reject");
    await refused(validate(bytesOf(attest(committee.firstSigners(committee.threshold - 1)))), "BELOW_THRESHOLD", "reject");
  });

  it("replayed: an attestation for a candidate already held (ALREADY_HELD, ignore), before any other rule", async () => {
    const attestation = attest();
    const held = new Set([attestation.verdict.candidateId]);
    await refused(validate(bytesOf(attestation), held), "ALREADY_HELD", "ignore");
    // The store is asked first: even a cut copy of a held one is ignored, as it always was.
    await refused(validate(bytesOf(attestation).subarray(0, 100), held), "ALREADY_HELD", "ignore");
  });

  it("another set: a rotation in flight (OTHER_SET, ignore)", async () => {
    await refused(validate(bytesOf({ ...attest(), setIndex: 1 })), "OTHER_SET", "ignore");
  });

  it("truncated: one byte short, or shorter than the candidate id (WRONG_LENGTH, reject)", async () => {
    const bytes = bytesOf(attest());
    await refused(validate(bytes.subarray(0, ATTESTATION_LENGTH - 1)), "WRONG_LENGTH", "reject");
    await refused(validate(bytes.subarray(0, 10)), "WRONG_LENGTH", "reject");
    await refused(validate(new Uint8Array(0)), "WRONG_LENGTH", "reject");
  });

  it("oversized: one byte more, or far more (WRONG_LENGTH, reject)", async () => {
    const bytes = bytesOf(attest());
    await refused(validate(Uint8Array.from([...bytes, 0])), "WRONG_LENGTH", "reject");
    await refused(validate(new Uint8Array(64 * 1024)), "WRONG_LENGTH", "reject");
  });

  it("malformed: an unknown version or outcome (MALFORMED, reject)", async () => {
    const bytes = bytesOf(attest());
    await refused(validate(patched(bytes, 0, Uint8Array.of(2))), "MALFORMED", "reject");
    await refused(validate(patched(bytes, 153, Uint8Array.of(9))), "MALFORMED", "reject");
  });

  it("wrong domain: another network's attestation (WRONG_NETWORK, reject); its signature under our id (BAD_SIGNATURE, reject)", async () => {
    const other = new LocalCommittee(committee.secretKeys, OTHER_NETWORK, committee.threshold);
    const foreign = other.attest(randomVerdict(), 0, committee.firstSigners(committee.threshold));
    await refused(validate(bytesOf(foreign)), "WRONG_NETWORK", "reject");
    await refused(validate(bytesOf({ ...foreign, networkId: NETWORK })), "BAD_SIGNATURE", "reject");
  });
});
