// Operation binding in the codecs: a bound candidate, verdict message and attestation round-trip;
// the bound types sign other bytes than their unbound twins (so no binding can be added,
// removed or moved without the signer); a zero binding is refused everywhere, so each candidate
// and verdict has one encoding; the gossip validator accepts the bound layout and nothing near it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { bytesToHex, hashTypedData, hexToBytes, keccak256, stringToHex, zeroHash, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  ATTESTATION_LENGTH,
  AttestationFormatError,
  BOUND_ATTESTATION_LENGTH,
  decodeAttestation,
  encodeAttestation,
} from "../../src/codec/attestation.ts";
import {
  CandidateFormatError,
  candidateId,
  candidateTypedData,
  parseSignedCandidate,
  recoverProposer,
  signedCandidateToJson,
  type Candidate,
} from "../../src/codec/candidate.ts";
import { encodeType, sentinelDomain, verdictDigest } from "../../src/codec/types.ts";
import { decodeVerdictMessage, encodeVerdictMessage } from "../../src/codec/verdictMessage.ts";
import { validateAttestation, AttestationError } from "../../src/consensus/validation/attestation.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { randomVerdict } from "../../src/devnet/randomVerdict.ts";

const NETWORK = keccak256(stringToHex("binding-codec-test"));
const randomHex = (bytes: number): Hex => bytesToHex(randomBytes(bytes));
const proposer = privateKeyToAccount(generatePrivateKey());

function candidate(binding?: Hex): Candidate {
  return {
    chainId: 31337n,
    target: "0x1111111111111111111111111111111111111111",
    implementation: "0x2222222222222222222222222222222222222222",
    sourceHash: randomHex(32),
    policyHash: randomHex(32),
    blockNumber: 12n,
    nonce: 1n,
    createdAt: 1_700_000_000n,
    expiresAt: 1_700_003_600n,
    ...(binding !== undefined ? { binding } : {}),
  };
}

describe("bound candidates", () => {
  it("the bound type is the candidate's fields and then the binding", () => {
    const typed = candidateTypedData(candidate(randomHex(32)));
    assert.equal(typed.primaryType, "BoundCandidate");
    const fields = typed.types.BoundCandidate.map((f) => f.name);
    assert.deepEqual(fields, [...typed.types.Candidate.map((f) => f.name), "binding"]);
    assert.equal(candidateTypedData(candidate()).primaryType, "Candidate");
  });

  it("round-trips through JSON with its binding, and the proposer signed the binding", async () => {
    const binding = randomHex(32);
    const unsigned = candidate(binding);
    const signature = await proposer.signTypedData({ domain: sentinelDomain(NETWORK), ...candidateTypedData(unsigned) });
    const parsed = parseSignedCandidate(JSON.parse(JSON.stringify(signedCandidateToJson({ candidate: unsigned, signature }))));
    assert.deepEqual(parsed.candidate, unsigned);
    assert.equal(recoverProposer(NETWORK, parsed), proposer.address);
    // Dropped or moved to another operation, the id changes and the signature recovers to someone else.
    const { binding: _dropped, ...unbound } = parsed.candidate;
    assert.notEqual(candidateId(NETWORK, unbound), candidateId(NETWORK, parsed.candidate));
    assert.notEqual(recoverProposer(NETWORK, { candidate: unbound, signature }), proposer.address);
    assert.notEqual(recoverProposer(NETWORK, { candidate: { ...unbound, binding: randomHex(32) }, signature }), proposer.address);
  });

  it("an unbound candidate's id is what it always was (the Candidate type alone)", () => {
    const unbound = candidate();
    const expected = hashTypedData({
      domain: sentinelDomain(NETWORK),
      types: { Candidate: candidateTypedData(unbound).types.Candidate },
      primaryType: "Candidate",
      message: unbound,
    });
    assert.equal(candidateId(NETWORK, unbound), expected);
    assert.equal(signedCandidateToJson({ candidate: unbound, signature: "0x" }).candidate.binding, undefined);
  });

  it("refuses a zero, short, long or non-hex binding", () => {
    const json = signedCandidateToJson({ candidate: candidate(), signature: randomHex(65) });
    for (const binding of [zeroHash, randomHex(31), randomHex(33), "0xzz" + "0".repeat(62), 7, null]) {
      assert.throws(
        () => parseSignedCandidate({ ...json, candidate: { ...json.candidate, binding } }),
        (error: unknown) => error instanceof CandidateFormatError && error.field === "candidate.binding",
      );
    }
    assert.throws(() => candidateId(NETWORK, candidate(zeroHash)), CandidateFormatError);
  });
});

