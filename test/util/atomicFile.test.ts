// Runs against the real file system in a fresh temp directory: what matters here (exclusive
// create, rename over an open file, link refusing a name, umask) is the kernel's behaviour,
// which a mocked fs would only restate. Durability (the fsyncs) cannot be observed without
// cutting the power, so it is not asserted.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { writeFileAtomic, writeFileAtomicSync, type AtomicWriteOptions } from "../../src/util/atomicFile.ts";

const root = mkdtempSync(join(tmpdir(), "sentinel-atomic-"));
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function freshDir(): string {
  const dir = join(root, `d${dirs++}`);
  mkdirSync(dir);
  return dir;
}

const variants: [string, (file: string, data: string | Uint8Array, options?: AtomicWriteOptions) => Promise<void>][] = [
  ["writeFileAtomicSync", async (file, data, options) => writeFileAtomicSync(file, data, options)],
  ["writeFileAtomic", writeFileAtomic],
];

for (const [name, write] of variants) {
  describe(name, () => {
    test("writes the content and leaves no temp file behind", async () => {
      const dir = freshDir();
      await write(join(dir, "a.json"), '{"a":1}');
      await write(join(dir, "b.bin"), new Uint8Array([0, 1, 2, 255]));
      assert.equal(readFileSync(join(dir, "a.json"), "utf8"), '{"a":1}');
      assert.deepEqual([...readFileSync(join(dir, "b.bin"))], [0, 1, 2, 255]);
      assert.deepEqual(readdirSync(dir).sort(), ["a.json", "b.bin"]);
    });

    test("replaces an existing file by a new one, never rewriting the old one in place", async () => {
      const dir = freshDir();
      const file = join(dir, "key");
      writeFileSync(file, "old content");
      const before = statSync(file).ino;
      // A reader that opened the old file keeps reading all of it: nothing truncated it.
      const reader = openSync(file, "r");
      try {
        await write(file, "new");
        const buffer = Buffer.alloc(64);
        assert.equal(buffer.toString("utf8", 0, readSync(reader, buffer, 0, 64, 0)), "old content");
      } finally {
        closeSync(reader);
      }
      assert.equal(readFileSync(file, "utf8"), "new");
      assert.notEqual(statSync(file).ino, before);
      assert.deepEqual(readdirSync(dir), ["key"]);
    });

    test("removes its temp file when the write fails, and the target is untouched", async () => {
      const dir = freshDir();
      // rename(2) cannot put a file over a directory: fails after the temp file was written.
      const target = join(dir, "taken");
      mkdirSync(target);
      writeFileSync(join(target, "inside"), "x");
      await assert.rejects(write(target, "data"), (error: NodeJS.ErrnoException) => typeof error.code === "string");
      assert.deepEqual(readdirSync(dir), ["taken"]);
      assert.deepEqual(readdirSync(target), ["inside"]);
    });

    test("fails with the file system's error when the directory does not exist", async () => {
      const dir = freshDir();
      await assert.rejects(write(join(dir, "missing", "file"), "data"), { code: "ENOENT" });
      assert.deepEqual(readdirSync(dir), []);
    });

    test("mode sets the exact permission bits, whatever the umask", async () => {
      const dir = freshDir();
      const previous = process.umask(0o077);
      try {
        await write(join(dir, "secret"), "s", { mode: 0o600 });
        await write(join(dir, "shared"), "s", { mode: 0o640 });
        await write(join(dir, "default"), "s");
      } finally {
        process.umask(previous);
      }
      assert.equal(statSync(join(dir, "secret")).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, "shared")).mode & 0o777, 0o640);
      assert.equal(statSync(join(dir, "default")).mode & 0o777, 0o600); // 0o666 less the umask
    });

    test("mode applies to a replacing file too (the old file's mode is not kept)", async () => {
      const dir = freshDir();
      const file = join(dir, "key");
      writeFileSync(file, "old", { mode: 0o644 });
      await write(file, "new", { mode: 0o600 });
      assert.equal(statSync(file).mode & 0o777, 0o600);
    });

    test("replace: false refuses an existing file, keeps it, and cleans up", async () => {
      const dir = freshDir();
      const file = join(dir, "keystore.json");
      writeFileSync(file, "precious");
      await assert.rejects(write(file, "other", { replace: false }), { code: "EEXIST" });
      assert.equal(readFileSync(file, "utf8"), "precious");
      assert.deepEqual(readdirSync(dir), ["keystore.json"]);
    });

    test("replace: false writes a new file", async () => {
      const dir = freshDir();
      await write(join(dir, "new"), "content", { replace: false, mode: 0o600 });
      assert.equal(readFileSync(join(dir, "new"), "utf8"), "content");
      assert.equal(statSync(join(dir, "new")).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(dir), ["new"]);
    });
  });
}

test("of concurrent writers with replace: false exactly one wins, the others get EEXIST", async () => {
  const dir = freshDir();
  const file = join(dir, "once");
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => writeFileAtomic(file, `writer ${i}`, { replace: false })));
  const won = results.flatMap((result, i) => (result.status === "fulfilled" ? [i] : []));
  assert.equal(won.length, 1);
  for (const result of results) if (result.status === "rejected") assert.equal((result.reason as NodeJS.ErrnoException).code, "EEXIST");
  assert.equal(readFileSync(file, "utf8"), `writer ${won[0]}`);
  assert.deepEqual(readdirSync(dir), ["once"]);
});
