// The verdict gossip validator without libp2p: an accepted message, then its forged, replayed,
// truncated, oversized and wrong-domain twins, each refused with its code and gossip action.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bytesToHex, hexToBytes, keccak256, stringToHex, type Hex } from "viem";
import { Outcome, verdictDigest, type Verdict } from "../../../src/codec/types.ts";
import { encodeVerdictMessage, MAX_VERDICT_MESSAGE_BYTES, type VerdictMessage } from "../../../src/codec/verdictMessage.ts";
import { BatchVerifier } from "../../../src/consensus/batchVerifier.ts";
import {
  validateGossipVerdict,
  VerdictError,
  type CountedSignature,
  type VerdictErrorCode,
} from "../../../src/consensus/validation/verdict.ts";
import { LocalCommittee } from "../../../src/devnet/committee.ts";
import { randomVerdict } from "../../../src/devnet/randomVerdict.ts";
import { gossipActionOf } from "../../../src/network/gossip.ts";

const NETWORK = keccak256(stringToHex("verdict-validation-test"));
const OTHER_NETWORK = keccak256(stringToHex("another network"));
const committee = LocalCommittee.generate(4, NETWORK);
const set = { index: 0, keys: committee.publicKeys, threshold: committee.threshold };
const verifier = new BatchVerifier({ maxBatch: 8, maxWaitMs: 1 });

function message(v: Verdict, validatorIndex: number, options: { key?: number; networkId?: Hex } = {}): VerdictMessage {
  const signer = committee.secretKeys[options.key ?? validatorIndex]!;
  const signature = signer.sign(hexToBytes(verdictDigest(options.networkId ?? NETWORK, v)));
  return { setIndex: 0, validatorIndex, verdict: v, signature: bytesToHex(signature.toBytes(true)) };
}

/** The validator over a plain map of counted signatures, as the aggregator keeps them. */
function validator() {
  const counted = new Map<string, CountedSignature>();
  const validate = (bytes: Uint8Array) =>
    validateGossipVerdict(bytes, { networkId: NETWORK, set }, { verifier, counted: (id, index) => counted.get(`${id}/${index}`) });
  const count = (m: VerdictMessage) => counted.set(`${m.verdict.candidateId}/${m.validatorIndex}`, { digest: verdictDigest(NETWORK, m.verdict), signature: m.signature });
  return { validate, count };
}

async function refused(promise: Promise<unknown>, code: VerdictErrorCode, action: "reject" | "ignore"): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof VerdictError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.action, action);
    assert.equal(gossipActionOf(error), action);
    return true;
  });
}

const encode = encodeVerdictMessage;
/** The message's JSON with one field replaced, re-encoded. */
function edited(m: VerdictMessage, edit: (json: Record<string, unknown>) => void): Uint8Array {
  const json = JSON.parse(new TextDecoder().decode(encode(m))) as Record<string, unknown>;
  edit(json);
  return new TextEncoder().encode(JSON.stringify(json));
}

describe("verdict gossip validation", () => {
  it("accepts a member's signature over a verdict, with its digest and no previous verdict", async () => {
    const v = randomVerdict();
    const valid = await validator().validate(encode(message(v, 1)));
    assert.equal(valid.digest, verdictDigest(NETWORK, v));
    assert.deepEqual(valid.message, message(v, 1));
    assert.equal(valid.previous, undefined);
  });

  it("forged: another member's key in this validator's slot (BAD_SIGNATURE, reject)", async () => {
    await refused(validator().validate(encode(message(randomVerdict(), 1, { key: 0 }))), "BAD_SIGNATURE", "reject");
  });

  it("forged: a field changed after signing (BAD_SIGNATURE, reject)", async () => {
    const v = randomVerdict();
    const m = message(v, 0);
    await refused(validator().validate(encode({ ...m, verdict: { ...v, outcome: Outcome.Reject } })), "BAD_SIGNATURE", "reject");
  });

  it("forged: signature bytes that are no G2 point (INVALID_SIGNATURE_ENCODING, reject)", async () => {
    const m = message(randomVerdict(), 0);
    await refused(validator().validate(encode({ ...m, signature: bytesToHex(new Uint8Array(96)) })), "INVALID_SIGNATURE_ENCODING", "reject");
  });

  it("forged: a point on G2's curve outside its subgroup (BAD_SIGNATURE, reject)", async () => {
    const outside = `0xa0${"00".repeat(94)}02` as Hex;
    await refused(validator().validate(encode({ ...message(randomVerdict(), 0), signature: outside })), "BAD_SIGNATURE", "reject");
  });

  it("forged: a validator index the set does not have (UNKNOWN_VALIDATOR, reject)", async () => {
    await refused(validator().validate(encode({ ...message(randomVerdict(), 0), validatorIndex: 4 })), "UNKNOWN_VALIDATOR", "reject");
  });

  it("replayed: a signature already counted (ALREADY_COUNTED, ignore)", async () => {
    const { validate, count } = validator();
    const m = message(randomVerdict(), 2);
    await validate(encode(m));
    count(m);
    await refused(validate(encode(m)), "ALREADY_COUNTED", "ignore");
  });

  it("a second, different verdict from a counted validator is valid, with the first as its previous (evidence)", async () => {
    const { validate, count } = validator();
    const approve = randomVerdict();
    const first = message(approve, 2);
    count(first);
    const valid = await validate(encode(message({ ...approve, outcome: Outcome.Reject }, 2)));
    assert.deepEqual(valid.previous, { digest: verdictDigest(NETWORK, approve), signature: first.signature });
  });

  it("another set: a rotation in flight (OTHER_SET, ignore)", async () => {
    await refused(validator().validate(encode({ ...message(randomVerdict(), 0), setIndex: 1 })), "OTHER_SET", "ignore");
  });

  it("truncated: cut bytes, a missing field, a short signature (MALFORMED, reject)", async () => {
    const m = message(randomVerdict(), 0);
    const bytes = encode(m);
    await refused(validator().validate(bytes.subarray(0, bytes.length - 5)), "MALFORMED", "reject");
    await refused(validator().validate(edited(m, (json) => delete json["verdict"])), "MALFORMED", "reject");
    await refused(validator().validate(edited(m, (json) => (json["signature"] = m.signature.slice(0, -2)))), "MALFORMED", "reject");
    await refused(validator().validate(new Uint8Array([0xff, 0xfe])), "MALFORMED", "reject");
  });

  it("oversized: more bytes than any verdict message (TOO_LARGE, reject)", async () => {
    await refused(validator().validate(new Uint8Array(MAX_VERDICT_MESSAGE_BYTES + 1)), "TOO_LARGE", "reject");
    const m = message(randomVerdict(), 0);
    const padded = edited(m, (json) => (json["padding"] = "x".repeat(MAX_VERDICT_MESSAGE_BYTES)));
    await refused(validator().validate(padded), "TOO_LARGE", "reject");
  });

  it("wrong domain: signed for another network (BAD_SIGNATURE, reject)", async () => {
    await refused(validator().validate(encode(message(randomVerdict(), 0, { networkId: OTHER_NETWORK }))), "BAD_SIGNATURE", "reject");
  });

  it("cheapest first: a message failing several rules is refused by the cheapest", async () => {
    // Another set and a forged signature: ignored for the set, before any pairing is spent.
    const forged = { ...message(randomVerdict(), 1, { key: 0 }), setIndex: 7 };
    await refused(validator().validate(encode(forged)), "OTHER_SET", "ignore");
  });
});
