// `sentinel keys` (src/cli/keys.ts). Named keystore-cli so it sits with the keystore tests.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, defaultScryptModule } from "@chainsafe/bls-keystore";
import { PublicKey, verify } from "@chainsafe/blst";
import { hexToBytes, keccak256, size, stringToHex, type Hex } from "viem";
import { runKeysCommand, type KeyInfo, type ListedKey } from "../../src/cli/keys.ts";
import { proofOfPossessionDigest } from "../../src/codec/types.ts";
import { generateSecretKey, publicKeyRaw, signatureFromEip2537 } from "../../src/crypto/bls.ts";
import { INSECURE_FAST_KDF, loadSecretKey } from "../../src/crypto/keystore.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-cli-test"));
const PASSWORD = "operator password";
const ENV = { SENTINEL_KEYSTORE_PASSWORD: PASSWORD };

async function run(argv: string[], env: NodeJS.ProcessEnv = ENV) {
  let stdout = "";
  let stderr = "";
  const code = await runKeysCommand(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) }, { kdf: INSECURE_FAST_KDF, env });
  return { code, stdout, stderr };
}

function popVerifies(info: KeyInfo, networkId: Hex): boolean {
  const publicKey = PublicKey.fromBytes(hexToBytes(info.publicKey), true);
  const digest = proofOfPossessionDigest(networkId, info.publicKey);
  return verify(hexToBytes(digest), publicKey, signatureFromEip2537(info.proofOfPossession), true, true);
}

