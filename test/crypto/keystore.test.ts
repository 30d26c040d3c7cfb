import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, defaultScryptModule } from "@chainsafe/bls-keystore";
import { generateSecretKey } from "../../src/crypto/bls.ts";
import {
  DEFAULT_PASSWORD_ENV,
  INSECURE_FAST_KDF,
  KeystoreError,
  createKeystore,
  loadSecretKey,
  resolvePassword,
  writeKeystore,
  type Eip2335Keystore,
  type KeystoreErrorCode,
} from "../../src/crypto/keystore.ts";

const PASSWORD = "correct horse battery staple";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "sentinel-keystore-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
const freshPath = () => join(dir, `keystore-${fileCounter++}.json`);

async function rejectsWith(promise: Promise<unknown> | (() => unknown), code: KeystoreErrorCode): Promise<KeystoreError> {
  let caught: unknown;
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof KeystoreError, `expected KeystoreError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(!caught.message.includes(PASSWORD), "the message must not contain the password");
  return caught;
}

async function writtenKeystore(password = PASSWORD) {
  const secretKey = generateSecretKey();
  const keystore = await createKeystore(secretKey, password, { kdf: INSECURE_FAST_KDF });
  const file = freshPath();
  writeKeystore(file, keystore);
  return { secretKey, keystore, file };
}

describe("EIP-2335 keystore", () => {
  it("round trips: create, write, load gives the same secret key", async () => {
    const { secretKey, file } = await writtenKeystore();
    const loaded = await loadSecretKey(file, PASSWORD);
    assert.deepEqual(loaded.toBytes(), secretKey.toBytes());
  });

  it("records the compressed public key, the path and the description", async () => {
    const secretKey = generateSecretKey();
    const keystore = await createKeystore(secretKey, PASSWORD, {
      kdf: INSECURE_FAST_KDF,
      path: "m/12381/3600/0/0/0",
      description: "node 1",
    });
    assert.equal(keystore.version, 4);
    assert.equal(keystore.pubkey, Buffer.from(secretKey.toPublicKey().toBytes(true)).toString("hex"));
    assert.equal(keystore.path, "m/12381/3600/0/0/0");
    assert.equal(keystore.description, "node 1");
    assert.equal(keystore.crypto.kdf.function, "pbkdf2");
    const plain = await createKeystore(secretKey, PASSWORD, { kdf: INSECURE_FAST_KDF });
    assert.equal("description" in plain, false);
    assert.equal(plain.path, "");
  });

  it("defaults to scrypt with EIP-2335's parameters", async () => {
    // One real scrypt derivation (~1 s): the default is what protects operators' keys.
    const keystore = await createKeystore(generateSecretKey(), PASSWORD);
    assert.equal(keystore.crypto.kdf.function, "scrypt");
    assert.deepEqual({ ...keystore.crypto.kdf.params, salt: undefined }, { dklen: 32, n: 262144, r: 8, p: 1, salt: undefined });
  });

  it("loads scrypt keystores written by other tools", async () => {
    const secretKey = generateSecretKey();
    const kdf = defaultScryptModule();
    kdf.params.n = 16; // cheap, for the test
    const keystore = await create(PASSWORD, secretKey.toBytes(), secretKey.toPublicKey().toBytes(true), "", null, kdf);
    const file = freshPath();
    writeFileSync(file, JSON.stringify(keystore));
    assert.deepEqual((await loadSecretKey(file, PASSWORD)).toBytes(), secretKey.toBytes());
  });

  it("rejects a wrong password with WRONG_PASSWORD", async () => {
    const { file } = await writtenKeystore();
    const error = await rejectsWith(loadSecretKey(file, "not the password"), "WRONG_PASSWORD");
    assert.match(error.message, /wrong password/);
    assert.ok(error.message.includes(file));
  });

  it("rejects a keystore whose pubkey was swapped for another key's with INVALID_KEYSTORE", async () => {
    const { file, keystore } = await writtenKeystore();
    const other = Buffer.from(generateSecretKey().toPublicKey().toBytes(true)).toString("hex");
    writeFileSync(file, JSON.stringify({ ...keystore, pubkey: other }));
    const error = await rejectsWith(loadSecretKey(file, PASSWORD), "INVALID_KEYSTORE");
    assert.match(error.message, /pubkey/);
  });

  it("rejects a keystore without a pubkey with INVALID_KEYSTORE", async () => {
    const { file, keystore } = await writtenKeystore();
    const { pubkey: _, ...withoutPubkey } = keystore;
    writeFileSync(file, JSON.stringify(withoutPubkey));
    await rejectsWith(loadSecretKey(file, PASSWORD), "INVALID_KEYSTORE");
  });

  it("rejects a truncated or non-keystore file with INVALID_KEYSTORE", async () => {
    const { file } = await writtenKeystore();
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.slice(0, text.length / 2));
    await rejectsWith(loadSecretKey(file, PASSWORD), "INVALID_KEYSTORE");
    writeFileSync(file, JSON.stringify({ version: 4, hello: "world" }));
    await rejectsWith(loadSecretKey(file, PASSWORD), "INVALID_KEYSTORE");
  });

  it("refuses KDF parameters that would exhaust memory or CPU, before running them", async () => {
    const { file, keystore } = await writtenKeystore();
    const withKdf = (kdf: unknown) => ({ ...keystore, crypto: { ...keystore.crypto, kdf } }) as Eip2335Keystore;
    const salt = "11".repeat(32);
    for (const kdf of [
      { function: "scrypt", params: { dklen: 32, n: 2 ** 30, r: 8, p: 1, salt }, message: "" },
      { function: "scrypt", params: { dklen: 32, n: 1000, r: 8, p: 1, salt }, message: "" },
      { function: "pbkdf2", params: { dklen: 32, c: 2 ** 40, prf: "hmac-sha256", salt }, message: "" },
      { function: "pbkdf2", params: { dklen: 16, c: 2, prf: "hmac-sha256", salt }, message: "" },
    ]) {
      writeFileSync(file, JSON.stringify(withKdf(kdf)));
      await rejectsWith(loadSecretKey(file, PASSWORD), "INVALID_KEYSTORE");
    }
  });

  it("cannot tell an altered ciphertext from a wrong password (EIP-2335 checksum), and says both", async () => {
    const { file, keystore } = await writtenKeystore();
    const message = keystore.crypto.cipher.message;
    const flipped = (message[0] === "0" ? "1" : "0") + message.slice(1);
    writeFileSync(file, JSON.stringify({ ...keystore, crypto: { ...keystore.crypto, cipher: { ...keystore.crypto.cipher, message: flipped } } }));
    const error = await rejectsWith(loadSecretKey(file, PASSWORD), "WRONG_PASSWORD");
    assert.match(error.message, /altered/);
  });

  it("reports a missing keystore file as IO_ERROR naming the file", async () => {
    const file = join(dir, "absent.json");
    const error = await rejectsWith(loadSecretKey(file, PASSWORD), "IO_ERROR");
    assert.ok(error.message.includes(file));
  });
});

describe("writeKeystore", () => {
  it("writes with mode 0600 and leaves no temp file", async () => {
    const { file } = await writtenKeystore();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith(".tmp")), []);
  });

  it("refuses to overwrite an existing file unless asked, and keeps the original", async () => {
    const { file, keystore } = await writtenKeystore();
    const before = readFileSync(file, "utf8");
    const other = await createKeystore(generateSecretKey(), PASSWORD, { kdf: INSECURE_FAST_KDF });
    await rejectsWith(() => writeKeystore(file, other), "FILE_EXISTS");
    assert.equal(readFileSync(file, "utf8"), before);
    assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith(".tmp")), []);

    writeKeystore(file, other, { overwrite: true });
    assert.equal(JSON.parse(readFileSync(file, "utf8")).pubkey, other.pubkey);
    assert.notEqual(other.pubkey, keystore.pubkey);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it("reports a missing directory as IO_ERROR", async () => {
    const keystore = await createKeystore(generateSecretKey(), PASSWORD, { kdf: INSECURE_FAST_KDF });
    await rejectsWith(() => writeKeystore(join(dir, "no", "such", "dir.json"), keystore), "IO_ERROR");
  });
});

describe("resolvePassword", () => {
  it("reads a file, ignoring exactly one trailing newline", () => {
    const file = join(dir, "password.txt");
    writeFileSync(file, `${PASSWORD}\n`);
    assert.equal(resolvePassword({ passwordFile: file }, {}), PASSWORD);
    writeFileSync(file, `${PASSWORD}\r\n`);
    assert.equal(resolvePassword({ passwordFile: file }, {}), PASSWORD);
    writeFileSync(file, `${PASSWORD}\n\n`);
    assert.equal(resolvePassword({ passwordFile: file }, {}), `${PASSWORD}\n`);
    writeFileSync(file, ` ${PASSWORD} `);
    assert.equal(resolvePassword({ passwordFile: file }, {}), ` ${PASSWORD} `);
  });

  it(`reads ${DEFAULT_PASSWORD_ENV} by default, or the named variable`, () => {
    assert.equal(resolvePassword({}, { [DEFAULT_PASSWORD_ENV]: PASSWORD }), PASSWORD);
    assert.equal(resolvePassword({ passwordEnv: "NODE1_PW" }, { NODE1_PW: PASSWORD, [DEFAULT_PASSWORD_ENV]: "other" }), PASSWORD);
  });

  it("says which variable or file to set when there is no password", async () => {
    const none = await rejectsWith(() => resolvePassword({}, {}), "PASSWORD_MISSING");
    assert.match(none.message, new RegExp(DEFAULT_PASSWORD_ENV));
    assert.match(none.message, /password-file|passwordFile/);
    const named = await rejectsWith(() => resolvePassword({ passwordEnv: "NODE1_PW" }, { NODE1_PW: "" }), "PASSWORD_MISSING");
    assert.match(named.message, /NODE1_PW/);
    const emptyFile = join(dir, "empty-password.txt");
    writeFileSync(emptyFile, "\n");
    const empty = await rejectsWith(() => resolvePassword({ passwordFile: emptyFile }, {}), "PASSWORD_MISSING");
    assert.ok(empty.message.includes(emptyFile));
    await rejectsWith(() => resolvePassword({ passwordFile: emptyFile, passwordEnv: "X" }, { X: PASSWORD }), "PASSWORD_MISSING");
  });

  it("reports an unreadable password file as IO_ERROR naming the file", async () => {
    const file = join(dir, "no-such-password.txt");
    const error = await rejectsWith(() => resolvePassword({ passwordFile: file }, {}), "IO_ERROR");
    assert.ok(error.message.includes(file));
  });
});
