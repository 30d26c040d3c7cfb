// Signer recovery in its worker thread answers exactly what recoverSigner answers in the caller's,
// for good signatures and for each kind of bad one, and runs below the main thread's priority.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { keccak256, stringToHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, sign } from "viem/accounts";
import { recoverSigner, SignatureError } from "../../src/crypto/ecdsa.ts";
import { WorkerRecovery } from "../../src/crypto/signerRecovery.ts";

const outcome = async (run: () => Promise<unknown> | unknown) => {
  try {
    return { ok: await run() };
  } catch (error) {
    assert.ok(error instanceof SignatureError, String(error));
    return { code: error.code, message: error.message };
  }
};

describe("WorkerRecovery", () => {
  const recovery = new WorkerRecovery({ niceness: 7 });
  after(() => recovery.close());

  it("gives recoverSigner's answer and error for good, forged, truncated and out-of-range signatures", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const digest = keccak256(stringToHex("a candidate id"));
    const good = await sign({ hash: digest, privateKey: generatePrivateKey(), to: "hex" });
    const mine = await account.sign({ hash: digest });
    const cases: [Hex, Hex][] = [
      [digest, mine],
      [digest, good],
      [keccak256(stringToHex("another digest")), mine], // forged: recovers someone else
      [digest, mine.slice(0, 100) as Hex], // truncated
      [digest, `${mine}00`], // oversized
      [digest, `0x${"ff".repeat(64)}1b`], // r, s out of range
      [digest, `0x${"00".repeat(64)}1b`],
      [digest, `${mine.slice(0, 130)}05` as Hex], // v not a recovery id
      ["0x1234", mine], // the digest malformed
    ];
    for (const [d, s] of cases) assert.deepEqual(await outcome(() => recovery.recover(d, s)), await outcome(() => recoverSigner(d, s)), `${d} ${s}`);
    assert.equal(await recovery.recover(digest, mine), account.address);
  });

  it("answers many concurrent requests each with its own answer", async () => {
    const accounts = Array.from({ length: 32 }, () => privateKeyToAccount(generatePrivateKey()));
    const digest = keccak256(stringToHex("many"));
    const signatures = await Promise.all(accounts.map((a) => a.sign({ hash: digest })));
    assert.deepEqual(await Promise.all(signatures.map((s) => recovery.recover(digest, s))), accounts.map((a) => a.address));
  });

  it("runs in a thread of its own at the nice value asked", { skip: process.platform !== "linux" }, async () => {
    const nices = readdirSync(`/proc/${process.pid}/task`).map((tid) => Number(readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]));
    assert.ok(nices.includes(7), `thread nice values ${nices.join(",")}`);
    assert.equal(Number(readFileSync(`/proc/${process.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]), 0, "the main thread keeps its priority");
  });

  it("after close, pending and new requests fail instead of hanging", async () => {
    const closing = new WorkerRecovery();
    const digest = keccak256(stringToHex("closing"));
    const signature = await privateKeyToAccount(generatePrivateKey()).sign({ hash: digest });
    await closing.recover(digest, signature);
    const pending = assert.rejects(closing.recover(digest, signature), /closed/);
    await closing.close();
    await pending;
    await assert.rejects(closing.recover(digest, signature), /closed/);
  });
});
