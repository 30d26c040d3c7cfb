// The rotation request's codec (src/codec/rotation.ts): its proposal digest can never be the
// registry's rotation digest (a proposer's signature is not a vote), and a malformed request is
// refused naming its field.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keccak256, stringToHex } from "viem";
import { RotationCodecError, parseRotationRequest, rotationDigests } from "../../src/codec/rotation.ts";
import { rotationDigest } from "../../src/codec/types.ts";
import { generateSecretKey } from "../../src/crypto/bls.ts";
import { rotationRequest } from "../helpers/rotation.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-rotation-codec"));

describe("rotation request codec", () => {
  const members = [generateSecretKey(), generateSecretKey()];
  const request = rotationRequest(NETWORK_ID, members, members[0]!, 0);

  it("the rotation digest is the registry's; the proposal digest is another type's", () => {
    const digests = rotationDigests(NETWORK_ID, request);
    assert.equal(digests.rotation, rotationDigest(NETWORK_ID, 1, digests.keysHash, request.threshold));
    assert.notEqual(digests.proposal, digests.rotation);
    assert.notEqual(rotationDigests(keccak256(stringToHex("another network")), request).proposal, digests.proposal);
  });

  it("parses a well-formed request, lowercased, and round-trips through JSON", () => {
    assert.deepEqual(parseRotationRequest(JSON.parse(JSON.stringify(request))), request);
    const upper = { ...request, keys: request.keys.map((k) => `0x${k.slice(2).toUpperCase()}`) };
    assert.deepEqual(parseRotationRequest(upper).keys, request.keys);
  });

  for (const [field, change] of [
    ["body", null],
    ["setIndex", { setIndex: -1 }],
    ["threshold", { threshold: 1.5 }],
    ["keys", { keys: [] }],
    ["keys[0]", { keys: ["0x1234"] }],
    ["proofsOfPossession[0]", { proofsOfPossession: ["0xzz"] }],
    ["proposer", { proposer: "me" }],
    ["proposer.validatorIndex", { proposer: { validatorIndex: 999, signature: request.proposer.signature } }],
    ["proposer.signature", { proposer: { validatorIndex: 0, signature: "0x12" } }],
  ] as const) {
    it(`refuses a bad ${field}, naming it`, () => {
      const body = change === null ? null : { ...request, ...change };
      assert.throws(() => parseRotationRequest(body), (error: unknown) => error instanceof RotationCodecError && error.meta.field === field);
    });
  }
});
