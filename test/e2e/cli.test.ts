// `sentinel node start` refusing bad input as an operator meets it: a real process, a clear
// message naming what to fix, exit code 1, and nothing written to disk.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../src/cli/sentinel.ts", import.meta.url));
const EXAMPLE = fileURLToPath(new URL("../../config/node.example.json", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });

describe("sentinel node start with bad input", () => {
  const dir = mkdtempSync(join(tmpdir(), "sentinel-cli-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a config whose key files do not exist: names the file, exits 1, creates no data directory", () => {
    const config = join(dir, "node.json");
    // The example's key paths are relative to the config file: none exist in this new directory.
    writeFileSync(config, readFileSync(EXAMPLE, "utf8"));
    const result = run("node", "start", "--config", config);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /cannot read password file .*keys\/password: no such file or directory/);
    assert.equal(existsSync(join(dir, "data")), false, "a refused start writes nothing");
  });

  it("a malformed config: every bad field with its fix, exit 1", () => {
    const config = join(dir, "bad.json");
    writeFileSync(config, JSON.stringify({ networkId: "0x12", chains: [], bogus: 1 }));
    const result = run("node", "start", "--config", config);
    assert.equal(result.status, 1);
    for (const field of ["bogus: unknown field", "networkId: must be 0x", "dataDir: is required", "chains: must list at least one chain"]) {
      assert.ok(result.stderr.includes(field), `${field} in:\n${result.stderr}`);
    }
  });

  it("no config argument: usage, exit 2", () => {
    const result = run("node", "start");
    assert.equal(result.status, 2);
    assert.match(result.stderr, /usage: sentinel node start --config <file>/);
  });
});
