// libsecp256k1 (what admission and the relayer use) against viem's JavaScript (the fallback, and
// the reference): the same signer for every signature either accepts, the same refusals for
// malformed, out-of-range and off-curve twins, and byte-identical signed transactions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, concatHex, hexToBigInt, keccak256, numberToHex, sliceHex, stringToHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ecdsaBackend, recoverSigner, recoverWithLibsecp256k1, recoverWithViem, signingAccount, SignatureRecoveryError } from "../../src/crypto/ecdsa.ts";

const N = secp256k1.Point.CURVE().n;
const word = (value: bigint): Hex => numberToHex(value, { size: 32 });

async function bothRecover(digest: Hex, signature: Hex): Promise<string> {
  const native = recoverWithLibsecp256k1(digest, signature);
  assert.equal(native, await recoverWithViem(digest, signature), `same signer for ${signature}`);
  return native;
}

async function bothRefuse(digest: Hex, signature: Hex, why: string): Promise<void> {
  assert.throws(() => recoverWithLibsecp256k1(digest, signature), SignatureRecoveryError, `libsecp256k1 refuses ${why}`);
  await assert.rejects(recoverWithViem(digest, signature), SignatureRecoveryError, `viem refuses ${why}`);
}

async function signed() {
  const account = privateKeyToAccount(generatePrivateKey());
  const digest = keccak256(stringToHex(`message ${Math.random()}`));
  return { account, digest, signature: await account.sign({ hash: digest }) };
}

describe("ecdsa: signer recovery", () => {
  it("uses libsecp256k1 on this platform (linux-x64 has a prebuilt binding)", () => {
    assert.equal(ecdsaBackend, "libsecp256k1");
  });

  it("recovers the signer, the same with both backends, for 50 keys", async () => {
    for (let i = 0; i < 50; i++) {
      const { account, digest, signature } = await signed();
      assert.equal(await bothRecover(digest, signature), account.address);
      assert.equal(await recoverSigner(digest, signature), account.address);
    }
  });

  it("v as 0/1 recovers what 27/28 does", async () => {
    const { account, digest, signature } = await signed();
    const v = hexToBigInt(sliceHex(signature, 64));
    assert.equal(await bothRecover(digest, concatHex([sliceHex(signature, 0, 64), numberToHex(v - 27n, { size: 1 })])), account.address);
  });

  it("the high-s twin recovers the same signer, as ecrecover does (the id, not the signature, names a candidate)", async () => {
    const { account, digest, signature } = await signed();
    const s = hexToBigInt(sliceHex(signature, 32, 64));
    const v = Number(hexToBigInt(sliceHex(signature, 64)));
    const twin = concatHex([sliceHex(signature, 0, 32), word(N - s), numberToHex(v === 27 ? 28 : 27, { size: 1 })]);
    assert.equal(await bothRecover(digest, twin), account.address);
  });

  it("forged: another digest recovers another address", async () => {
    const { account, digest, signature } = await signed();
    const other = keccak256(concatHex([digest, "0x01"]));
    assert.notEqual(await bothRecover(other, signature), account.address);
  });

  it("refuses a v outside 27, 28, 0, 1", async () => {
    const { digest, signature } = await signed();
    for (const v of [2, 26, 29, 30, 255]) await bothRefuse(digest, concatHex([sliceHex(signature, 0, 64), numberToHex(v, { size: 1 })]), `v = ${v}`);
  });

  it("refuses r or s of zero or out of range, and an r that is no curve point's x", async () => {
    const { digest, signature } = await signed();
    const r = sliceHex(signature, 0, 32);
    const s = sliceHex(signature, 32, 64);
    const v = sliceHex(signature, 64);
    await bothRefuse(digest, concatHex([word(0n), s, v]), "r = 0");
    await bothRefuse(digest, concatHex([r, word(0n), v]), "s = 0");
    await bothRefuse(digest, concatHex([word(N), s, v]), "r = n");
    await bothRefuse(digest, concatHex([r, word(N), v]), "s = n");
    await bothRefuse(digest, concatHex([word(2n ** 256n - 1n), s, v]), "r = 2^256 - 1");
    let offCurve = 1n;
    while (isCurveX(offCurve)) offCurve++;
    await bothRefuse(digest, concatHex([word(offCurve), s, v]), `r = ${offCurve}, no point has that x`);
  });

  it("truncated or oversized: refused by libsecp256k1 before any recovery", () => {
    const digest = keccak256("0x");
    assert.throws(() => recoverWithLibsecp256k1(digest, `0x${"11".repeat(64)}`), /64 bytes, not 65/);
    assert.throws(() => recoverWithLibsecp256k1(digest, `0x${"11".repeat(66)}`), /66 bytes, not 65/);
  });
});

describe("ecdsa: signing transactions", () => {
  const to = "0x00000000000000000000000000000000000000aa" as const;
  const transactions = [
    { type: "eip1559" as const, chainId: 31337, nonce: 7, to, data: `0x${"ab".repeat(600)}` as Hex, gas: 500_000n, maxFeePerGas: 3n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n },
    { type: "eip1559" as const, chainId: 1, nonce: 0, to, value: 1n, gas: 21_000n, maxFeePerGas: 1n, maxPriorityFeePerGas: 0n },
    { type: "eip2930" as const, chainId: 31338, nonce: 1, to, gas: 30_000n, gasPrice: 2n, accessList: [] },
    { type: "legacy" as const, chainId: 31337, nonce: 2, to, gas: 21_000n, gasPrice: 5n },
  ];

  it("signs every transaction type byte for byte as viem does (RFC 6979 nonces, low s), for 20 keys", async () => {
    for (let i = 0; i < 20; i++) {
      const key = generatePrivateKey();
      const native = signingAccount(key);
      const reference = privateKeyToAccount(key);
      assert.equal(native.address, reference.address);
      for (const transaction of transactions) assert.equal(await native.signTransaction(transaction), await reference.signTransaction(transaction), `${transaction.type}, key ${i}`);
    }
  });

  it("signs messages and typed data as viem does (those stay with viem)", async () => {
    const key = generatePrivateKey();
    assert.equal(await signingAccount(key).signMessage({ message: "hello" }), await privateKeyToAccount(key).signMessage({ message: "hello" }));
  });
});

function isCurveX(x: bigint): boolean {
  try {
    secp256k1.Point.fromHex(`02${bytesToHex(secp256k1.Point.Fn.toBytes(x)).slice(2)}`);
    return true;
  } catch {
    return false;
  }
}
