// `sentinel node signing-record export|import` (src/cli/signingRecord.ts) on real level databases:
// a validator moved to another machine refuses exactly what the old one would have refused, and
// no import can open the way to a second digest for a candidate.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { keccak256, stringToHex, type Hex } from "viem";
import { runSigningRecordCommand } from "../../src/cli/signingRecord.ts";
import { INTERCHANGE_FORMAT_VERSION } from "../../src/consensus/signingInterchange.ts";
import { ConflictingVerdictError, SigningRecord } from "../../src/consensus/signingRecord.ts";
import { generateSecretKey } from "../../src/crypto/bls.ts";
import { INSECURE_FAST_KDF, createKeystore, writeKeystore } from "../../src/crypto/keystore.ts";
import { Database } from "../../src/db/database.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-signing-record-cli"));
const id = (s: string) => keccak256(stringToHex(s));

async function run(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runSigningRecordCommand(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe("sentinel node signing-record", () => {
  const root = mkdtempSync(join(tmpdir(), "sentinel-record-cli-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const secretKey = generateSecretKey();

  /** A node directory with a config, the validator's keystore and a data directory. */
  async function nodeDir(name: string, key = secretKey, networkId: Hex = NETWORK_ID): Promise<{ config: string; dataDir: string }> {
    const dir = join(root, name);
    mkdirSync(dir);
    writeKeystore(join(dir, "keystore.json"), await createKeystore(key, "pw", { kdf: INSECURE_FAST_KDF }));
    const config = join(dir, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        networkId,
        dataDir: "./data",
        validator: { keystore: "./keystore.json" },
        relayer: { enabled: false },
        chains: [{ chainId: 31337, rpcUrl: "http://127.0.0.1:8545", registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" }],
      }),
    );
    return { config, dataDir: join(dir, "data") };
  }

  async function withRecord<T>(dataDir: string, use: (record: SigningRecord) => Promise<T>): Promise<T> {
    const db = await Database.open(dataDir);
    try {
      return await use(new SigningRecord(db));
    } finally {
      await db.close();
    }
  }

  it("export then import on another machine: the new machine refuses a second digest for every candidate the old one signed", async () => {
    const old = await nodeDir("old");
    await withRecord(old.dataDir, async (record) => {
      for (const name of ["c1", "c2", "c3"]) await record.signOnce(id(name), id(`${name} approve`), new Date(), () => undefined);
    });
    const out = join(root, "record.json");
    const exported = await run(["export", "--config", old.config, "--out", out]);
    assert.equal(exported.code, 0, exported.stderr);
    const document = JSON.parse(readFileSync(out, "utf8"));
    assert.equal(document.metadata.interchange_format_version, INTERCHANGE_FORMAT_VERSION);
    assert.equal(document.metadata.network_id, NETWORK_ID);
    assert.equal(document.data[0].signed_verdicts.length, 3);

    const fresh = await nodeDir("new");
    const imported = await run(["import", "--config", fresh.config, "--file", out]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(JSON.parse(imported.stdout).imported, 3);
    await withRecord(fresh.dataDir, async (record) => {
      await assert.rejects(record.signOnce(id("c2"), id("c2 reject"), new Date(), () => undefined), ConflictingVerdictError);
      assert.equal(await record.signOnce(id("c2"), id("c2 approve"), new Date(), () => "same digest again"), "same digest again");
    });
    // Importing twice changes nothing.
    const again = await run(["import", "--config", fresh.config, "--file", out]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { imported: 0, alreadyRecorded: 3, pubkey: document.data[0].pubkey, file: out });
    assert.deepEqual(document.data[0].signed_rotations, []);
    assert.equal((await run(["export", "--config", old.config, "--out", out])).code, 2, "export never overwrites a file");
  });

  it("a record naming another digest for a candidate signed here is refused whole: each conflict named, nothing written", async () => {
    const node = await nodeDir("conflict");
    await withRecord(node.dataDir, (record) => record.signOnce(id("x"), id("x approve"), new Date(), () => undefined));
    const pubkey = `0x${Buffer.from(secretKey.toPublicKey().toBytes(true)).toString("hex")}`;
    const file = join(root, "conflicting.json");
    writeFileSync(
      file,
      JSON.stringify({
        metadata: { interchange_format_version: INTERCHANGE_FORMAT_VERSION, network_id: NETWORK_ID },
        data: [
          {
            pubkey,
            signed_verdicts: [
              { candidate_id: id("new one"), digest: id("new one approve"), signed_at: new Date().toISOString() },
              { candidate_id: id("x"), digest: id("x reject"), signed_at: new Date().toISOString() },
            ],
          },
        ],
      }),
    );
    const { code, stderr } = await run(["import", "--config", node.config, "--file", file]);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`conflict: candidate ${id("x")}: this node signed ${id("x approve")}, the record ${id("x reject")}`));
    assert.match(stderr, /nothing imported/);
    await withRecord(node.dataDir, async (record) => {
      assert.equal(await record.signedDigest(id("x")), id("x approve"));
      assert.equal(await record.signedDigest(id("new one")), undefined, "not even the entries that did not conflict");
    });
  });

  it("refuses a record holding two digests for one candidate, another network's, another key's, or a malformed one", async () => {
    const node = await nodeDir("refusals");
    const pubkey = `0x${Buffer.from(secretKey.toPublicKey().toBytes(true)).toString("hex")}`;
    const at = new Date().toISOString();
    const doc = (networkId: Hex, key: string, verdicts: unknown[]) => ({
      metadata: { interchange_format_version: INTERCHANGE_FORMAT_VERSION, network_id: networkId },
      data: [{ pubkey: key, signed_verdicts: verdicts }],
    });
    const cases: [string, unknown, RegExp][] = [
      ["double", doc(NETWORK_ID, pubkey, [{ candidate_id: id("y"), digest: id("a"), signed_at: at }, { candidate_id: id("y"), digest: id("b"), signed_at: at }]), /holds two digests for candidate/],
      ["network", doc(id("another network"), pubkey, []), /is for network .*this node is on/],
      ["key", doc(NETWORK_ID, `0x${Buffer.from(generateSecretKey().toPublicKey().toBytes(true)).toString("hex")}`, []), /no entry for this node's key/],
      ["malformed", doc(NETWORK_ID, pubkey, [{ candidate_id: "0x12", digest: id("a"), signed_at: at }]), /candidate_id must be 32 bytes/],
      ["version", { metadata: { interchange_format_version: "5", network_id: NETWORK_ID }, data: [] }, /interchange_format_version/],
    ];
    for (const [name, document, message] of cases) {
      const file = join(root, `${name}.json`);
      writeFileSync(file, JSON.stringify(document));
      const { code, stderr } = await run(["import", "--config", node.config, "--file", file]);
      assert.equal(code, 1, `${name}: ${stderr}`);
      assert.match(stderr, message, name);
    }
    await withRecord(node.dataDir, async (record) => assert.deepEqual([await record.entries(), await record.rotationEntries()], [[], []]));
  });

  it("rotation votes move too: a record voting for another rotation to a set index voted here is refused", async () => {
    const old = await nodeDir("rotations-old");
    await withRecord(old.dataDir, (record) => record.signRotationOnce(1, id("grow to 5"), new Date(), () => undefined));
    const out = join(root, "rotations.json");
    assert.equal((await run(["export", "--config", old.config, "--out", out])).code, 0);
    const document = JSON.parse(readFileSync(out, "utf8"));
    assert.deepEqual(document.data[0].signed_rotations.map((r: { set_index: number }) => r.set_index), [1]);

    const fresh = await nodeDir("rotations-new");
    assert.equal((await run(["import", "--config", fresh.config, "--file", out])).code, 0);
    await withRecord(fresh.dataDir, async (record) => {
      assert.equal(await record.signedRotation(1), id("grow to 5"));
      await assert.rejects(record.signRotationOnce(1, id("another set 1"), new Date(), () => undefined), ConflictingVerdictError);
    });

    const voted = await nodeDir("rotations-voted");
    await withRecord(voted.dataDir, (record) => record.signRotationOnce(1, id("another set 1"), new Date(), () => undefined));
    const refused = await run(["import", "--config", voted.config, "--file", out]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /conflict: rotation to set 1: this node signed/);
  });

  it("refuses while a node holds the database, and usage errors exit 2", async () => {
    const node = await nodeDir("locked");
    const db = await Database.open(node.dataDir);
    try {
      const { code, stderr } = await run(["export", "--config", node.config, "--out", join(root, "locked.json")]);
      assert.equal(code, 1);
      assert.match(stderr, /in use by another process.*moves only while its node is stopped/);
      assert.equal(existsSync(join(root, "locked.json")), false);
    } finally {
      await db.close();
    }
    assert.equal((await run(["export", "--config", node.config])).code, 2);
    assert.equal((await run(["import", "--config", node.config])).code, 2);
    assert.equal((await run(["rotate"])).code, 2);
    const help = await run(["export", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage:/);
  });
});
