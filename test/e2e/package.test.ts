// The package as a protocol team or a relayer gets it: `npm pack` (whose prepack builds dist/),
// the tarball installed with npm into a fresh project of its own, offline, from npm's cache
// (what `npm ci` filled): no registry, no link to this checkout. Then, from that project only:
//   (a) solc-js compiles a contract inheriting SentinelGuardedUUPS, imported as
//       "sentinel/contracts/guards/SentinelGuardedUUPS.sol", every import read from the
//       project's node_modules (as Hardhat resolves them);
//   (b) a TypeScript file, typechecked against the installed declarations and run with plain
//       `node`, imports sentinel/codec and sentinel/abi, decodes an attestation the repository's
//       committee signed and computes its verdict digest;
//   (c) with the installed client: a candidate submitted to a four-node devnet, its decision
//       awaited, its attestation fetched and verified offline against the set read from the
//       registry.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { encodeAttestation } from "../../src/codec/attestation.ts";
import { candidateId, parseSignedCandidate } from "../../src/codec/candidate.ts";
import { Outcome, verdictDigest } from "../../src/codec/types.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { randomVerdict } from "../../src/devnet/randomVerdict.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const repoRequire = createRequire(join(ROOT, "package.json"));
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

/** The client is written on another branch; (c) and the client's part of (b) wait for it. */
const CLIENT_MISSING = existsSync(join(ROOT, "src/client/index.ts"))
  ? false
  : "src/client/index.ts is not in this checkout yet (the client is written on the cli-client branch)";

/** Generous for a cold build and install on a loaded 2-core machine; about 20 s here. */
const STEP_TIMEOUT_MS = 180_000;

/**
 * Runs a command and returns its stdout; a failure shows its output. npm's own `npm_*` variables
 * (set when this runs under `npm test`) are dropped, so an npm started here takes nothing, the
 * prefix least of all, from the npm that started the tests.
 */
function run(command: string, args: readonly string[], cwd: string): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")));
  try {
    return execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}\n${stderr ?? ""}`, { cause: error });
  }
}

/**
 * `run` without blocking this process: what (c) needs, since the devnet's chains and nodes are
 * children of this process, whose output it must keep reading (a blocked parent fills their pipes
 * and stalls them).
 */
async function runAsync(command: string, args: readonly string[], cwd: string): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")));
  try {
    return (await promisify(execFile)(command, args, { cwd, env, encoding: "utf8", timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}\n${stderr ?? ""}`, { cause: error });
  }
}

/** Every file under `dir`, relative, with forward slashes. */
function filesUnder(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesUnder(dir, path) : [path];
  });
}

