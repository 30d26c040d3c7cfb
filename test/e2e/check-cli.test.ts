// `sentinel check`, `sentinel policy hash` and `sentinel bundle create` as a protocol team runs them:
// the real CLI in a subprocess, against upgrades deployed on a real anvil chain from the corpus.
// Each accepted run has its refused twins next to it: exit 2 and a message naming what to fix.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { encodeFunctionData, getAddress, keccak256, parseAbiItem, stringToHex, type Hex } from "viem";
import { bundleHash, encodeBundle, parseBundle, type SourceBundle } from "../../src/codec/bundle.ts";
import { candidateId, parseSignedCandidate, recoverProposer, signedCandidateToJson, type Candidate } from "../../src/codec/candidate.ts";
import { privateKeyToAccount } from "viem/accounts";
import { prepareUpgrade, readUpgradeCase, type PreparedUpgrade } from "../../src/devnet/upgradeFixture.ts";
import { findingsDigest, type Finding } from "../../src/verify/pipeline.ts";
import { CHECK_NAMES, DEFAULT_POLICY, parsePolicy, policyHash } from "../../src/codec/policy.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";
import { TEST_COMPILE_CACHE, testCompiler } from "../helpers/compiler.ts";

const CLI = fileURLToPath(new URL("../../src/cli/sentinel.ts", import.meta.url));
const CORPUS = fileURLToPath(new URL("../fixtures/corpus", import.meta.url));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in its own process (asynchronous, so independent runs overlap). */
function sentinel(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs the CLI for each argument list, a few at a time (each process loads the whole CLI). */
async function sentinelEach(argLists: string[][], parallel = 3): Promise<Run[]> {
  const runs: Run[] = new Array(argLists.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < argLists.length; i = next++) runs[i] = await sentinel(...argLists[i]!);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return runs;
}

/** The body a proposer would POST, without a signature: a dry run. */
function candidateBody(candidate: Candidate, bundle?: SourceBundle, drop: string[] = []): Record<string, unknown> {
  const json: Record<string, string> = { ...signedCandidateToJson({ candidate, signature: "0x" }).candidate };
  for (const field of drop) delete json[field];
  return bundle ? { candidate: json, bundle } : { candidate: json };
}

interface JsonReport {
  outcome: "approve" | "reject";
  reasons: string[];
  reasonBitmap: string;
  findingsDigest: Hex;
  codehash: Hex;
  candidateId: Hex;
  candidate: { chainId: string; target: string; implementation: string; blockNumber: string };
  proposer: string | null;
  policy: { name: string; version: number; hash: Hex };
  findings: Finding[];
  timingsMs: Record<string, number>;
}

describe("sentinel check, policy hash and bundle create, on a real chain", { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "sentinel-check-cli-"));
  const compiler = testCompiler();
  let chain: TestChain;
  let approve: PreparedUpgrade;
  let selfdestruct: PreparedUpgrade;
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
    return path;
  };
  // The corpus's proxies are not enrolled anywhere: these runs say so explicitly (check fails closed).
  const check = (...args: string[]) => sentinel("check", ...args, "--rpc", chain.anvil.rpcUrl, "--cache-dir", TEST_COMPILE_CACHE, "--skip-enrollment");

  before(async () => {
    chain = await startTestChain();
    const prepare = (name: string) => prepareUpgrade({ dir: join(CORPUS, name), upgrade: readUpgradeCase(join(CORPUS, name)), chain, compiler });
    approve = await prepare("approve-new-function");
    selfdestruct = await prepare("oz-selfdestruct");
  });
  after(async () => {
    await compiler.close();
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("sentinel check", () => {
    it("an approvable upgrade: exit 0, APPROVE, every check reported; --json says the same, digest recomputable", async () => {
      const path = file("approve.json", candidateBody(approve.candidate, approve.bundle));
      const [text, json] = await Promise.all([check(path), check(path, "--json")]);

      assert.equal(text.status, 0, `${text.stdout}\n${text.stderr}`);
      assert.match(text.stdout, /^APPROVE$/m);
      assert.doesNotMatch(text.stdout, /REJECT|FAIL/);
      for (const name of CHECK_NAMES) assert.match(text.stdout, new RegExp(`^${name}( \\(\\d+ ms\\))?$`, "m"), `no section for ${name}`);
      assert.match(text.stdout, /proposer not given \(dry run\)/);
      assert.match(text.stdout, /not checked: a dry run without a registry and a proposer/);
      assert.match(text.stdout, /enrollment NOT checked \(--skip-enrollment\)/);
      assert.ok(text.stdout.includes(`proxy ${getAddress(approve.candidate.target)} on chain 31337 at block ${approve.candidate.blockNumber}`), text.stdout);

      assert.equal(json.status, 0, json.stderr);
      const report = JSON.parse(json.stdout) as JsonReport;
      assert.equal(report.outcome, "approve");
      assert.deepEqual(report.reasons, []);
      assert.equal(report.reasonBitmap, "0x0");
      assert.equal(report.proposer, null);
      assert.equal(report.candidateId, null, "no candidate id without --network-id");
      assert.equal(report.candidate.target, getAddress(approve.candidate.target));
      assert.equal(report.candidate.implementation, getAddress(approve.candidate.implementation));
      assert.equal(report.candidate.blockNumber, approve.candidate.blockNumber.toString());
      assert.equal(report.policy.hash, approve.candidate.policyHash);
      assert.deepEqual([...new Set(report.findings.map((f) => f.check))].sort(), [...CHECK_NAMES].sort());
      assert.ok(report.findings.every((f) => f.severity === "info"), JSON.stringify(report.findings.filter((f) => f.severity !== "info")));
      // The digest a node would sign is the one of the findings printed.
      assert.equal(report.findingsDigest, findingsDigest(report.findings));
      const code = await chain.client.getCode({ address: approve.candidate.implementation });
      assert.equal(report.codehash, keccak256(code!));
      // Text and JSON runs of the same candidate found the same things.
      assert.ok(text.stdout.includes(`findings digest ${report.findingsDigest}`), "the two runs disagree");
    });

    it("a selfdestructing upgrade (bundle given by --bundle): exit 1, REJECT with both reasons and the evidence", async () => {
      const candidatePath = file("selfdestruct.json", candidateBody(selfdestruct.candidate));
      const bundlePath = file("selfdestruct.bundle.json", selfdestruct.bundle);
      const run = await check(candidatePath, "--bundle", bundlePath);
      assert.equal(run.status, 1, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /^REJECT: SELFDESTRUCT_REACHABLE, OZ_SELFDESTRUCT$/m);
      assert.match(run.stdout, /^ {2}FAIL SELFDESTRUCT reachable at pc \d+ \[SELFDESTRUCT_REACHABLE\]$/m);
      assert.match(run.stdout, /^ {9}opcode: SELFDESTRUCT$/m);
      assert.match(run.stdout, /^ {9}pc: \d+$/m);
      assert.match(run.stdout, /^ {2}FAIL .*\[OZ_SELFDESTRUCT\]$/m);
      assert.match(run.stdout, /^reason bitmap 0x41000, findings digest 0x[0-9a-f]{64}, codehash 0x[0-9a-f]{64}$/m);
    });

    it("a forged sourceHash is still run, and the source check rejects it: SOURCE_UNAVAILABLE alone", async () => {
      const forged = { ...approve.candidate, sourceHash: keccak256(stringToHex("another bundle")) };
      // Without blockNumber, the chain's latest block is used.
      const path = file("forged.json", candidateBody(forged, approve.bundle, ["blockNumber"]));
      const latest = await chain.client.getBlockNumber({ cacheTime: 0 });
      const run = await check(path, "--json");
      assert.equal(run.status, 1, run.stderr);
      const report = JSON.parse(run.stdout) as JsonReport;
      assert.equal(report.outcome, "reject");
      assert.deepEqual(report.reasons, ["SOURCE_UNAVAILABLE"]);
      const source = report.findings.filter((f) => f.check === "source");
      assert.deepEqual(source, [
        {
          check: "source",
          code: "SOURCE_UNAVAILABLE",
          severity: "reject",
          message: "the bundle does not hash to candidate.sourceHash",
          evidence: { sourceHash: forged.sourceHash, bundleHash: bundleHash(approve.bundle) },
        },
      ]);
      assert.equal(report.candidate.blockNumber, latest.toString());
    });

    it("bad usage or unreadable input: exit 2 with a message naming what to fix", async () => {
      const good = candidateBody(approve.candidate, approve.bundle);
      const goodPath = file("good.json", good);
      const rpc = chain.anvil.rpcUrl;
      const badBundle = structuredClone(good) as { bundle: { implementation: { contract: string } } };
      badBundle.bundle.implementation.contract = "VaultV2";
      const badTarget = structuredClone(good) as { candidate: Record<string, string> };
      badTarget.candidate["target"] = "0x1234";
      const truncated = JSON.stringify(good).slice(0, 200);
      const cases: [string, string[], RegExp][] = [
        ["no file", ["check", "--rpc", rpc], /give exactly one candidate file/],
        ["missing --rpc", ["check", goodPath], /--rpc <url> is required/],
        ["bad --registry", ["check", goodPath, "--rpc", rpc, "--registry", "0x1234"], /--registry must be a 20-byte hex address/],
        ["a zero --network-id", ["check", goodPath, "--rpc", rpc, "--network-id", `0x${"0".repeat(64)}`], /--network-id must be 0x followed by 64 hex digits/],
        ["a missing file", ["check", join(dir, "nope.json"), "--rpc", rpc], /cannot read the candidate file .*nope\.json/],
        ["a truncated JSON file", ["check", file("truncated.json", truncated), "--rpc", rpc], /the candidate file .* is not JSON/],
        ["JSON null", ["check", file("null.json", "null"), "--rpc", rpc], /must hold a JSON object/],
        ["no bundle", ["check", file("nobundle.json", { candidate: good["candidate"] }), "--rpc", rpc], /no source bundle/],
        ["a bad bundle", ["check", file("badbundle.json", badBundle), "--rpc", rpc], /bundle: implementation\.contract: must be a fully qualified name/],
        ["a bad candidate field", ["check", file("badtarget.json", badTarget), "--rpc", rpc], /candidate: candidate\.target: must be a 20-byte hex address/],
        ["a candidate for another chain", ["check", file("chain1.json", candidateBody({ ...approve.candidate, chainId: 1n }, approve.bundle)), "--rpc", rpc], /--rpc serves chain 31337, but the candidate is for chain 1\b/],
        ["an --rpc nothing listens on", ["check", goodPath, "--rpc", "http://127.0.0.1:9"], /cannot read the chain id from --rpc http:\/\/127\.0\.0\.1:9/],
        // Fails closed: enrollment cannot be checked in these modes, so the run is refused, not passed.
        ["no --registry", ["check", goodPath, "--rpc", rpc], /the enrollment check cannot run without --registry <address>.*pass --skip-enrollment/],
        ["--registry but no proposer", ["check", goodPath, "--rpc", rpc, "--registry", "0x000000000000000000000000000000000000dEaD"], /cannot run without the proposer: --proposer <address> \(the candidate is unsigned\)/],
      ];
      const runs = await sentinelEach(cases.map(([, args]) => args));
      for (const [i, [what, , message]] of cases.entries()) {
        const run = runs[i]!;
        assert.equal(run.status, 2, `${what}: exit ${run.status}\n${run.stderr}`);
        assert.match(run.stderr, message, `${what}:\n${run.stderr}`);
        assert.match(run.stderr, /^sentinel check: /m, what);
        assert.equal(run.stdout, "", `${what}: nothing on stdout`);
      }
    });
  });

  describe("sentinel policy hash", () => {
    it("prints policyHash() of the parsed policy, however the file is formatted; refuses a bad one with its path", async () => {
      const policy = {
        invariants: [{ relation: "gte", function: "function totalDeposits() view returns (uint256)", name: "deposits" }],
        forbiddenOpcodes: ["SELFDESTRUCT", "CALLCODE", "SELFDESTRUCT"],
        checks: { "shadow-deployment": "advisory" },
        version: 2,
        name: "acme-vault",
        schema: "sentinel.policy/1",
      };
      const [pretty, minimal, invalid, notJson] = await sentinelEach([
        ["policy", "hash", file("policy.json", `\n\n${JSON.stringify(policy, null, 8)}\n`)],
        ["policy", "hash", file("minimal-policy.json", { schema: "sentinel.policy/1", name: "sentinel-default", version: 1 })],
        ["policy", "hash", file("bad-policy.json", { ...policy, checks: { origin: "advisory" } })],
        ["policy", "hash", file("policy.txt", "schema = 1")],
      ]);
      assert.ok(pretty && minimal && invalid && notJson);
      assert.equal(pretty.status, 0, pretty.stderr);
      const printed = JSON.parse(pretty.stdout) as { policyHash: Hex; policy: unknown };
      assert.equal(printed.policyHash, policyHash(parsePolicy(policy)));
      assert.deepEqual(printed.policy, parsePolicy(policy));
      assert.deepEqual((printed.policy as { forbiddenOpcodes: string[] }).forbiddenOpcodes, ["CALLCODE", "SELFDESTRUCT"]);

      assert.equal(minimal.status, 0, minimal.stderr);
      assert.equal((JSON.parse(minimal.stdout) as { policyHash: Hex }).policyHash, policyHash(DEFAULT_POLICY), "the default policy's hash is what to enroll for it");

      assert.equal(invalid.status, 2);
      assert.match(invalid.stderr, /sentinel policy: policy\.checks\.origin: cannot be advisory/);
      assert.equal(invalid.stdout, "");
      assert.equal(notJson.status, 2);
      assert.match(notJson.stderr, /cannot read .*policy\.txt/);
    });
  });

  describe("sentinel bundle create", () => {
    /** A Hardhat build-info: the exact compiler and the standard-JSON input of the corpus upgrade. */
    const buildInfo = (bundle: SourceBundle, extra: Record<string, unknown> = {}) => ({
      _format: "hh-sol-build-info-1",
      id: "0123456789abcdef",
      solcVersion: bundle.implementation.compiler.split("+")[0],
      solcLongVersion: bundle.implementation.compiler,
      input: bundle.implementation.input,
      output: { contracts: {}, sources: {} },
      ...extra,
    });

    it("from a Hardhat build-info: the very bundle the corpus fixture built, its sourceHash printed", async () => {
      const info = file("build-info.json", buildInfo(approve.bundle));
      const out = join(dir, "created.bundle.json");
      const [toFile, toStdout] = await Promise.all([
        sentinel("bundle", "create", "--build-info", info, "--contract", "V2.sol:VaultV2", "--reference", "shared/VaultV1.sol:VaultV1", "--out", out),
        sentinel("bundle", "create", "--build-info", info, "--contract", "V2.sol:VaultV2", "--reference", "shared/VaultV1.sol:VaultV1"),
      ]);
      assert.equal(toFile.status, 0, toFile.stderr);
      const written = readFileSync(out, "utf8");
      const parsed = parseBundle(JSON.parse(written));
      const summary = JSON.parse(toFile.stdout) as { sourceHash: Hex; policyHash: Hex; bytes: number };
      assert.equal(summary.sourceHash, bundleHash(parsed));
      assert.equal(summary.sourceHash, approve.candidate.sourceHash, "the CLI and the fixture build the same bundle");
      assert.equal(summary.policyHash, policyHash(DEFAULT_POLICY));
      assert.equal(summary.bytes, written.length);
      assert.equal(written, new TextDecoder().decode(encodeBundle(parsed)), "written in canonical form");

      assert.equal(toStdout.status, 0, toStdout.stderr);
      assert.equal(toStdout.stdout, `${written}\n`);
      assert.ok(toStdout.stderr.includes(toFile.stdout.trim()), "the summary goes to stderr when the bundle goes to stdout");
    });

    it("strips solc-js's .Emscripten.clang suffix, encodes --initializer, takes --policy and --reference-build-info", async () => {
      const emscripten = file("build-info-emscripten.json", buildInfo(approve.bundle, { solcLongVersion: `${approve.bundle.implementation.compiler}.Emscripten.clang` }));
      const reference = file("build-info-ref.json", buildInfo(selfdestruct.bundle));
      const policyFile = file("create-policy.json", { schema: "sentinel.policy/1", name: "acme", version: 9, allowSelectorRemoval: true });
      const out = join(dir, "init.bundle.json");
      const run = await sentinel(
        "bundle", "create", "--build-info", emscripten, "--contract", "V2.sol:VaultV2", "--reference", "shared/VaultV1.sol:VaultV1",
        "--reference-build-info", reference, "--initializer", "function setDepositCap(uint256 cap)", "--args", '["100"]', "--policy", policyFile, "--out", out,
      );
      assert.equal(run.status, 0, run.stderr);
      const bundle = parseBundle(JSON.parse(readFileSync(out, "utf8")));
      assert.equal(bundle.implementation.compiler, approve.bundle.implementation.compiler);
      assert.equal(bundle.upgradeCall, encodeFunctionData({ abi: [parseAbiItem("function setDepositCap(uint256 cap)")], functionName: "setDepositCap", args: [100n] }));
      assert.equal(bundle.policy.name, "acme");
      assert.equal(bundle.policy.allowSelectorRemoval, true);
      assert.deepEqual(bundle.reference.input, selfdestruct.bundle.implementation.input);
      assert.equal(bundle.reference.compiler, selfdestruct.bundle.implementation.compiler);
      const summary = JSON.parse(run.stdout) as { sourceHash: Hex; policyHash: Hex };
      assert.equal(summary.sourceHash, bundleHash(bundle));
      assert.equal(summary.policyHash, policyHash(bundle.policy));
    });

    it("refuses bad input with exit 2, naming what to fix, and writes nothing", async () => {
      const info = join(dir, "build-info.json");
      writeFileSync(info, JSON.stringify(buildInfo(approve.bundle)));
      const foundryShort = file("foundry-short.json", { ...buildInfo(approve.bundle), solcLongVersion: undefined, solcVersion: "0.8.28" });
      const noInput = file("no-input.json", { solcLongVersion: approve.bundle.implementation.compiler });
      const urls = file("urls.json", buildInfo(approve.bundle, { input: { language: "Solidity", sources: { "V2.sol": { urls: ["https://x/V2.sol"] } }, settings: {} } }));
      const out = join(dir, "never.bundle.json");
      const base = ["bundle", "create", "--build-info", info, "--contract", "V2.sol:VaultV2", "--reference", "shared/VaultV1.sol:VaultV1", "--out", out];
      const cases: [string, string[], RegExp][] = [
        ["no --contract", ["bundle", "create", "--build-info", info, "--reference", "shared/VaultV1.sol:VaultV1", "--out", out], /--build-info, --contract and --reference are required/],
        ["a build-info with only a short solc version", ["bundle", "create", "--build-info", foundryShort, "--contract", "V2.sol:VaultV2", "--reference", "shared/VaultV1.sol:VaultV1", "--out", out], /no full solc version/],
        ["a build-info without input", ["bundle", "create", "--build-info", noInput, "--contract", "V2.sol:VaultV2", "--reference", "shared/VaultV1.sol:VaultV1", "--out", out], /no standard-JSON "input"/],
        ["a source given by urls", ["bundle", "create", "--build-info", urls, "--contract", "V2.sol:VaultV2", "--reference", "shared/VaultV1.sol:VaultV1", "--out", out], /implementation\.input\.sources\[V2\.sol\]\.content: must be the file's text/],
        ["a contract without its source file", [...base.slice(0, 4), "--contract", "VaultV2", "--reference", "shared/VaultV1.sol:VaultV1", "--out", out], /implementation\.contract: must be a fully qualified name/],
        ["an odd-length --upgrade-call", [...base, "--upgrade-call", "0xabc"], /upgradeCall: must be 0x-prefixed hex of whole bytes/],
        ["a bad policy", [...base, "--policy", file("v0-policy.json", { schema: "sentinel.policy/1", name: "x", version: 0 })], /policy\.version: must be an integer ≥ 1/],
      ];
      const runs = await sentinelEach(cases.map(([, args]) => args));
      for (const [i, [what, , message]] of cases.entries()) {
        const run = runs[i]!;
        assert.equal(run.status, 2, `${what}: exit ${run.status}\n${run.stderr}`);
        assert.match(run.stderr, message, `${what}:\n${run.stderr}`);
        assert.equal(run.stdout, "", what);
      }
      assert.equal(existsSync(out), false, "a refused bundle is not written");
      const usage = await sentinel("bundle", "frobnicate");
      assert.equal(usage.status, 2);
      assert.match(usage.stderr, /sentinel bundle create --build-info <file>/);
    });
  });

  describe("sentinel candidate create", () => {
    it("fills the candidate from the chain and the bundle, signs it for a network, and check recovers the proposer", async () => {
      const networkId = keccak256(stringToHex("candidate-create"));
      const key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
      const bundlePath = file("create-bundle.json", approve.bundle);
      const keyPath = file("proposer.key", `${key}\n`);
      const out = join(dir, "created.json");
      const created = await sentinel(
        "candidate", "create", "--bundle", bundlePath, "--rpc", chain.anvil.rpcUrl,
        "--target", approve.candidate.target, "--implementation", approve.candidate.implementation,
        "--proposer-key-file", keyPath, "--network-id", networkId, "--lifetime", "3600", "--out", out,
      );
      assert.equal(created.status, 0, created.stderr);
      const body = JSON.parse(readFileSync(out, "utf8")) as { candidate: Record<string, string>; signature: Hex; bundle: unknown };
      const signed = parseSignedCandidate(body);
      assert.equal(signed.candidate.chainId, 31337n);
      assert.equal(signed.candidate.sourceHash, bundleHash(approve.bundle));
      assert.equal(signed.candidate.policyHash, policyHash(approve.bundle.policy));
      assert.equal(signed.candidate.expiresAt - signed.candidate.createdAt, 3600n);
      assert.ok(signed.candidate.blockNumber >= approve.candidate.blockNumber);
      assert.equal(await recoverProposer(networkId, signed), privateKeyToAccount(key).address);
      assert.deepEqual(parseBundle(body.bundle), approve.bundle);

      const json = await check(out, "--network-id", networkId, "--json");
      assert.equal(json.status, 0, json.stderr);
      const report = JSON.parse(json.stdout) as JsonReport;
      assert.equal(report.outcome, "approve");
      assert.equal(report.proposer, privateKeyToAccount(key).address);
      assert.equal(report.candidateId, candidateId(networkId, signed.candidate));
    });

    it("refuses what nodes would refuse: exit 2 and the flag to fix", async () => {
      const bundlePath = file("create-bundle-2.json", approve.bundle);
      const base = ["candidate", "create", "--bundle", bundlePath, "--rpc", chain.anvil.rpcUrl, "--target", approve.candidate.target, "--implementation", approve.candidate.implementation];
      const cases: [RegExp, string[]][] = [
        [/--bundle, --rpc, --target and --implementation are required/, ["candidate", "create", "--rpc", chain.anvil.rpcUrl]],
        [/--network-id is required to sign/, [...base, "--proposer-key-file", file("k.key", "0x" + "11".repeat(32))]],
        [/proposer key file .* must hold one 0x-prefixed 32-byte hex key/, [...base, "--proposer-key-file", file("bad.key", "nope"), "--network-id", keccak256(stringToHex("n"))]],
        [/--lifetime must be in/, [...base, "--lifetime", String(31 * 86_400)]],
        [/--target must be a 20-byte hex address/, ["candidate", "create", "--bundle", bundlePath, "--rpc", chain.anvil.rpcUrl, "--target", "0x12", "--implementation", approve.candidate.implementation]],
        [/cannot read the chain at --rpc/, ["candidate", "create", "--bundle", bundlePath, "--rpc", "http://127.0.0.1:9", "--target", approve.candidate.target, "--implementation", approve.candidate.implementation]],
      ];
      const runs = await sentinelEach(cases.map(([, args]) => args));
      for (const [i, [pattern]] of cases.entries()) {
        assert.equal(runs[i]!.status, 2, `${cases[i]![1].join(" ")}: ${runs[i]!.stderr}`);
        assert.match(runs[i]!.stderr, pattern);
      }
    });
  });
});
