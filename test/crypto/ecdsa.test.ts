// libsecp256k1 (WebAssembly) in place of viem's JavaScript ECDSA. recoverSigner replaces viem's
// recoverAddress on admission's path: nodes must agree on which candidate signatures are valid, so
// every input here is checked against viem, the same address or both refuse. localAccount signs
// the relayer's transactions: byte for byte what viem's account signs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { keccak256, numberToHex, parseGwei, recoverAddress, toHex, type Hex, type TransactionSerializable } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { localAccount, recoverSigner, SignatureError } from "../../src/crypto/ecdsa.ts";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

async function viemAnswer(digest: Hex, signature: Hex): Promise<string> {
  try {
    return await recoverAddress({ hash: digest, signature });
  } catch {
    return "refused";
  }
}

function ourAnswer(digest: Hex, signature: Hex): string {
  try {
    return recoverSigner(digest, signature);
  } catch (error) {
    assert.ok(error instanceof SignatureError, `expected a SignatureError, got ${String(error)}`);
    return "refused";
  }
}

async function assertSameAsViem(digest: Hex, signature: Hex, expected?: string): Promise<void> {
  const theirs = await viemAnswer(digest, signature);
  assert.equal(ourAnswer(digest, signature), theirs, `digest ${digest}, signature ${signature}`);
  if (expected !== undefined) assert.equal(theirs, expected);
}

const word = (value: bigint) => numberToHex(value, { size: 32 }).slice(2);
const compose = (r: bigint, s: bigint, v: number): Hex => `0x${word(r)}${word(s)}${v.toString(16).padStart(2, "0")}`;
function parts(signature: Hex): { r: bigint; s: bigint; v: number } {
  return { r: BigInt(`0x${signature.slice(2, 66)}`), s: BigInt(`0x${signature.slice(66, 130)}`), v: Number.parseInt(signature.slice(130), 16) };
}

async function signed(): Promise<{ digest: Hex; signature: Hex; address: string }> {
  const account = privateKeyToAccount(toHex(randomBytes(32)));
  const digest = keccak256(randomBytes(64));
  return { digest, signature: await account.sign({ hash: digest }), address: account.address };
}

describe("recoverSigner", () => {
  it("recovers the signer of 200 random keys and digests, as viem does", async () => {
    for (let i = 0; i < 200; i++) {
      const { digest, signature, address } = await signed();
      await assertSameAsViem(digest, signature, address);
    }
  });

  it("reads v as 0/1 or 27/28 and refuses every other v", async () => {
    const { digest, signature, address } = await signed();
    const { r, s, v } = parts(signature);
    await assertSameAsViem(digest, compose(r, s, v - 27), address);
    const other = compose(r, s, v === 27 ? 28 : 27);
    await assertSameAsViem(digest, other);
    assert.notEqual(ourAnswer(digest, other), address, "the other parity is another key");
    for (const bad of [2, 3, 26, 29, 30, 255]) await assertSameAsViem(digest, compose(r, s, bad), "refused");
  });

  it("answers the high-s twin as viem does: the same signer with v flipped, another without", async () => {
    for (let i = 0; i < 10; i++) {
      const { digest, signature, address } = await signed();
      const { r, s, v } = parts(signature);
      await assertSameAsViem(digest, compose(r, N - s, v === 27 ? 28 : 27), address);
      await assertSameAsViem(digest, compose(r, N - s, v));
    }
  });

  it("refuses r or s out of [1, n) and an r that is no point's x, as viem does", async () => {
    const { digest, signature } = await signed();
    const { r, s, v } = parts(signature);
    const cases = [
      compose(0n, s, v),
      compose(r, 0n, v),
      compose(N, s, v),
      compose(r, N, v),
      compose(N + 1n, s, v),
      compose(P - 1n, s, v),
      compose((1n << 256n) - 1n, s, v),
      compose(r, (1n << 256n) - 1n, v),
      compose(5n, s, v), // x = 5 is not on secp256k1 (5³ + 7 = 132 is no square mod p)
    ];
    for (const bad of cases) await assertSameAsViem(digest, bad, "refused");
  });

  it("answers a signature over another digest with another signer, as viem does", async () => {
    const { signature, address } = await signed();
    const other = keccak256(randomBytes(32));
    await assertSameAsViem(other, signature);
    assert.notEqual(ourAnswer(other, signature), address);
  });

  it("refuses truncated, oversized and non-hex signatures", async () => {
    const { digest, signature } = await signed();
    for (const bad of [signature.slice(0, 130), `${signature}00`, `${signature.slice(0, 131)}`, "0x", `0x${"zz".repeat(65)}`]) {
      assert.equal(ourAnswer(digest, bad as Hex), "refused", bad);
    }
    assert.throws(() => recoverSigner(digest.slice(0, 64) as Hex, signature), SignatureError);
  });
});

describe("localAccount", () => {
  const transactions = (i: number): TransactionSerializable[] => [
    {
      type: "eip1559",
      chainId: 31337 + i,
      nonce: i,
      to: `0x${"ab".repeat(20)}`,
      data: toHex(randomBytes(100 + i)),
      gas: 500_000n + BigInt(i),
      maxFeePerGas: parseGwei("3") + BigInt(i),
      maxPriorityFeePerGas: parseGwei("1"),
    },
    { type: "legacy", chainId: 1, nonce: i, to: `0x${"cd".repeat(20)}`, value: BigInt(i), gas: 21_000n, gasPrice: parseGwei("2") },
    { type: "eip2930", chainId: 10, nonce: i, to: `0x${"ef".repeat(20)}`, gas: 30_000n, gasPrice: parseGwei("2"), accessList: [] },
  ];

  it("signs 50 keys' transactions of three types byte for byte as viem does", async () => {
    for (let i = 0; i < 50; i++) {
      const key = toHex(randomBytes(32));
      const ours = localAccount(key);
      const viems = privateKeyToAccount(key);
      assert.equal(ours.address, viems.address);
      for (const transaction of transactions(i)) {
        assert.equal(await ours.signTransaction(transaction), await viems.signTransaction(transaction), `${transaction.type}, key ${i}`);
      }
    }
  });

  it("signs messages and typed data as viem's account does (they are viem's)", async () => {
    const key = toHex(randomBytes(32));
    assert.equal(await localAccount(key).signMessage({ message: "sentinel" }), await privateKeyToAccount(key).signMessage({ message: "sentinel" }));
  });
});
