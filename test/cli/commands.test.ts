// The CLI as a user meets it, in real processes run from a directory that is not the checkout:
// every command's --help on stdout with exit 0, usage errors with exit 2 and the fix, paths
// relative to the caller's directory (also under `npm run`, through INIT_CWD), and the checks
// that need no chain: policy validate listing every problem, bundle create refusing a contract
// its build-info does not hold.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { callerDir } from "../../src/cli/common.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "src/cli/sentinel.ts");
const dir = mkdtempSync(join(tmpdir(), "sentinel-cli-commands-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in its own process, in `cwd`, without an npm script's INIT_CWD unless given. */
function sentinel(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env = { ...process.env, ...options.env };
  if (!options.env?.["INIT_CWD"]) {
    delete env["INIT_CWD"];
    delete env["npm_lifecycle_event"];
  }
  return new Promise((resolveRun) => {
    execFile(process.execPath, [CLI, ...args], { cwd: options.cwd ?? dir, env, encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      resolveRun({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
    });
  });
}

async function each<T>(items: T[], run: (item: T) => Promise<void>, parallel = 2): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let i = next++; i < items.length; i = next++) await run(items[i]!);
  }));
}

const COMMANDS: [string[], RegExp][] = [
  [["node", "start"], /sentinel node start --config <file>/],
  [["keys", "generate"], /sentinel keys generate --network-id/],
  [["check"], /sentinel check <candidate\.json> --rpc <url>/],
  [["bundle", "create"], /sentinel bundle create --build-info <file>/],
  [["candidate", "create"], /sentinel candidate create --bundle <bundle\.json>/],
  [["policy", "hash"], /sentinel policy validate <policy\.json>/],
  [["policy", "validate"], /sentinel policy validate <policy\.json>/],
  [["registry", "deploy"], /sentinel registry deploy --rpc <url> --key-file/],
  [["enroll"], /sentinel enroll --rpc <url> --registry <address> --key-file/],
  [["submit"], /sentinel submit <candidate\.json> --node <url>/],
  [["status"], /sentinel status <candidateId \| candidate\.json> --node <url>/],
  [["approve"], /sentinel approve <candidateId \| candidate\.json> --node <url> --network-id <id> --key-file/],
  [["attestation"], /sentinel attestation <candidateId \| candidate\.json> --node <url>/],
  [["verify-attestation"], /sentinel verify-attestation <file \| 0x…hex> --rpc <url> --registry <address>/],
  [["upgrade"], /sentinel upgrade --rpc <url> --proxy <address>/],
  [["devnet"], /sentinel devnet \[--nodes <n>\]/],
  [["devnet", "deploy"], /sentinel devnet deploy --rpc <url>… --node-dir <dir>…/],
  [["validator", "propose"], /sentinel validator propose --config <node config> \(--add <key\.json> \| --remove <index>\)/],
  [["node", "signing-record", "export"], /sentinel node signing-record export --config <node config> --out/],
  [["keys", "import"], /sentinel keys import --keystore <EIP-2335 file>/],
];

