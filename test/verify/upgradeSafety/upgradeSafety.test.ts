// The upgrade-safety and storage-layout checks on the corpus cases that concern them: each case's
// reference and implementation are compiled with solc-js, and checkUpgradeSafety must produce
// exactly the OZ_* and STORAGE_* codes of the case's label (the codes of other checks are not
// this module's), the same findings on a second run, and an OK finding for approved upgrades.
//
// Compiled without the optimizer: validation and storage layouts do not depend on it, and solc-js
// compiles about twice as fast. Outputs are cached by input for the whole run, so cases sharing a
// V1 compile it once and the second run of every case compiles nothing.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { SolcInput } from "../../../src/codec/bundle.ts";
import { fixtureInput, readUpgradeCase } from "../../../src/devnet/upgradeFixture.ts";
import type { Finding } from "../../../src/verify/pipeline.ts";
import { checkUpgradeSafety, type UpgradeBuild, type SolcOutput } from "../../../src/verify/upgradeSafety/index.ts";
import { CORPUS_DIR } from "../../helpers/corpus.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const require = createRequire(import.meta.url);

/** The corpus cases about upgrade safety and storage layout (the corpus holds others too). */
const CASES = [
  "oz-constructor",
  "oz-delegatecall",
  "oz-selfdestruct",
  "oz-state-variable-assignment",
  "oz-state-variable-immutable",
  "oz-external-library-linking",
  "oz-missing-public-upgradeto",
  "oz-internal-function-storage",
  "oz-missing-initializer",
  "oz-missing-initializer-call",
  "oz-duplicate-initializer-call",
  "oz-incorrect-initializer-order",
  "storage-inserted",
  "storage-deleted",
  "storage-type-changed",
  "storage-renamed",
  "storage-replaced",
  "storage-gap-shrunk-wrongly",
  "storage-namespace-field-deleted",
  "storage-namespace-field-reordered",
  "approve-new-function",
  "approve-appended-storage",
  "approve-namespace-field-appended",
  "approve-gap-shrunk",
] as const;

/** The codes these two checks can produce; a label's other codes belong to other checks. */
const OWN_CODE = /^(OZ_|STORAGE_)/;

// ---------------------------------------------------------------------------------------------
// Compilation with solc-js, cached for the run

interface Solc {
  version(): string;
  compile(input: string): string;
}

const solcs = new Map<string, Solc>();
const outputs = new Map<string, SolcOutput>();
let compilations = 0;

/** The installed solc for "0.8.28" (package alias solc-0.8.28) or the default one (solc). */
function solc(version: string): Solc {
  let compiler = solcs.get(version);
  if (compiler === undefined) {
    const defaultSolc = require("solc") as Solc;
    compiler = defaultSolc.version().startsWith(`${version}+`) ? defaultSolc : (require(`solc-${version}`) as Solc);
    solcs.set(version, compiler);
  }
  return compiler;
}

/** "0.8.28+commit.7893614a", as a bundle names its compiler. */
function fullVersion(version: string): string {
  const full = /^\d+\.\d+\.\d+\+commit\.[0-9a-f]{8}/.exec(solc(version).version())?.[0];
  assert.ok(full, `unexpected solc version string for ${version}`);
  return full;
}

async function compile(version: string, input: SolcInput): Promise<SolcOutput> {
  const json = JSON.stringify(input);
  const key = createHash("sha256").update(version).update(json).digest("hex");
  let output = outputs.get(key);
  if (output === undefined) {
    compilations++;
    output = JSON.parse(solc(version.split("+")[0]!).compile(json)) as SolcOutput;
    outputs.set(key, output);
  }
  return output;
}

/** Without the optimizer (see above), and only the outputs checkUpgradeSafety reads. */
const SETTINGS = {
  evmVersion: "cancun",
  optimizer: { enabled: false, runs: 200 },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode", "evm.deployedBytecode", "storageLayout"], "": ["ast"] } },
};

/** Compiles `contract` ("V2.sol:VaultV2") of a case with the sources prepareUpgrade would collect, failing on compiler errors. */
async function build(caseDir: string, contract: string, compiler: string, entries?: string[]): Promise<UpgradeBuild> {
  const input = fixtureInput(caseDir, entries ?? [contract.split(":")[0]!], SETTINGS, CORPUS_DIR);
  const version = fullVersion(compiler);
  const output = await compile(version, input);
  const errors = (output.errors ?? []).filter((e) => e.severity === "error").map((e) => e.formattedMessage);
  assert.deepEqual(errors, [], `${caseDir} ${contract} does not compile`);
  return { version, contract, input, output };
}

async function caseBuilds(name: string) {
  const dir = join(CORPUS_DIR, name);
  const label = readUpgradeCase(dir);
  const compiler = label.compiler ?? "0.8.28";
  return {
    label,
    reference: await build(dir, label.reference, compiler),
    implementation: await build(dir, label.implementation, compiler),
  };
}

function rejectCodes(findings: readonly Finding[]): string[] {
  return [...new Set(findings.filter((f) => f.severity === "reject").map((f) => f.code))].sort();
}

