// `npm start`'s scenario as a real subprocess: two chains, registries, the guarded protocol,
// a benign upgrade approved and performed on both chains, a malicious one refused on both.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("demo (npm start)", () => {
  it("approves the benign upgrade on both chains and refuses the malicious one, then exits 0", () => {
    const run = spawnSync(process.execPath, ["scripts/demo.ts"], { cwd: root, encoding: "utf8", timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr + run.stdout);
    const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as {
      ok: boolean;
      verdicts: Record<string, { verdict: string; recordedOn: number[] }>;
      upgrades: Record<string, string>;
    };
    assert.equal(summary.ok, true);
    for (const chainId of [31337, 31338]) {
      assert.equal(summary.verdicts[`benign V2 @ chain ${chainId}`]?.verdict, "APPROVE");
      assert.deepEqual(summary.verdicts[`benign V2 @ chain ${chainId}`]?.recordedOn, [31337, 31338]);
      assert.equal(summary.verdicts[`malicious DrainableVault @ chain ${chainId}`]?.verdict, "REJECT");
      assert.match(summary.upgrades[`benign V2 @ chain ${chainId}`]!, /^upgraded/);
      assert.match(summary.upgrades[`malicious DrainableVault @ chain ${chainId}`]!, /^refused/);
    }
  });
});
