// contracts/lib/BLS.sol on a real anvil chain: RFC 9380 vectors, signatures made by native
// blst, and every way a signature, key or message can be wrong.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { bytesToHex, stringToHex, type Hex } from "viem";
import { BLSHarness } from "../../artifacts/contracts.ts";
import {
  generateSecretKey,
  publicKeyToEip2537,
  signatureToEip2537,
} from "../../src/crypto/bls.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";
import { g2ToEip2537, hashToG2Vectors, nonSubgroupG2, readVectors } from "../helpers/vectors.ts";

interface PrecompileCase {
  Input: string;
  Expected?: string;
  ExpectedError?: string;
  Name: string;
}
interface PrecompileVectors {
  precompiles: Record<string, { address: string; sets: { kind: string; cases: PrecompileCase[] }[] }>;
}

describe("BLS library (EIP-2537)", () => {
  let chain: TestChain;
  let harness: Hex;

  before(async () => {
    chain = await startTestChain();
    harness = await chain.deploy(BLSHarness);
  });
  after(() => chain?.stop());

  const hashToG2 = (message: Hex, dst: string) =>
    chain.client.readContract({ address: harness, abi: BLSHarness.abi, functionName: "hashToG2", args: [message, stringToHex(dst)] });
  const verify = (pubkey: Hex, message: Hex, signature: Hex) =>
    chain.client.readContract({ address: harness, abi: BLSHarness.abi, functionName: "verify", args: [pubkey, message, signature] });

  it("the chain's precompiles match the final EIP-2537 vectors", async () => {
    const vectors = readVectors<PrecompileVectors>("eip2537_vectors.json");
    let checked = 0;
    for (const precompile of Object.values(vectors.precompiles)) {
      const to = `0x${precompile.address.slice(2).padStart(40, "0")}` as Hex;
      for (const set of precompile.sets) {
        for (const vector of set.cases) {
          const call = chain.client.call({ to, data: `0x${vector.Input}` });
          if (vector.Expected !== undefined) {
            const { data } = await call;
            assert.equal(data, `0x${vector.Expected}`, vector.Name);
          } else {
            await assert.rejects(call, Error, `${vector.Name} should fail`);
          }
          checked++;
        }
      }
    }
    assert.equal(checked, 264);
  });

  it("hashToG2 reproduces RFC 9380 J.10.1 (BLS12381G2_XMD:SHA-256_SSWU_RO_)", async () => {
    const suite = hashToG2Vectors();
    assert.equal(suite.vectors.length, 5);
    for (const vector of suite.vectors) {
      assert.equal(await hashToG2(stringToHex(vector.msg), suite.dst), g2ToEip2537(vector.P), `msg "${vector.msg.slice(0, 12)}"`);
    }
  });

  it("hashToG2 refuses a DST longer than 255 bytes", async () => {
    await assert.rejects(hashToG2("0x", "D".repeat(256)), /DstTooLong/);
  });

  it("verifies 100 random key/message pairs signed by native blst", async () => {
    for (let i = 0; i < 100; i++) {
      const sk = generateSecretKey();
      const message = randomBytes(1 + (i % 97));
      const signature = sk.sign(message);
      assert.equal(
        await verify(publicKeyToEip2537(sk.toPublicKey()), bytesToHex(message), signatureToEip2537(signature)),
        true,
        `pair ${i}`,
      );
    }
  });

  describe("returns false, never true, for", () => {
    const sk = generateSecretKey();
    const messageBytes = randomBytes(32);
    const message = bytesToHex(messageBytes);
    const pubkey = publicKeyToEip2537(sk.toPublicKey());
    const signature = signatureToEip2537(sk.sign(messageBytes));
    const infinityG1 = bytesToHex(new Uint8Array(128));
    const infinityG2 = bytesToHex(new Uint8Array(256));
    const flipByte = (hex: Hex, index: number): Hex => {
      const bytes = Buffer.from(hex.slice(2), "hex");
      bytes[index] = bytes[index]! ^ 0x01;
      return bytesToHex(bytes);
    };

    it("the genuine signature (control)", async () => assert.equal(await verify(pubkey, message, signature), true));
    it("a tampered signature", async () => assert.equal(await verify(pubkey, message, flipByte(signature, 255)), false));
    it("a signature coordinate in the padding", async () => assert.equal(await verify(pubkey, message, flipByte(signature, 0)), false));
    it("the wrong key", async () => {
      const other = publicKeyToEip2537(generateSecretKey().toPublicKey());
      assert.equal(await verify(other, message, signature), false);
    });
    it("the wrong message", async () => assert.equal(await verify(pubkey, flipByte(message, 31), signature), false));
    it("a truncated message", async () => assert.equal(await verify(pubkey, `0x${message.slice(2, -2)}`, signature), false));
    it("infinity key and infinity signature", async () => assert.equal(await verify(infinityG1, message, infinityG2), false));
    it("infinity signature with a real key", async () => assert.equal(await verify(pubkey, message, infinityG2), false));
    it("a key off the curve", async () => assert.equal(await verify(flipByte(pubkey, 127), message, signature), false));
    it("a signature off the curve", async () => assert.equal(await verify(pubkey, message, flipByte(signature, 127)), false));
    it("a truncated key or signature", async () => {
      assert.equal(await verify(`0x${pubkey.slice(2, -2)}`, message, signature), false);
      assert.equal(await verify(pubkey, message, `0x${signature.slice(2, -2)}`), false);
    });
    it("trailing bytes after key or signature", async () => {
      assert.equal(await verify(`${pubkey}00`, message, signature), false);
      assert.equal(await verify(pubkey, message, `${signature}00`), false);
    });
    it("a signature on the curve but outside the G2 subgroup", async () => {
      assert.equal(await verify(pubkey, message, nonSubgroupG2()), false);
    });
  });
});
