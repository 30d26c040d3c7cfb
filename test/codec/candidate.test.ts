// The candidate id is the candidate's EIP-712 digest: the same bytes viem's hashTypedData gives,
// for any network id and any field values, including the extremes of each type.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { bytesToHex, getAddress, hashTypedData, keccak256, stringToHex, type Hex } from "viem";
import { CANDIDATE_TYPES, candidateId, type Candidate } from "../../src/codec/candidate.ts";
import { sentinelDomain } from "../../src/codec/types.ts";

const random = (bytes: number): Hex => bytesToHex(randomBytes(bytes));
const uint = (bits: number) => BigInt(random(bits / 8));

describe("candidateId", () => {
  it("equals hashTypedData for 200 random candidates under several network ids", () => {
    const networks = Array.from({ length: 20 }, (_, i) => keccak256(stringToHex(`network ${i}`)));
    for (let i = 0; i < 200; i++) {
      const networkId = networks[i % networks.length]!;
      const candidate: Candidate = {
        chainId: i % 3 === 0 ? 2n ** 256n - 1n : uint(64),
        target: i % 2 ? getAddress(random(20)) : (random(20) as Hex),
        implementation: getAddress(random(20)),
        sourceHash: random(32),
        policyHash: random(32),
        blockNumber: i % 5 === 0 ? 0n : uint(64),
        nonce: i % 7 === 0 ? 2n ** 64n - 1n : uint(64),
        createdAt: uint(32),
        expiresAt: uint(32),
      };
      assert.equal(candidateId(networkId, candidate), hashTypedData({ domain: sentinelDomain(networkId), types: CANDIDATE_TYPES, primaryType: "Candidate", message: candidate }));
    }
  });

  it("refuses what the typed data cannot encode", () => {
    const networkId = keccak256(stringToHex("n"));
    const base: Candidate = { chainId: 1n, target: getAddress(random(20)), implementation: getAddress(random(20)), sourceHash: random(32), policyHash: random(32), blockNumber: 1n, nonce: 1n, createdAt: 1n, expiresAt: 2n };
    assert.throws(() => candidateId(networkId, { ...base, nonce: 2n ** 64n }));
    assert.throws(() => candidateId(networkId, { ...base, target: "0x1234" }));
    assert.throws(() => candidateId(networkId, { ...base, target: "0xAbCdEf0000000000000000000000000000000000" }), /invalid/); // a wrong checksum
  });
});