// ---------------------------------------------------------------------------------------------

describe("upgrade safety and storage layout on the corpus", () => {
  for (const name of CASES) {
    it(name, async () => {
      const { label, reference, implementation } = await caseBuilds(name);
      const params = { implementation, reference, kind: label.proxy === "uups" ? ("uups" as const) : ("transparent" as const) };

      const before = compilations;
      const first = await checkUpgradeSafety(params, compile);
      const afterFirst = compilations;
      const second = await checkUpgradeSafety(params, compile);
      // Same inputs, same findings, byte for byte; and the namespaced inputs were the same too,
      // so the second run compiled nothing.
      assert.equal(JSON.stringify(second), JSON.stringify(first));
      assert.equal(compilations, afterFirst, "the namespaced compilation input is not deterministic");
      assert.ok(afterFirst - before <= 2, "at most one namespaced compilation per build");

      const expected = label.reasons.filter((code) => OWN_CODE.test(code)).sort();
      const actual = rejectCodes([...first.upgradeSafety, ...first.storageLayout]);
      assert.deepEqual(actual, expected, JSON.stringify(first, null, 2));

      assert.ok(first.upgradeSafety.every((f) => f.check === "upgrade-safety"));
      assert.ok(first.storageLayout.every((f) => f.check === "storage-layout"));
      for (const findings of [first.upgradeSafety, first.storageLayout]) {
        const rejecting = findings.filter((f) => f.severity === "reject");
        if (rejecting.length === 0) assert.deepEqual(findings.map((f) => [f.code, f.severity]), [["OK", "info"]]);
        else assert.equal(rejecting.length, findings.length, "no OK finding next to a rejection");
      }
      // No node-specific detail: paths are the bundle's source names.
      assert.doesNotMatch(JSON.stringify(first), new RegExp(root.replaceAll("/", "\\/")));
      if (label.expect === "approve") assert.deepEqual(expected, []);
    });
  }
});

describe("upgrade safety findings", () => {
  it("names the offending source line and upgrades-core's explanation", async () => {
    const { reference, implementation } = await caseBuilds("oz-selfdestruct");
    const { upgradeSafety } = await checkUpgradeSafety({ implementation, reference, kind: "uups" }, compile);
    const line = implementation.input.sources["V2.sol"]!.content.split("\n").findIndex((l) => l.includes("selfdestruct(")) + 1;
    assert.deepEqual(upgradeSafety, [
      {
        check: "upgrade-safety",
        code: "OZ_SELFDESTRUCT",
        severity: "reject",
        message: `V2.sol:${line}: Use of selfdestruct is not allowed`,
        evidence: { kind: "selfdestruct", contract: "V2.sol:VaultV2", proxy: "uups", src: `V2.sol:${line}` },
      },
    ]);
  });

  it("honours upgrades-core's unsafe-allow annotations (V1's constructor, UUPSUpgradeable's delegatecall)", async () => {
    const { reference } = await caseBuilds("approve-new-function");
    const result = await checkUpgradeSafety({ implementation: reference, reference, kind: "uups" }, compile);
    assert.deepEqual(rejectCodes([...result.upgradeSafety, ...result.storageLayout]), []);
  });

  it("asks for a public upgrade function only of a UUPS implementation", async () => {
    const { reference, implementation } = await caseBuilds("oz-missing-public-upgradeto");
    const uups = await checkUpgradeSafety({ implementation, reference, kind: "uups" }, compile);
    assert.deepEqual(rejectCodes(uups.upgradeSafety), ["OZ_MISSING_PUBLIC_UPGRADETO"]);
    const transparent = await checkUpgradeSafety({ implementation, reference, kind: "transparent" }, compile);
    assert.deepEqual(rejectCodes(transparent.upgradeSafety), []);
  });

  it("reports an implementation missing from its build as a finding, not a crash", async () => {
    const { reference, implementation } = await caseBuilds("approve-new-function");
    const wrong = { ...implementation, contract: "V2.sol:VaultV3" };
    const result = await checkUpgradeSafety({ implementation: wrong, reference, kind: "uups" }, compile);
    assert.deepEqual(rejectCodes(result.upgradeSafety), ["OZ_OTHER"]);
    assert.match(result.upgradeSafety[0]!.message, /V2\.sol:VaultV3 is not in its build/);
    assert.deepEqual(rejectCodes(result.storageLayout), ["STORAGE_LAYOUT_UNKNOWN"]);
  });

  it("reports an abstract implementation as a finding", async () => {
    const { reference, implementation } = await caseBuilds("approve-new-function");
    const abstract = { ...implementation, contract: "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol:UUPSUpgradeable" };
    const result = await checkUpgradeSafety({ implementation: abstract, reference, kind: "uups" }, compile);
    assert.match(result.upgradeSafety[0]!.message, /abstract or an interface/);
    assert.deepEqual(rejectCodes(result.storageLayout), ["STORAGE_LAYOUT_UNKNOWN"]);
  });

  it("reports an annotation upgrades-core refuses as a finding", async () => {
    const { reference, implementation } = await caseBuilds("approve-new-function");
    // The same build, as if V2's constructor were annotated "unsafe-allow constructr".
    const output = structuredClone(implementation.output);
    let edited = 0;
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (typeof node === "object" && node !== null) {
        const record = node as Record<string, unknown>;
        if (record["nodeType"] === "StructuredDocumentation" && typeof record["text"] === "string" && record["text"].includes("unsafe-allow constructor")) {
          record["text"] = record["text"].replace("unsafe-allow constructor", "unsafe-allow constructr");
          edited++;
        }
        Object.values(record).forEach(visit);
      }
    };
    visit((output.sources as Record<string, unknown>)["V2.sol"]);
    assert.equal(edited, 1);
    const result = await checkUpgradeSafety({ implementation: { ...implementation, output }, reference, kind: "uups" }, compile);
    assert.deepEqual(rejectCodes(result.upgradeSafety), ["OZ_OTHER"]);
    assert.match(result.upgradeSafety[0]!.message, /argument not recognized: constructr/);
    assert.deepEqual(rejectCodes(result.storageLayout), ["STORAGE_LAYOUT_UNKNOWN"]);
  });

  it("throws on a build without the outputs it needs (the caller's bug, not the proposer's)", async () => {
    const { reference, implementation } = await caseBuilds("approve-new-function");
    const noAst = { ...implementation, output: { ...implementation.output, sources: {} } };
    await assert.rejects(checkUpgradeSafety({ implementation: noAst, reference, kind: "uups" }, compile), /has no AST for/);
  });
});

