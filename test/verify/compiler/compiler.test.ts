import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { SolcInput } from "../../../src/codec/bundle.ts";
import {
  collectSources,
  compileCacheKey,
  CompilerError,
  fileResolver,
  findContract,
  findImports,
  findInstalledCompilers,
  resolveImportPath,
  SolcCompilers,
  SourceCollectionError,
  VERIFICATION_CONTRACT_OUTPUTS,
  withVerificationOutputs,
} from "../../../src/verify/compiler/index.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const V28 = "0.8.28+commit.7893614a";
const V30 = "0.8.30+commit.73712a01";

function input(body: string, settings: Record<string, unknown> = { optimizer: { enabled: true, runs: 200 } }): SolcInput {
  return withVerificationOutputs({
    language: "Solidity",
    sources: { "src/C.sol": { content: `// SPDX-License-Identifier: MIT\npragma solidity >=0.8.0;\n${body}\n` } },
    settings,
  });
}

const COUNTER = "contract Counter { uint256 public count; function inc() external { count += 1; } }";

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<CompilerError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CompilerError, `expected a CompilerError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe("installed compilers", () => {
  it("finds the solc packages of package.json without loading them", () => {
    const installed = findInstalledCompilers();
    const releases = installed.map((c) => c.release);
    for (const release of ["0.8.20", "0.8.24", "0.8.26", "0.8.28", "0.8.30", "0.8.37"]) assert.ok(releases.includes(release), release);
    assert.equal(installed.find((c) => c.release === "0.8.28")?.packageName, "solc-0.8.28");
    assert.equal(installed.find((c) => c.release === "0.8.37")?.packageName, "solc");
  });
});

describe("SolcCompilers", () => {
  let dir: string;
  let compilers: SolcCompilers;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sentinel-compiler-"));
    compilers = new SolcCompilers({ cacheDir: join(dir, "cache") });
  });
  after(async () => {
    await compilers.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("rejects a wrong commit of an installed release once it is loaded", async () => {
    assert.equal(compilers.installed().find((c) => c.release === "0.8.28")?.version, undefined);
    await rejectsWith(compilers.compile("0.8.28+commit.deadbeef", input(COUNTER)), "COMPILER_UNAVAILABLE", /0\.8\.28\+commit\.7893614a/);
    assert.equal(compilers.installed().find((c) => c.release === "0.8.28")?.version, V28);
    // Known now: fails at once, without the cache or a worker.
    await rejectsWith(compilers.compile("0.8.28+commit.deadbeef", input(COUNTER)), "COMPILER_UNAVAILABLE", /different build/);
  });

  it("compiles with the version asked for, and the metadata names it", async () => {
    for (const version of [V28, V30]) {
      const result = await compilers.compile(version, input(COUNTER));
      assert.equal(result.cached, false);
      assert.equal(result.from, "compiled");
      const counter = findContract(result.output, "src/C.sol:Counter");
      assert.ok(counter?.metadata);
      assert.equal((JSON.parse(counter.metadata) as { compiler: { version: string } }).compiler.version, version);
      assert.match(counter.evm?.deployedBytecode?.object ?? "", /^[0-9a-f]+$/);
      assert.deepEqual(counter.evm?.methodIdentifiers, { "count()": "06661abd", "inc()": "371303c0" });
      assert.equal(counter.storageLayout?.storage[0]?.label, "count");
      assert.ok(result.output.sources["src/C.sol"]?.ast);
    }
    assert.equal(await compilers.fullVersion("0.8.30"), V30);
  });

  it("answers a repeated request from memory, with the same frozen output", async () => {
    const first = await compilers.compile(V28, input(COUNTER));
    const second = await compilers.compile(V28, input(COUNTER));
    assert.equal(second.cached, true);
    assert.equal(second.from, "memory");
    assert.equal(second.output, first.output);
    assert.throws(() => (second.output.errors as unknown[]).push("x"), TypeError);
  });

  it("answers from the disk cache after a restart, without loading a compiler", async () => {
    const reopened = new SolcCompilers({ cacheDir: join(dir, "cache") });
    try {
      const result = await reopened.compile(V28, input(COUNTER));
      assert.equal(result.from, "disk");
      assert.equal(result.cached, true);
      assert.deepEqual(result.output, (await compilers.compile(V28, input(COUNTER))).output);
      assert.equal(reopened.stats().workerStarts, 0);
    } finally {
      await reopened.close();
    }
  });

  it("recompiles over a corrupt cache file", async () => {
    const path = join(dir, "cache", `${compileCacheKey(V28, input(COUNTER)).slice(2)}.json`);
    const good = await readFile(path, "utf8");
    await writeFile(path, good.slice(0, good.length / 2));
    const reopened = new SolcCompilers({ cacheDir: join(dir, "cache") });
    try {
      const result = await reopened.compile(V28, input(COUNTER));
      assert.equal(result.from, "compiled");
      assert.equal(reopened.stats().corruptCacheFiles, 1);
    } finally {
      await reopened.close(); // waits for the rewrite
    }
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), JSON.parse(good));
  });

  it("fails with COMPILATION_FAILED naming solc's error", async () => {
    const error = await rejectsWith(
      compilers.compile(V28, input("contract Broken { function f() external { uint x = } }")),
      "COMPILATION_FAILED",
      /ParserError/,
    );
    assert.match(error.message, /src\/C\.sol/);
    // Deterministic: cached, and fails the same way again.
    await rejectsWith(compilers.compile(V28, input("contract Broken { function f() external { uint x = } }")), "COMPILATION_FAILED", /ParserError/);
  });

  it("produces the same bytecode whatever the outputSelection", async () => {
    const settings = { optimizer: { enabled: true, runs: 200 }, viaIR: true };
    const minimal: SolcInput = {
      language: "Solidity",
      sources: input(COUNTER).sources,
      settings: { ...settings, outputSelection: { "*": { "*": ["evm.deployedBytecode.object"] } } },
    };
    const [full, bare] = await Promise.all([compilers.compile(V28, input(COUNTER, settings)), compilers.compile(V28, minimal)]);
    const code = findContract(bare.output, "src/C.sol:Counter")?.evm?.deployedBytecode?.object;
    assert.ok(code);
    assert.equal(findContract(full.output, "src/C.sol:Counter")?.evm?.deployedBytecode?.object, code);
    assert.equal(findContract(bare.output, "src/C.sol:Counter")?.abi, undefined);
  });

  it("does not fail on warnings", async () => {
    const result = await compilers.compile(V28, input("contract Warns { function f() external pure { uint256 unused; } }"));
    assert.ok(result.output.errors.some((e) => e.severity === "warning"));
  });

  it("fails with COMPILER_UNAVAILABLE for a version that is not installed", async () => {
    const error = await rejectsWith(compilers.compile("0.8.19+commit.7dd6d404", input(COUNTER)), "COMPILER_UNAVAILABLE");
    assert.match(error.message, /0\.8\.28\+commit\.7893614a/);
    assert.match(error.message, /0\.8\.37 \(solc/);
    assert.ok(error.message.includes('"solc-0.8.19": "npm:solc@0.8.19"'), error.message);
    await rejectsWith(compilers.compile("0.8.28", input(COUNTER)), "COMPILER_UNAVAILABLE", /not a full solc version/);
    await rejectsWith(compilers.fullVersion("0.8.19"), "COMPILER_UNAVAILABLE", /npm:solc@0\.8\.19/);
  });

  it("times out, terminates the worker, and compiles again afterwards", async () => {
    await rejectsWith(compilers.compile(V28, input(COUNTER, { optimizer: { enabled: true, runs: 7 } }), { timeoutMs: 1 }), "COMPILE_TIMEOUT");
    assert.equal(compilers.stats().timeouts, 1);
    const result = await compilers.compile(V28, input(COUNTER, { optimizer: { enabled: true, runs: 7 } }));
    assert.equal(result.from, "compiled");
  });

  it("compiles identical concurrent requests once", async () => {
    const before = compilers.stats().compiles;
    const results = await Promise.all([1, 2, 3].map(() => compilers.compile(V28, input(COUNTER, { optimizer: { enabled: false } }))));
    assert.equal(compilers.stats().compiles, before + 1);
    assert.deepEqual(results.map((r) => r.from).sort(), ["compiled", "shared", "shared"]);
    assert.equal(results[0]?.output, results[1]?.output);
  });

  it("warms a compiler", async () => {
    const warmed = await compilers.warm(V30);
    assert.equal(warmed.workers.length, 2, "every worker of the version's pool");
    for (const worker of warmed.workers) {
      assert.equal(worker.rounds.length, 1);
      assert.equal(typeof worker.loadMs, "number");
    }
    await rejectsWith(compilers.warm("0.8.30+commit.00000000"), "COMPILER_UNAVAILABLE", /different build/);
  });

  it("compiles an OpenZeppelin upgradeable token collected from node_modules", async () => {
    const files = fileResolver(root);
    const token = [
      "// SPDX-License-Identifier: MIT",
      "pragma solidity ^0.8.22;",
      'import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";',
      'import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";',
      'import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";',
      "contract Token is ERC20Upgradeable, OwnableUpgradeable, UUPSUpgradeable {",
      '    function initialize(address owner) external initializer { __ERC20_init("T", "T"); __Ownable_init(owner); }',
      "    function _authorizeUpgrade(address) internal override onlyOwner {}",
      "}",
    ].join("\n");
    const sources = collectSources("src/Token.sol", (name) => (name === "src/Token.sol" ? token : files(name)));
    assert.ok(sources["@openzeppelin/contracts-upgradeable/utils/ContextUpgradeable.sol"], "relative import resolved");
    assert.ok(sources["@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol"], "package import resolved");
    const { output } = await compilers.compile(
      V28,
      withVerificationOutputs({ language: "Solidity", sources, settings: { optimizer: { enabled: true, runs: 200 } } }),
    );
    const compiled = findContract(output, "src/Token.sol:Token");
    assert.ok(compiled?.evm?.deployedBytecode?.immutableReferences, "UUPS has the __self immutable");
    assert.ok(compiled.storageLayout);
    for (const path of Object.keys(sources)) assert.ok(output.sources[path]?.ast, `ast of ${path}`);
  });

  it("fails with COMPILER_CLOSED after close()", async () => {
    const closing = new SolcCompilers({ cacheDir: join(dir, "closing") });
    const pending = closing.compile(V28, input(COUNTER));
    await closing.close();
    await rejectsWith(pending, "COMPILER_CLOSED");
    await rejectsWith(closing.compile(V28, input(COUNTER)), "COMPILER_CLOSED");
  });

  it("compiles two inputs of one version at once, on two workers", async () => {
    const two = new SolcCompilers({ cacheDir: join(dir, "two") });
    try {
      const results = await Promise.all([COUNTER, "contract Other { function f() external pure returns (uint256) { return 1; } }"].map((body) => two.compile(V28, input(body))));
      assert.deepEqual(results.map((r) => r.from), ["compiled", "compiled"]);
      // The second request started the second worker instead of queueing behind the first.
      assert.equal(two.stats().workerStarts, 2);
      const after = await two.compile(V28, input(COUNTER, { optimizer: { enabled: false } }));
      assert.equal(after.from, "compiled");
      assert.equal(two.stats().workerStarts, 2, "an idle loaded worker is reused");
    } finally {
      await two.close();
    }
  });

  it("preloads every worker of a version without compiling", async () => {
    const preloading = new SolcCompilers({ cacheDir: join(dir, "preload") });
    try {
      await preloading.preload(V28);
      assert.equal(preloading.stats().workerStarts, 2);
      assert.equal(preloading.stats().compiles, 0);
      assert.equal(preloading.installed().find((c) => c.release === "0.8.28")?.version, V28);
      await preloading.preload(V28);
      assert.equal(preloading.stats().workerStarts, 2, "loaded workers are not started again");
      await rejectsWith(preloading.preload("0.8.99+commit.00000000"), "COMPILER_UNAVAILABLE");
    } finally {
      await preloading.close();
    }
  });

  it("keeps at most maxWorkers workers, evicting an idle one", async () => {
    const one = new SolcCompilers({ cacheDir: join(dir, "one"), maxWorkers: 1 });
    try {
      assert.equal(await one.fullVersion("0.8.24"), "0.8.24+commit.e11b9ed9");
      assert.equal(await one.fullVersion("0.8.26"), "0.8.26+commit.8a97fa7a");
      assert.equal(one.stats().workerEvictions, 1);
      assert.deepEqual(
        one.installed().filter((c) => c.running).map((c) => c.release),
        ["0.8.26"],
      );
    } finally {
      await one.close();
    }
  });
});

describe("withVerificationOutputs", () => {
  it("replaces the outputSelection and keeps every other setting", () => {
    const settings = {
      optimizer: { enabled: true, runs: 1 },
      evmVersion: "paris",
      viaIR: true,
      metadata: { bytecodeHash: "none" },
      libraries: { "src/L.sol": { L: "0x0000000000000000000000000000000000000001" } },
      remappings: ["a/=b/"],
      outputSelection: { "*": { "*": ["evm.assembly"] } },
    };
    const result = withVerificationOutputs({ language: "Solidity", sources: {}, settings });
    const { outputSelection, ...rest } = result.settings;
    const { outputSelection: _, ...original } = settings;
    assert.deepEqual(rest, original);
    assert.deepEqual(outputSelection, { "*": { "*": [...VERIFICATION_CONTRACT_OUTPUTS], "": ["ast"] } });
    assert.deepEqual(settings.outputSelection, { "*": { "*": ["evm.assembly"] } }, "input untouched");
  });
});

describe("collectSources", () => {
  it("finds import paths, skipping comments and strings", () => {
    const source = [
      'import "./A.sol";',
      "// import \"./Commented.sol\";",
      '/* import "./Block.sol"; */',
      "import {B, C as D} from '../B.sol';",
      'import * as E from "@x/E.sol";',
      'import "F.sol" as F;',
      'contract X { string s = "import \\"./Str.sol\\";"; }',
    ].join("\n");
    assert.deepEqual(findImports(source), ["./A.sol", "../B.sol", "@x/E.sol", "F.sol"]);
  });

  it("resolves import paths as solc does", () => {
    assert.equal(resolveImportPath("a/b/c.sol", "./d.sol"), "a/b/d.sol");
    assert.equal(resolveImportPath("a/b/c.sol", "../../../d.sol"), "d.sol");
    assert.equal(resolveImportPath("a/b/c.sol", "./../x/./d.sol"), "a/x/d.sol");
    assert.equal(resolveImportPath("c.sol", "./d.sol"), "d.sol");
    assert.equal(resolveImportPath("a/b/c.sol", "@oz/d.sol"), "@oz/d.sol");
    assert.equal(resolveImportPath("a/b/c.sol", "x/d.sol"), "x/d.sol", "not relative without ./");
  });

  it("follows imports transitively and sorts the result", () => {
    const files: Record<string, string> = {
      "src/A.sol": 'import "./lib/B.sol"; import "@dep/C.sol";',
      "src/lib/B.sol": 'import "../A.sol";',
      "@dep/C.sol": "contract C {}",
    };
    const sources = collectSources("src/A.sol", (name) => files[name]);
    assert.deepEqual(Object.keys(sources), ["@dep/C.sol", "src/A.sol", "src/lib/B.sol"]);
    assert.equal(sources["@dep/C.sol"]?.content, "contract C {}");
  });

  it("fails naming a missing import and its importer", () => {
    assert.throws(
      () => collectSources("src/A.sol", (name) => (name === "src/A.sol" ? 'import "./Missing.sol";' : undefined)),
      (error: unknown) => error instanceof SourceCollectionError && error.code === "SOURCE_NOT_FOUND" && /src\/Missing\.sol.*src\/A\.sol/.test(error.message),
    );
  });

  it("is bounded", () => {
    assert.throws(
      () => collectSources(["a.sol", "b.sol"], () => "contract X {}", { maxFiles: 1 }),
      (error: unknown) => error instanceof SourceCollectionError && error.code === "SOURCES_TOO_LARGE",
    );
  });

  it("reads files under the root and its node_modules, and nothing outside", () => {
    const files = fileResolver(root);
    assert.match(files("@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol") ?? "", /abstract contract UUPSUpgradeable/);
    assert.match(files("package.json") ?? "", /"sentinel"/);
    assert.equal(files("../etc/passwd"), undefined);
    assert.equal(files("/etc/passwd"), undefined);
  });
});
