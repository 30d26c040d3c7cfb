// The same analysis in two separate processes (each its own z3, its own term table) gives the
// same findings, byte for byte: what every node of a committee signs over.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, "digestProcess.ts");

async function digestOf(name: string): Promise<{ digest: string; findings: unknown[] }> {
  const { stdout } = await run(process.execPath, [SCRIPT, name], { timeout: 120_000, killSignal: "SIGKILL" });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as { digest: string; findings: unknown[] };
}

describe("access-control analysis determinism", { timeout: 300_000 }, () => {
  for (const name of ["capability-transferfrom-backdoor", "approve-oz-token"]) {
    it(`${name}: two processes, one findings digest`, async () => {
      const [first, second] = await Promise.all([digestOf(name), digestOf(name)]);
      assert.ok(first.findings.length > 0);
      assert.equal(first.digest, second.digest);
      assert.deepEqual(first.findings, second.findings);
    });
  }
});
