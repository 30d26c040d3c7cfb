// The signing record on a real level database on disk, across a reopen and across processes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { getAddress, keccak256, stringToHex } from "viem";
import { revocationVerdict } from "../../src/codec/revocation.ts";
import { Outcome, verdictDigest, type Verdict } from "../../src/codec/types.ts";
import { ConflictingVerdictError, SigningRecord } from "../../src/consensus/signingRecord.ts";
import { DataDirLockedError, Database } from "../../src/db/database.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const candidate = keccak256(stringToHex("candidate"));
const digestA = keccak256(stringToHex("verdict A"));
const digestB = keccak256(stringToHex("verdict B"));

describe("signing record", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "sentinel-signing-"));
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("signs a digest, signs the same digest again, refuses a different one", async () => {
    const db = await Database.open(tempDir());
    const record = new SigningRecord(db);
    assert.equal(await record.signOnce(candidate, digestA, new Date(), () => "sig-A"), "sig-A");
    assert.equal(await record.signOnce(candidate, digestA, new Date(), () => "sig-A again"), "sig-A again");
    let signedB = false;
    await assert.rejects(
      record.signOnce(candidate, digestB, new Date(), () => (signedB = true)),
      ConflictingVerdictError,
    );
    assert.equal(signedB, false, "the signer must not run for a conflicting digest");
    await db.close();
  });

  it("a revocation of a signed approval is its own entry, and a second revocation digest for it is refused", async () => {
    const db = await Database.open(tempDir());
    const record = new SigningRecord(db);
    const network = keccak256(stringToHex("network"));
    const approval: Verdict = {
      candidateId: candidate, chainId: 1n, target: getAddress("0x00000000000000000000000000000000000a11ce"), codehash: keccak256(stringToHex("code")),
      outcome: Outcome.Approve, policyHash: digestA, reasons: 0n, findingsDigest: digestA, issuedAt: 1n, expiresAt: 2n,
    };
    await record.signOnce(candidate, verdictDigest(network, approval), new Date(), () => "approve");
    const revoke = revocationVerdict(network, { approvalId: candidate, approval, invariant: "cap" });
    assert.equal(await record.signOnce(revoke.candidateId, verdictDigest(network, revoke), new Date(), () => "revoke"), "revoke");
    assert.equal(await record.signedDigest(candidate), verdictDigest(network, approval), "the approval's entry is untouched");
    await assert.rejects(record.signOnce(revoke.candidateId, verdictDigest(network, { ...revoke, issuedAt: 9n }), new Date(), () => "other"), ConflictingVerdictError);
    await db.close();
  });

  it("two concurrent verdicts for one candidate: exactly one is signed", async () => {
    const db = await Database.open(tempDir());
    const record = new SigningRecord(db);
    const results = await Promise.allSettled([
      record.signOnce(candidate, digestA, new Date(), () => "A"),
      record.signOnce(candidate, digestB, new Date(), () => "B"),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
    await db.close();
  });

  it("remembers across a close and reopen (what a restart after a crash sees)", async () => {
    const dir = tempDir();
    const first = await Database.open(dir);
    await new SigningRecord(first).signOnce(candidate, digestA, new Date(), () => "A");
    await first.close();
    const second = await Database.open(dir);
    const record = new SigningRecord(second);
    assert.equal(await record.signedDigest(candidate), digestA);
    await assert.rejects(record.signOnce(candidate, digestB, new Date(), () => "B"), ConflictingVerdictError);
    await second.close();
  });

  it("survives the process being killed right after signing", async () => {
    const dir = tempDir();
    const script = `
      import { SigningRecord } from ${JSON.stringify(join(root, "src/consensus/signingRecord.ts"))};
      import { Database } from ${JSON.stringify(join(root, "src/db/database.ts"))};
      const db = await Database.open(${JSON.stringify(dir)});
      await new SigningRecord(db).signOnce(${JSON.stringify(candidate)}, ${JSON.stringify(digestA)}, new Date(), () => 0);
      process.kill(process.pid, "SIGKILL");`;
    spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    const db = await Database.open(dir);
    assert.equal(await new SigningRecord(db).signedDigest(candidate), digestA);
    await db.close();
  });

  it("a second process on the same data directory cannot open it", async () => {
    const dir = tempDir();
    const db = await Database.open(dir);
    const script = `
      import { Database } from ${JSON.stringify(join(root, "src/db/database.ts"))};
      try { await Database.open(${JSON.stringify(dir)}); console.log("opened"); }
      catch (error) { console.log(error.name); }`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.equal(run.stdout.trim(), "DataDirLockedError", run.stderr);
    await db.close();
    assert.ok(DataDirLockedError);
  });
});