describe("sentinel --help", () => {
  it("every command: its usage on stdout, exit 0, also with other (even wrong) arguments", async () => {
    await each(COMMANDS, async ([command, usage]) => {
      for (const args of [[...command, "--help"], [...command, "--bogus", "-h"]]) {
        const run = await sentinel(args);
        assert.equal(run.status, 0, `${args.join(" ")}: ${run.stderr}`);
        assert.match(run.stdout, usage, args.join(" "));
        assert.equal(run.stderr, "", args.join(" "));
      }
    });
  });

  it("sentinel --help lists every command and the exit codes; no command at all is a usage error", async () => {
    const help = await sentinel(["--help"]);
    assert.equal(help.status, 0);
    for (const [command] of COMMANDS) assert.ok(help.stdout.includes(`sentinel ${command[0]}`), command[0]);
    assert.match(help.stdout, /Exit codes: 0 approved \/ success, 1 refused \/ invalid, 2 usage or unreadable input, 3 timed out or unavailable/);
    const none = await sentinel([]);
    assert.equal(none.status, 2);
    const unknown = await sentinel(["frobnicate"]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});

describe("usage errors: exit 2, the fix and the usage on stderr", () => {
  it("each new command", async () => {
    const cases: [string[], RegExp][] = [
      [["submit"], /missing argument/],
      [["submit", "c.json"], /--node is required/],
      [["submit", "missing.json", "--node", "http://127.0.0.1:9"], /cannot read the candidate file missing\.json: ENOENT/],
      [["submit", "c.json", "--node", "http://x", "--frob"], /Unknown option '--frob'/],
      [["status", "0x1234", "--node", "http://127.0.0.1:9"], /is not a candidate id/],
      [["attestation", `0x${"ab".repeat(32)}`, "--node", "http://x", "--json", "--out", "f"], /give --json or --out, not both/],
      [["verify-attestation", "0x1234", "--registry", `0x${"11".repeat(20)}`], /--rpc is required/],
      [["verify-attestation", "0x1234", "--rpc", "http://127.0.0.1:9", "--registry", `0x${"11".repeat(20)}`], /not an attestation: attestation is 2 bytes, expected 554/],
      [["registry", "frob"], /unknown subcommand "frob"/],
      [["registry", "deploy", "--rpc", "http://127.0.0.1:9"], /--key-file is required/],
      [["enroll", "--rpc", "http://127.0.0.1:9", "--registry", "0x12"], /--registry must be a 20-byte hex address/],
      [["upgrade", "--rpc", "http://127.0.0.1:9", "--proxy", `0x${"11".repeat(20)}`, "--implementation", `0x${"22".repeat(20)}`, "--key-file", "nope.key"], /cannot read the owner key file nope\.key/],
      [["policy", "validate"], /missing argument/],
      [["devnet", "--frob"], /Unknown option '--frob'/],
      [["devnet", "deploy", "--node-dir", "n0"], /--rpc is required: at least one chain/],
      [["devnet", "deploy", "--rpc", "http://127.0.0.1:9", "--node-dir", "n0", "--compile-cache", "c"], /--out is required/],
      [["validator", "rotate"], /unknown subcommand "rotate"/],
      [["validator", "propose", "--add", "k.json"], /--config is required/],
      [["node", "signing-record", "export"], /--config is required/],
    ];
    await each(cases, async ([args, message]) => {
      const run = await sentinel(args);
      assert.equal(run.status, 2, `${args.join(" ")}: exit ${run.status}\n${run.stderr}`);
      assert.match(run.stderr, message, args.join(" "));
    });
  });

  it("a node nothing listens on: exit 3 (unavailable), not 1 or 2", async () => {
    writeFileSync(join(dir, "signed.json"), JSON.stringify({ candidate: {}, signature: `0x${"11".repeat(65)}` }));
    const run = await sentinel(["submit", "signed.json", "--node", "http://127.0.0.1:9"]);
    assert.equal(run.status, 3, run.stderr);
    assert.match(run.stderr, /cannot reach the node at http:\/\/127\.0\.0\.1:9/);
    const unsigned = join(dir, "unsigned.json");
    writeFileSync(unsigned, JSON.stringify({ candidate: {} }));
    const refused = await sentinel(["submit", "unsigned.json", "--node", "http://127.0.0.1:9"]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /is not signed: create it with `sentinel candidate create … --proposer-key-file/);
  });
});

describe("paths are the caller's", () => {
  const work = join(dir, "project");
  mkdirSync(join(work, "sub"), { recursive: true });
  writeFileSync(join(work, "sub", "policy.json"), JSON.stringify({ schema: "sentinel.policy/1", name: "p", version: 1 }));
  writeFileSync(
    join(work, "sub", "bad-policy.json"),
    JSON.stringify({ schema: "sentinel.policy/0", name: "", version: 0, bogus: 1, checks: { frob: "required", origin: "advisory" }, forbiddenOpcodes: ["JUMP"], invariants: [{ name: "a b", relation: "eq" }] }),
  );

  it("relative to the process's directory when run directly", async () => {
    const run = await sentinel(["policy", "validate", "sub/policy.json"], { cwd: work });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /sub\/policy\.json: valid; policyHash 0x[0-9a-f]{64}/);
  });

  it("relative to INIT_CWD under `npm run sentinel` (cwd = the package root), and only then", async () => {
    const run = await sentinel(["policy", "validate", "sub/policy.json"], { cwd: ROOT, env: { INIT_CWD: work, npm_lifecycle_event: "sentinel" } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(callerDir({ INIT_CWD: work, npm_lifecycle_event: "sentinel" }, ROOT), work);
    // A process an npm script started elsewhere inherits INIT_CWD: its own directory wins.
    assert.equal(callerDir({ INIT_CWD: work, npm_lifecycle_event: "test" }, "/somewhere/else"), "/somewhere/else");
    assert.equal(callerDir({ INIT_CWD: work }, resolve(ROOT)), resolve(ROOT));
    assert.equal(callerDir({ INIT_CWD: work, npm_lifecycle_event: "test" }, resolve(ROOT)), resolve(ROOT));
  });

  it("policy validate lists every problem, not the first: exit 1", async () => {
    const run = await sentinel(["policy", "validate", "sub/bad-policy.json"], { cwd: work });
    assert.equal(run.status, 1, run.stderr);
    for (const field of [
      "policy.schema",
      "policy.name",
      "policy.version",
      "policy.bogus",
      "policy.checks.frob",
      "policy.checks.origin",
      "policy.forbiddenOpcodes[0]",
      "policy.invariants[0].name",
      "policy.invariants[0].function",
      "policy.invariants[0].value",
    ]) {
      assert.ok(run.stderr.includes(`  ${field}: `), `${field} in:\n${run.stderr}`);
    }
    assert.match(run.stderr, /sub\/bad-policy\.json: 10 problems/);
  });

  it("bundle create: a contract its build-info does not hold is refused (exit 2), nothing written; the output lands in the caller's directory", async () => {
    const info = {
      solcLongVersion: "0.8.28+commit.7893614a",
      input: { language: "Solidity", sources: { "A.sol": { content: "pragma solidity ^0.8.0;\ncontract A {}\ncontract B is A {}\n" } }, settings: {} },
    };
    writeFileSync(join(work, "sub", "build-info.json"), JSON.stringify(info));
    const missing = await sentinel(["bundle", "create", "--build-info", "sub/build-info.json", "--contract", "A.sol:C", "--reference", "A.sol:A", "--out", "bundle.json"], { cwd: work });
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /--contract A\.sol:C: A\.sol in sub\/build-info\.json has no contract C \(it has A, B\)/);
    const noFile = await sentinel(["bundle", "create", "--build-info", "sub/build-info.json", "--contract", "A.sol:B", "--reference", "Z.sol:A", "--out", "bundle.json"], { cwd: work });
    assert.equal(noFile.status, 2);
    assert.match(noFile.stderr, /--reference Z\.sol:A: sub\/build-info\.json has no source Z\.sol \(it has A\.sol\)/);
    assert.equal(existsSync(join(work, "bundle.json")), false);
    const made = await sentinel(["bundle", "create", "--build-info", "sub/build-info.json", "--contract", "A.sol:B", "--reference", "A.sol:A", "--out", "bundle.json"], { cwd: work });
    assert.equal(made.status, 0, made.stderr);
    assert.equal(existsSync(join(work, "bundle.json")), true);
  });
});
