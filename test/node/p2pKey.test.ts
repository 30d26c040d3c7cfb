import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadOrCreateP2pKey, P2P_KEY_FILE } from "../../src/node/p2pKey.ts";

const root = mkdtempSync(join(tmpdir(), "sentinel-p2pkey-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("the key is created once, owner-only, and the same key comes back after a restart", async () => {
  const dataDir = mkdtempSync(join(root, "node-"));
  const created = await loadOrCreateP2pKey(dataDir);
  assert.deepEqual(readdirSync(dataDir), [P2P_KEY_FILE]);
  assert.equal(statSync(join(dataDir, P2P_KEY_FILE)).mode & 0o777, 0o600);
  const loaded = await loadOrCreateP2pKey(dataDir);
  assert.ok(loaded.equals(created));
});

test("a corrupt key file is an error, not a silently new identity", async () => {
  const dataDir = mkdtempSync(join(root, "node-"));
  writeFileSync(join(dataDir, P2P_KEY_FILE), "not a protobuf key");
  await assert.rejects(loadOrCreateP2pKey(dataDir));
  assert.deepEqual(readdirSync(dataDir), [P2P_KEY_FILE]);
});
