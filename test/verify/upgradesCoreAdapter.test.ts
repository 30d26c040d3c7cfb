// @openzeppelin/upgrades-core patches process-wide state (console.error, Math.random) while it
// runs: only its adapter may import it, so no caller gets it without the patches' guard. The
// other layering rules (no cycles, codec below verify, devnet a leaf) are test/architecture.test.ts.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { it } from "node:test";

const root = resolve(import.meta.dirname, "../..");

it("@openzeppelin/upgrades-core is imported by its adapter alone", () => {
  const importers = readdirSync(join(root, "src"), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => /\bfrom\s+"@openzeppelin\/upgrades-core[/"]|import\("@openzeppelin\/upgrades-core/.test(readFileSync(file, "utf8")))
    .map((file) => relative(root, file));
  assert.deepEqual(importers, ["src/verify/upgradeSafety/upgradesCore.ts"]);
});
