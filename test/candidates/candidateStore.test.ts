// The candidate store on a real level database: bundles kept once, whoever re-sends them.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CandidateStore } from "../../src/candidates/candidateStore.ts";
import { bundleHash, parseBundle } from "../../src/codec/bundle.ts";
import { Database } from "../../src/db/database.ts";
import { rawBundle } from "../helpers/apiNode.ts";

describe("CandidateStore bundles", () => {
  const dir = mkdtempSync(join(tmpdir(), "sentinel-store-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a bundle once: sending it again reads, and a restarted store still holds it", async () => {
    const bundle = parseBundle(rawBundle());
    const hash = bundleHash(bundle);
    let db = await Database.open(dir);
    const writes: string[] = [];
    const sublevel = db.sublevel.bind(db);
    db.sublevel = ((name: Parameters<typeof sublevel>[0]) => {
      const sub = sublevel(name);
      return { ...sub, put: (key: string, value: never) => (writes.push(`${name}:${key}`), sub.put(key, value)) };
    }) as typeof db.sublevel;
    let store = new CandidateStore({}, { db });
    assert.equal(await store.hasBundle(hash), false);
    await store.putBundle(bundle);
    await store.putBundle(bundle, hash);
    await store.putBundle(bundle);
    assert.deepEqual(writes, [`bundles:${hash}`]);
    assert.deepEqual(await store.bundle(hash), bundle);
    await db.close();

    db = await Database.open(dir);
    store = new CandidateStore({}, { db });
    assert.equal(await store.hasBundle(hash.toUpperCase().replace("0X", "0x")), true);
    assert.deepEqual(await store.bundle(hash), bundle);
    await db.close();
  });
});