describe("sentinel keys", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-keys-cli-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("generate writes a keystore and prints a key with a proof of possession that verifies", async () => {
    const out = join(dir, "keys", "validator.json");
    const { code, stdout, stderr } = await run(["generate", "--network-id", NETWORK_ID, "--out", out]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    const info = JSON.parse(stdout) as KeyInfo;
    assert.equal(info.keystore, out);
    assert.equal(size(info.publicKey), 96);
    assert.equal(size(info.publicKeyCompressed), 48);
    assert.equal(size(info.proofOfPossession), 256);
    assert.ok(popVerifies(info, NETWORK_ID), "PoP verifies against the EIP-712 digest");
    assert.ok(!popVerifies(info, keccak256(stringToHex("another network"))), "PoP is bound to the network id");

    assert.equal(statSync(out).mode & 0o777, 0o600);
    const secretKey = await loadSecretKey(out, PASSWORD);
    assert.equal(Buffer.from(secretKey.toPublicKey().toBytes(false)).toString("hex"), info.publicKey.slice(2));
    assert.ok(!stdout.includes(Buffer.from(secretKey.toBytes()).toString("hex")), "the secret key is never printed");
  });

  it("generate refuses to overwrite an existing file", async () => {
    const out = join(dir, "existing.json");
    writeFileSync(out, "keep me");
    const { code, stdout, stderr } = await run(["generate", "--network-id", NETWORK_ID, "--out", out]);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.match(stderr, /^error: refusing to overwrite existing file .*existing\.json\n$/);
    assert.equal(readFileSync(out, "utf8"), "keep me");
  });

  it("show prints the same key and proof for an existing keystore, with a password file", async () => {
    const out = join(dir, "show.json");
    const generated = await run(["generate", "--network-id", NETWORK_ID, "--out", out]);
    assert.equal(generated.code, 0, generated.stderr);
    const passwordFile = join(dir, "password.txt");
    writeFileSync(passwordFile, `${PASSWORD}\n`);
    const shown = await run(["show", "--keystore", out, "--network-id", NETWORK_ID, "--password-file", passwordFile], {});
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(JSON.parse(shown.stdout), JSON.parse(generated.stdout));
  });

  it("show with a wrong password exits 1 with a one-line reason that does not repeat the password", async () => {
    const out = join(dir, "wrong.json");
    assert.equal((await run(["generate", "--network-id", NETWORK_ID, "--out", out])).code, 0);
    const { code, stderr } = await run(["show", "--keystore", out, "--network-id", NETWORK_ID, "--password-env", "PW"], { PW: "guess" });
    assert.equal(code, 1);
    assert.match(stderr, /^error: wrong password for keystore .*\n$/);
    assert.ok(!stderr.includes("guess"));
  });

  it("a missing password exits 1 and says what to set", async () => {
    const { code, stderr } = await run(["generate", "--network-id", NETWORK_ID, "--out", join(dir, "nopw.json")], {});
    assert.equal(code, 1);
    assert.match(stderr, /SENTINEL_KEYSTORE_PASSWORD/);
  });

  it("list prints every keystore of a directory without a password, and names the other files it skipped", async () => {
    const keysDir = join(dir, "list");
    mkdirSync(keysDir);
    const a = await run(["generate", "--network-id", NETWORK_ID, "--out", join(keysDir, "a.json")]);
    const b = await run(["generate", "--network-id", NETWORK_ID, "--out", join(keysDir, "b.json")]);
    writeFileSync(join(keysDir, "config.json"), "{}");
    writeFileSync(join(keysDir, "password"), PASSWORD);
    const { code, stdout, stderr } = await run(["list", "--dir", keysDir], {});
    assert.equal(code, 0, stderr);
    const listed = stdout.trim().split("\n").map((line) => JSON.parse(line) as ListedKey);
    assert.deepEqual(
      listed.map((key) => [key.keystore, key.publicKey, key.publicKeyCompressed]),
      [a, b].map((r) => JSON.parse(r.stdout) as KeyInfo).map((info) => [info.keystore, info.publicKey, info.publicKeyCompressed]),
    );
    assert.match(stderr, /skipped .*config\.json: .*not an EIP-2335 keystore/);
    assert.match(stderr, /skipped .*password: .*not valid JSON/);
  });

  it("list of a directory that does not exist exits 1 naming it", async () => {
    const { code, stderr } = await run(["list", "--dir", join(dir, "absent")]);
    assert.equal(code, 1);
    assert.match(stderr, /cannot read directory .*absent: ENOENT/);
  });

  it("import checks another tool's scrypt keystore and copies it unchanged; show then opens the copy", async () => {
    const secretKey = generateSecretKey();
    const kdf = defaultScryptModule();
    kdf.params.n = 16; // cheap, for the test
    const foreign = await create(PASSWORD, secretKey.toBytes(), secretKey.toPublicKey().toBytes(true), "m/12381/3600/0/0/0", "from another client", kdf);
    const from = join(dir, "foreign.json");
    writeFileSync(from, JSON.stringify(foreign));
    const out = join(dir, "imported", "validator.json");
    const imported = await run(["import", "--keystore", from, "--out", out, "--network-id", NETWORK_ID]);
    assert.equal(imported.code, 0, imported.stderr);
    const info = JSON.parse(imported.stdout) as KeyInfo;
    assert.equal(info.publicKey, `0x${Buffer.from(publicKeyRaw(secretKey.toPublicKey())).toString("hex")}`);
    assert.ok(popVerifies(info, NETWORK_ID));
    assert.deepEqual(JSON.parse(readFileSync(out, "utf8")), foreign);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const shown = await run(["show", "--keystore", out, "--network-id", NETWORK_ID]);
    assert.deepEqual(JSON.parse(shown.stdout), info);
  });

  it("import refuses a wrong password, a keystore whose pubkey is another key's, and an existing --out, writing nothing", async () => {
    const secretKey = generateSecretKey();
    const kdf = defaultScryptModule();
    kdf.params.n = 16;
    const from = join(dir, "foreign2.json");
    writeFileSync(from, JSON.stringify(await create(PASSWORD, secretKey.toBytes(), secretKey.toPublicKey().toBytes(true), "", null, kdf)));
    const out = join(dir, "refused.json");
    const wrong = await run(["import", "--keystore", from, "--out", out, "--network-id", NETWORK_ID], { SENTINEL_KEYSTORE_PASSWORD: "guess" });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong password/);

    const swapped = JSON.parse(readFileSync(from, "utf8")) as { pubkey: string };
    swapped.pubkey = Buffer.from(generateSecretKey().toPublicKey().toBytes(true)).toString("hex");
    const swappedFile = join(dir, "swapped.json");
    writeFileSync(swappedFile, JSON.stringify(swapped));
    const mismatch = await run(["import", "--keystore", swappedFile, "--out", out, "--network-id", NETWORK_ID]);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /pubkey field does not match/);
    assert.equal(existsSync(out), false);

    writeFileSync(out, "keep me");
    const exists = await run(["import", "--keystore", from, "--out", out, "--network-id", NETWORK_ID]);
    assert.equal(exists.code, 1);
    assert.equal(readFileSync(out, "utf8"), "keep me");
  });

  for (const [name, argv] of [
    ["no subcommand", []],
    ["unknown subcommand", ["rotate"]],
    ["unknown option", ["generate", "--network-id", NETWORK_ID, "--out", "x.json", "--force"]],
    ["missing --out", ["generate", "--network-id", NETWORK_ID]],
    ["missing --network-id", ["show", "--keystore", "x.json"]],
    ["malformed --network-id", ["generate", "--network-id", "0x1234", "--out", "x.json"]],
    ["both password options", ["generate", "--network-id", NETWORK_ID, "--out", "x.json", "--password-file", "a", "--password-env", "B"]],
    ["a positional argument", ["generate", "extra", "--network-id", NETWORK_ID, "--out", "x.json"]],
    ["list without --dir", ["list"]],
    ["import without --out", ["import", "--keystore", "x.json", "--network-id", NETWORK_ID]],
  ] as const) {
    it(`usage error (${name}) exits 2 with the usage on stderr`, async () => {
      const { code, stdout, stderr } = await run([...argv]);
      assert.equal(code, 2);
      assert.equal(stdout, "");
      assert.match(stderr, /^error: .*\n\nUsage:\n {2}sentinel keys generate/);
    });
  }

  it("--help prints the usage on stdout and exits 0", async () => {
    for (const argv of [["--help"], ["generate", "--help"], ["list", "--help"], ["import", "--help"]]) {
      const { code, stdout, stderr } = await run(argv);
      assert.equal(code, 0);
      assert.equal(stderr, "");
      assert.match(stdout, /^Usage:/);
    }
  });
});