/** The packages a built file imports: "viem" of "viem/accounts", "@scope/name" of "@scope/name/x". */
function packagesImportedBy(source: string): string[] {
  const specifiers = [...source.matchAll(/(?:^|[\s;])(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|(?:^|[\s;(])import\s*\(?\s*["']([^"']+)["']/g)].map(
    (match) => match[1] ?? match[2]!,
  );
  return specifiers
    .filter((specifier) => !specifier.startsWith(".") && !specifier.startsWith("node:"))
    .map((specifier) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/"));
}

/**
 * The repository's TypeScript on one file of the project, strict, as a consumer's NodeNext
 * project would check it: every type it uses comes from the project's node_modules/sentinel.
 */
async function typecheck(project: string, file: string): Promise<void> {
  const compilerOptions = { target: "ES2023", lib: ["ES2023"], module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, types: [], skipLibCheck: true };
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, include: [file] }));
  await runAsync(process.execPath, [repoRequire.resolve("typescript/bin/tsc"), "-p", join(project, "tsconfig.json")], project);
}

interface LockEntry {
  version?: string | undefined;
  resolved?: string | undefined;
  integrity?: string | undefined;
  dependencies?: Record<string, string> | undefined;
  optionalDependencies?: Record<string, string> | undefined;
  [field: string]: unknown;
}

/**
 * A lockfile for the consumer project: the tarball, and every package it and the project's own
 * dependencies need, pinned to what this repository's package-lock.json pins. That is what
 * `npm ci` put in npm's cache (tarballs, by integrity; npm ci fetches no package metadata), so
 * `npm ci --offline` installs it without a registry. Entries keep their place in the lock's
 * tree: the tarball sits at node_modules/<name> as this repository's root sits at the top, so
 * its dependencies resolve where the root's do, and a dependency of the entry at P is the first
 * of P/node_modules/D, its parents' node_modules/D, …, node_modules/D.
 */
function consumerLock(
  projectManifest: { name: string; dependencies: Record<string, string> },
  tarball: { spec: string; integrity: string; manifest: LockEntry & { name: string } },
): object {
  const repoLock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const { name, version, dependencies, optionalDependencies, peerDependencies, peerDependenciesMeta, engines } = tarball.manifest;
  const packages: Record<string, LockEntry> = {
    "": { name: projectManifest.name, dependencies: projectManifest.dependencies },
    [`node_modules/${name}`]: { version, resolved: tarball.spec, integrity: tarball.integrity, dependencies, optionalDependencies, peerDependencies, peerDependenciesMeta, engines },
  };
  const locate = (from: string, dependency: string): string | undefined => {
    for (let at = from; ; at = at.includes("/node_modules/") ? at.slice(0, at.lastIndexOf("/node_modules/")) : "") {
      const path = at ? `${at}/node_modules/${dependency}` : `node_modules/${dependency}`;
      if (path in repoLock.packages) return path;
      if (!at) return undefined;
    }
  };
  // [where the dependent sits in this repository's lock ("" = the top), dependency]
  const queue: [string, string][] = Object.keys({ ...dependencies, ...optionalDependencies, ...projectManifest.dependencies })
    .filter((dependency) => dependency !== name)
    .map((dependency) => ["", dependency]);
  while (queue.length > 0) {
    const [from, dependency] = queue.shift()!;
    const path = locate(from, dependency);
    if (path === undefined) throw new Error(`${dependency} (needed by ${from || "the package"}) is not in package-lock.json`);
    if (path in packages) continue;
    // Dev flags describe this repository, not the project; a package optional here stays optional.
    const { dev: _dev, devOptional, peer: _peer, ...entry } = repoLock.packages[path]!;
    const registryName = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    const resolved = entry.resolved ?? `https://registry.npmjs.org/${registryName}/-/${registryName.split("/").at(-1)}-${entry.version}.tgz`;
    packages[path] = { ...entry, resolved, ...(devOptional === true ? { optional: true } : {}) };
    for (const next of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) queue.push([path, next]);
  }
  return { name: projectManifest.name, lockfileVersion: 3, requires: true, packages };
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { evm: { bytecode: { object: string } } }>>;
}

describe("the package, packed and installed into a fresh project", { timeout: 600_000 }, () => {
  let work: string;
  let project: string;
  let packed: string[];

  before(() => {
    work = mkdtempSync(join(tmpdir(), "sentinel-package-"));
    // npm pack runs prepack (build:contracts, then the build of dist/), so the tarball is fresh.
    const packOutput = run("npm", ["pack", "--json", "--pack-destination", work], ROOT);
    // Lifecycle scripts print before npm's own JSON, which starts on a line of its own.
    const report = JSON.parse(packOutput.slice(packOutput.search(/^\[/m))) as { filename: string; integrity: string; files: { path: string }[] }[];
    packed = report[0]!.files.map((file) => file.path).sort();
    const { filename, integrity } = report[0]!;

    project = join(work, "project");
    mkdirSync(project);
    // The project's own OpenZeppelin, as a Hardhat or Foundry project has; the package only names
    // it as an (optional) peer.
    const openZeppelin = Object.fromEntries(["@openzeppelin/contracts", "@openzeppelin/contracts-upgradeable"].map((name) => [name, manifest.devDependencies[name]!]));
    const projectManifest = { name: "a-protocol", version: "1.0.0", private: true, type: "module", dependencies: { [manifest.name]: `file:../${filename}`, ...openZeppelin } };
    writeFileSync(join(project, "package.json"), JSON.stringify(projectManifest, null, 2));
    const packedManifest = JSON.parse(run("tar", ["-xzOf", join(work, filename), "package/package.json"], work)) as LockEntry & { name: string };
    writeFileSync(
      join(project, "package-lock.json"),
      JSON.stringify(consumerLock(projectManifest, { spec: `file:../${filename}`, integrity, manifest: packedManifest }), null, 2),
    );
    // --offline: every package comes from npm's cache, or the install fails; nothing is linked
    // to this checkout.
    run("npm", ["ci", "--offline", "--no-audit", "--no-fund"], project);
  });
  after(() => {
    // KEEP_PACKAGE_TEST=1 keeps the tarball, the project and the devnet's logs to look at.
    if (work && !process.env["KEEP_PACKAGE_TEST"]) rmSync(work, { recursive: true, force: true });
  });

  it("ships the build, the Solidity of the guards, interfaces and libraries, and nothing of the node", () => {
    for (const path of [
      "dist/src/codec/index.js",
      "dist/src/codec/index.d.ts",
      "dist/src/abi/index.js",
      "dist/src/abi/index.d.ts",
      "contracts/guards/SentinelGuardedUUPS.sol",
      "contracts/guards/SentinelTimelockController.sol",
      "contracts/guards/SentinelSafeGuard.sol",
      "contracts/guards/UpgradeCalls.sol",
      "contracts/interfaces/ISentinelRegistry.sol",
      "contracts/lib/Attestation.sol",
    ]) {
      assert.ok(packed.includes(path), `${path} is missing from the tarball`);
    }
    if (!CLIENT_MISSING) assert.ok(packed.includes("dist/src/client/index.js") && packed.includes("dist/src/client/index.d.ts"), "the client is missing");
    const allowed = /^(?:package\.json|README\.md|dist\/.+\.(?:js|d\.ts)|contracts\/(?:guards|interfaces|lib)\/[^/]+\.sol)$/;
    assert.deepEqual(packed.filter((path) => !allowed.test(path)), [], "files a consumer has no use for");
    // The node's parts never ship (its gossip errors aside, which the attestation rules throw):
    // the next test sees to libp2p, level and solc, this one to the parts built on them.
    const nodeOnly = /^dist\/src\/(?:network\/(?!errors\.)|db\/|node\/|devnet\/|cli\/|verify\/)/;
    assert.deepEqual(packed.filter((path) => nodeOnly.test(path)), []);
  });

  it("installs with only what the built code imports, the node's dependencies left out", () => {
    const installed = join(project, "node_modules", "sentinel");
    assert.ok(existsSync(join(installed, "dist/src/codec/index.js")));
    const imported = new Set(
      filesUnder(join(installed, "dist"))
        .filter((path) => path.endsWith(".js"))
        .flatMap((path) => packagesImportedBy(readFileSync(join(installed, "dist", path), "utf8"))),
    );
    const got = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as typeof manifest;
    // Until the client is here nothing verifies BLS signatures; its verifyAttestationOffline will.
    const unusedYet = CLIENT_MISSING ? ["@chainsafe/blst"] : [];
    assert.deepEqual(
      Object.keys(got.dependencies).filter((name) => !imported.has(name)),
      unusedYet,
      "dependencies the package never imports: a consumer installs them for nothing (the node's own belong in devDependencies)",
    );
    assert.deepEqual([...imported].filter((name) => !(name in got.dependencies) && !(name in got.peerDependencies)), [], "imported but not declared");
    for (const nodeOnly of ["libp2p", "level", "solc", "pino", "@openzeppelin/upgrades-core"]) {
      assert.ok(!existsSync(join(project, "node_modules", nodeOnly)), `${nodeOnly} was installed into the project`);
    }
  });

  it("(a) compiles a contract that inherits SentinelGuardedUUPS, imported from node_modules", () => {
    const solc = repoRequire("solc") as { compile(input: string, callbacks: { import(path: string): { contents: string } | { error: string } }): string };
    const nodeModules = join(project, "node_modules");
    const compile = (content: string) => {
      const read: string[] = [];
      const importFromNodeModules = (path: string) => {
        const file = resolve(nodeModules, path);
        if (!file.startsWith(nodeModules + sep) || !existsSync(file)) return { error: `not in the project's node_modules: ${path}` };
        read.push(path);
        return { contents: readFileSync(file, "utf8") };
      };
      const input = {
        language: "Solidity",
        sources: { "src/MyVault.sol": { content } },
        settings: { outputSelection: { "src/MyVault.sol": { "*": ["evm.bytecode.object"] } } },
      };
      return { output: JSON.parse(solc.compile(JSON.stringify(input), { import: importFromNodeModules })) as SolcOutput, read };
    };

    const { output, read } = compile(`// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;
import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {SentinelGuardedUUPS} from "sentinel/contracts/guards/SentinelGuardedUUPS.sol";
import {SentinelTimelockController} from "sentinel/contracts/guards/SentinelTimelockController.sol";
import {ISentinelRegistry} from "sentinel/contracts/interfaces/ISentinelRegistry.sol";
import {Attestation} from "sentinel/contracts/lib/Attestation.sol";
import {BLS} from "sentinel/contracts/lib/BLS.sol";
import {ValidatorKeys} from "sentinel/contracts/lib/ValidatorKeys.sol";

contract MyVault is OwnableUpgradeable, SentinelGuardedUUPS {
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor(ISentinelRegistry registry) SentinelGuardedUUPS(registry) { _disableInitializers(); }
    function initialize(address owner) external initializer { __Ownable_init(owner); }
    function _authorizeUpgrader() internal view override onlyOwner {}
}

contract MyTimelock is SentinelTimelockController {
    constructor(ISentinelRegistry registry, address[] memory proposers, address[] memory executors)
        SentinelTimelockController(registry, 2 days, proposers, executors, address(0)) {}
}
`);
    const errors = (output.errors ?? []).filter((e) => e.severity === "error").map((e) => e.formattedMessage);
    assert.deepEqual(errors, []);
    assert.ok((output.contracts?.["src/MyVault.sol"]?.["MyVault"]?.evm.bytecode.object.length ?? 0) > 1000, "MyVault has no bytecode");
    assert.ok((output.contracts?.["src/MyVault.sol"]?.["MyTimelock"]?.evm.bytecode.object.length ?? 0) > 1000, "MyTimelock has no bytecode");
    assert.ok(read.includes("sentinel/contracts/interfaces/ISentinelRegistry.sol"), "the guard's own import was not resolved in the package");
    assert.deepEqual(read.filter((path) => !path.startsWith("sentinel/contracts/") && !path.startsWith("@openzeppelin/")), []);

    // What the package does not ship cannot be imported: the registry and the test contracts stay here.
    for (const unshipped of ["sentinel/contracts/test/GuardedVault.sol", "sentinel/contracts/SentinelRegistry.sol"]) {
      const refused = compile(`pragma solidity ^0.8.28;\nimport "${unshipped}";\n`);
      const messages = (refused.output.errors ?? []).filter((e) => e.severity === "error").map((e) => e.formattedMessage).join("\n");
      assert.match(messages, /not in the project's node_modules/, unshipped);
    }
  });

  it("(b) a consumer's TypeScript, typechecked against the installed declarations and run with plain node, decodes an attestation and computes its digest", async () => {
    const committee = LocalCommittee.generate(4, `0x${"5e".repeat(32)}`);
    const attestation = committee.attest(randomVerdict(), 0, [0, 1, 3]);
    const encoded = encodeAttestation(attestation);

    const clientPart = CLIENT_MISSING
      ? "const client = null;"
      : `import * as sentinel from "sentinel";
const client = { SentinelClient: typeof sentinel.SentinelClient, verifyAttestationOffline: typeof sentinel.verifyAttestationOffline, readValidatorSet: typeof sentinel.readValidatorSet, resolved: meta.resolve("sentinel") };`;
    writeFileSync(
      join(project, "consumer.ts"),
      `import { ATTESTATION_LENGTH, Outcome, decodeAttestation, encodeAttestation, verdictDigest, type Attestation, type Hex } from "sentinel/codec";
import { iSentinelRegistryAbi, sentinelGuardedUupsAbi, sentinelRegistryAbi } from "sentinel/abi";

declare const console: { log(line: string): void };
const meta = import.meta as ImportMeta & { resolve(specifier: string): string };
${clientPart}

const encoded: Hex = "${encoded}";
const attestation: Attestation = decodeAttestation(encoded);
const digest: Hex = verdictDigest(attestation.networkId, attestation.verdict);
// The declarations are types, not \`any\`: a number is no attestation.
// @ts-expect-error
const typed = () => decodeAttestation(42);
const verify = iSentinelRegistryAbi.find((item) => item.type === "function" && item.name === "verifyAttestation");
const guardError = sentinelGuardedUupsAbi.find((item) => item.type === "error" && item.name === "UpgradeNotApproved");
console.log(
  JSON.stringify({
    digest,
    candidateId: attestation.verdict.candidateId,
    approved: attestation.verdict.outcome === Outcome.Approve,
    signers: attestation.signers.toString(),
    roundTrip: encodeAttestation(attestation) === encoded,
    length: ATTESTATION_LENGTH,
    verifyInputs: verify?.type === "function" ? verify.inputs.map((input) => input.type) : null,
    guardError: guardError?.type === "error" ? guardError.inputs.map((input) => input.name) : null,
    registryFunctions: sentinelRegistryAbi.filter((item) => item.type === "function").length,
    typed: typeof typed,
    client,
    resolved: { codec: meta.resolve("sentinel/codec"), abi: meta.resolve("sentinel/abi") },
  }),
);
`,
    );
    await typecheck(project, "consumer.ts");
    const printed = JSON.parse(run(process.execPath, ["consumer.ts"], project).trim().split("\n").at(-1)!) as Record<string, unknown>;

    const installed = `file://${join(project, "node_modules", "sentinel")}/`;
    assert.deepEqual(printed, {
      digest: verdictDigest(attestation.networkId, attestation.verdict),
      candidateId: attestation.verdict.candidateId,
      approved: true,
      signers: attestation.signers.toString(),
      roundTrip: true,
      length: 554,
      verifyInputs: ["bytes"],
      guardError: ["implementation", "codehash"],
      registryFunctions: printed["registryFunctions"],
      typed: "function",
      client: CLIENT_MISSING
        ? null
        : { SentinelClient: "function", verifyAttestationOffline: "function", readValidatorSet: "function", resolved: `${installed}dist/src/client/index.js` },
      resolved: { codec: `${installed}dist/src/codec/index.js`, abi: `${installed}dist/src/abi/index.js` },
    });
    assert.ok((printed["registryFunctions"] as number) > 10);
  });

  it("(c) drives a four-node devnet through the installed client: submit, wait, attestation, offline verification", { skip: CLIENT_MISSING, timeout: 300_000 }, async () => {
    const { startDevnet, signCandidate, waitForDecision, codehashOf } = await import("../../src/devnet/devnet.ts");
    const devnet = await startDevnet({ nodes: 4, dir: join(work, "devnet") });
    try {
      const chain = devnet.chains[0]!;
      const body = await signCandidate(devnet, chain, chain.protocol.benign, 1n);
      const expectedId = candidateId(devnet.networkId, parseSignedCandidate(body).candidate);
      // The relayer's and the protocol's journey as a user writes it: typechecked against the
      // installed declarations, then run with plain node; the inputs are written into it.
      const input = { url: devnet.nodes[1]!.apiUrl, body, rpcUrl: chain.chain.rpcUrls.default.http[0], registry: chain.registry, chainId: chain.chainId };
      writeFileSync(
        join(project, "journey.ts"),
        `import { SentinelClient, readValidatorSet, verifyAttestationOffline } from "sentinel";
import type { Address, Hex } from "sentinel/codec";

declare const console: { log(line: string): void };
const input = ${JSON.stringify(input)} as { url: string; body: { candidate: unknown; signature: Hex; bundle: unknown }; rpcUrl: string; registry: Address; chainId: number };

const client = new SentinelClient({ url: input.url });
const { candidateId } = await client.submit(input.body);
const decision = await client.waitForDecision(candidateId, { timeoutMs: 120_000 });
const record = await client.attestation(candidateId);
if (!record) throw new Error("no attestation after the decision");
const encoded = record.encoded as Hex;
const set = await readValidatorSet({ rpcUrl: input.rpcUrl, registry: input.registry, chainId: input.chainId });
const verified = verifyAttestationOffline(encoded, { networkId: set.networkId, set });
// One flipped bit of the verdict (the first byte of its findings digest, offset 218) and it must not verify.
const at = 2 + 2 * 218;
const flipped = (parseInt(encoded.slice(at, at + 2), 16) ^ 1).toString(16).padStart(2, "0");
const refused = verifyAttestationOffline((encoded.slice(0, at) + flipped + encoded.slice(at + 2)) as Hex, { networkId: set.networkId, set });
const json = (value: unknown) => JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
console.log(json({ candidateId, decision, outcome: verified.verdict.outcome, valid: verified.valid, signers: verified.signers, tamperedValid: refused.valid }));
`,
      );
      await typecheck(project, "journey.ts");
      const printed = JSON.parse((await runAsync(process.execPath, ["journey.ts"], project)).trim().split("\n").at(-1)!) as {
        candidateId: string;
        outcome: number;
        valid: boolean;
        signers: number[];
        tamperedValid: boolean;
      };
      assert.equal(printed.candidateId, expectedId);
      assert.equal(printed.outcome, Outcome.Approve);
      assert.equal(printed.valid, true);
      assert.ok(printed.signers.length >= 3, `${printed.signers.length} signers, the threshold is 3`);
      assert.equal(printed.tamperedValid, false);
      // What the client reported is what the chains hold.
      const subject = { chainId: chain.chainId, target: chain.protocol.proxy, codehash: await codehashOf(chain, chain.protocol.benign) };
      assert.ok(await waitForDecision(devnet, subject, Outcome.Approve, 30_000), "not recorded as approved on every chain");
    } finally {
      await devnet.stop();
    }
  });
});