describe("bound verdicts", () => {
  it("the bound type string is the verdict's with the binding last", () => {
    assert.equal(encodeType("BoundVerdict"), `${encodeType("Verdict").replace(/^Verdict\(/, "BoundVerdict(").slice(0, -1)},bytes32 binding)`);
  });

  it("travel in verdict messages and refuse a zero binding", () => {
    const verdict = { ...randomVerdict(), binding: randomHex(32) };
    const message = { setIndex: 0, validatorIndex: 1, verdict, signature: randomHex(96) };
    assert.deepEqual(decodeVerdictMessage(encodeVerdictMessage(message)), message);
    const unbound = { ...message, verdict: randomVerdict() };
    assert.equal(decodeVerdictMessage(encodeVerdictMessage(unbound)).verdict.binding, undefined);
    const zeroed = JSON.parse(new TextDecoder().decode(encodeVerdictMessage(message)));
    zeroed.verdict.binding = zeroHash;
    assert.throws(() => decodeVerdictMessage(new TextEncoder().encode(JSON.stringify(zeroed))), /verdict.binding/);
  });
});

describe("bound attestations", () => {
  const committee = LocalCommittee.generate(4, NETWORK);
  const set = { index: 0, keys: committee.publicKeys, threshold: committee.threshold };
  const signers = committee.firstSigners(committee.threshold);

  it("encode as version 2, 586 bytes, and round-trip; unbound ones stay version 1, 554 bytes", () => {
    const bound = committee.attest({ ...randomVerdict(), binding: randomHex(32) }, 0, signers);
    const encoded = encodeAttestation(bound);
    assert.equal(hexToBytes(encoded).length, BOUND_ATTESTATION_LENGTH);
    assert.equal(hexToBytes(encoded)[0], 2);
    assert.deepEqual(decodeAttestation(encoded), bound);
    const unbound = committee.attest(randomVerdict(), 0, signers);
    assert.equal(hexToBytes(encodeAttestation(unbound)).length, ATTESTATION_LENGTH);
    assert.deepEqual(decodeAttestation(encodeAttestation(unbound)), unbound);
    // A zero binding is unbound: version 1, the Verdict digest.
    const zero = { ...unbound, verdict: { ...unbound.verdict, binding: zeroHash } };
    assert.equal(encodeAttestation(zero), encodeAttestation(unbound));
  });

  it("refuse a zero binding in the bound layout, and each layout at the other's length", () => {
    const bytes = hexToBytes(encodeAttestation(committee.attest({ ...randomVerdict(), binding: randomHex(32) }, 0, signers)));
    const zeroed = Uint8Array.from(bytes);
    zeroed.fill(0, 266, 298);
    assert.throws(() => decodeAttestation(zeroed), (e: unknown) => e instanceof AttestationFormatError && e.code === "INVALID_BINDING");
    assert.throws(() => decodeAttestation(bytes.subarray(0, ATTESTATION_LENGTH)), (e: unknown) => e instanceof AttestationFormatError && e.code === "WRONG_LENGTH");
    const unboundBytes = hexToBytes(encodeAttestation(committee.attest(randomVerdict(), 0, signers)));
    const padded = new Uint8Array(BOUND_ATTESTATION_LENGTH);
    padded.set(unboundBytes);
    assert.throws(() => decodeAttestation(padded), (e: unknown) => e instanceof AttestationFormatError && e.code === "WRONG_LENGTH");
  });

  it("pass gossip validation with the bound digest; a binding changed in transit does not", () => {
    const verdict = { ...randomVerdict(), binding: randomHex(32) };
    const bytes = hexToBytes(encodeAttestation(committee.attest(verdict, 0, signers)));
    const valid = validateAttestation(bytes, { networkId: NETWORK, set });
    assert.equal(valid.digest, verdictDigest(NETWORK, verdict));
    const moved = Uint8Array.from(bytes);
    moved.set(randomBytes(32), 266);
    assert.throws(() => validateAttestation(moved, { networkId: NETWORK, set }), (e: unknown) => e instanceof AttestationError && e.code === "BAD_SIGNATURE");
    assert.throws(() => validateAttestation(new Uint8Array(570), { networkId: NETWORK, set }), (e: unknown) => e instanceof AttestationError && e.code === "WRONG_LENGTH");
  });
});