describe("storage layout findings", () => {
  it("names the variable, its type and its slot", async () => {
    const { reference, implementation } = await caseBuilds("storage-type-changed");
    const { storageLayout } = await checkUpgradeSafety({ implementation, reference, kind: "uups" }, compile);
    assert.equal(storageLayout.length, 1);
    const [finding] = storageLayout;
    assert.equal(finding!.code, "STORAGE_TYPE_CHANGED");
    assert.match(finding!.message, /^V2\.sol:\d+: Upgraded `_totalDeposits` to an incompatible type/);
    assert.deepEqual(
      { ...finding!.evidence, src: undefined, newSrc: undefined },
      {
        kind: "typechange",
        reference: "shared/VaultV1.sol:VaultV1",
        contract: "V2.sol:VaultV2",
        variable: "_totalDeposits",
        type: "uint256",
        slot: "1",
        offset: "0",
        src: undefined,
        newVariable: "_totalDeposits",
        newType: "uint128",
        newSlot: "1",
        newOffset: "0",
        newSrc: undefined,
        change: "obvious mismatch",
      },
    );
  });

  it("says which namespace changed", async () => {
    const { reference, implementation } = await caseBuilds("storage-namespace-field-deleted");
    const { storageLayout } = await checkUpgradeSafety({ implementation, reference, kind: "uups" }, compile);
    assert.ok(storageLayout.length > 0);
    for (const finding of storageLayout) {
      assert.equal(finding.evidence?.["namespace"], "erc7201:sentinel.storage.Vault");
      assert.match(finding.message, /^namespace erc7201:sentinel\.storage\.Vault: /);
    }
    assert.ok(storageLayout.some((f) => f.evidence?.["kind"] === "delete" && f.evidence["variable"] === "totalDeposits"));
  });

  it("compares with a reference from the implementation's own build", async () => {
    const dir = join(CORPUS_DIR, "storage-inserted");
    const both = await build(dir, "V2.sol:VaultV2", "0.8.28", ["shared/VaultV1.sol", "V2.sol"]);
    const reference = { ...both, contract: "shared/VaultV1.sol:VaultV1" };
    const result = await checkUpgradeSafety({ implementation: both, reference, kind: "uups" }, compile);
    assert.deepEqual(rejectCodes(result.storageLayout), ["STORAGE_INSERTED"]);
    assert.deepEqual(rejectCodes(result.upgradeSafety), []);

    const wrong = await checkUpgradeSafety({ implementation: both, reference: { ...both, contract: "shared/VaultV1.sol:VaultV0" }, kind: "uups" }, compile);
    assert.deepEqual(rejectCodes(wrong.storageLayout), ["STORAGE_LAYOUT_UNKNOWN"]);
    assert.deepEqual(rejectCodes(wrong.upgradeSafety), []);
  });

  it("reports a reference missing from its build as STORAGE_LAYOUT_UNKNOWN", async () => {
    const { reference, implementation } = await caseBuilds("approve-new-function");
    const wrong = { ...reference, contract: "shared/VaultV1.sol:Vault" };
    const result = await checkUpgradeSafety({ implementation, reference: wrong, kind: "uups" }, compile);
    assert.deepEqual(rejectCodes(result.storageLayout), ["STORAGE_LAYOUT_UNKNOWN"]);
    assert.match(result.storageLayout[0]!.message, /^reference: contract shared\/VaultV1\.sol:Vault is not in its build/);
    assert.deepEqual(rejectCodes(result.upgradeSafety), []);
  });
});
