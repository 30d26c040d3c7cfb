// The shadow deployment and proxy-safety checks on real anvil chains: a target chain with real
// OpenZeppelin proxies, forked at a pinned block by runShadowDeployment. The corpus fixtures of
// test/fixtures/corpus are deployed as corpus.test.ts deploys them (prepareUpgrade) and run through
// these two checks only (the whole pipeline runs them in corpus.test.ts).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  keccak256,
  parseAbi,
  stringToHex,
  toFunctionSelector,
  type Abi,
  type AbiFunction,
  type Address,
  type Hex,
} from "viem";
import { GasProbe, PlainUUPSVault, SentinelTestERC1967Proxy, SentinelTestTransparentProxy } from "../../../artifacts/contracts.ts";
import { connectChain } from "../../../src/chains/clients.ts";
import { ANVIL_DEV_KEYS } from "../../../src/devnet/accounts.ts";
import { startAnvil, type AnvilInstance, type AnvilOptions } from "../../../src/verify/shadow/index.ts";
import { prepareUpgrade, readUpgradeCase } from "../../../src/devnet/upgradeFixture.ts";
import { findingsDigest, type Finding } from "../../../src/verify/pipeline.ts";
import { DEFAULT_POLICY, type Invariant } from "../../../src/codec/policy.ts";
import {
  ERC1967_IMPLEMENTATION_SLOT,
  INITIALIZABLE_V5_SLOT,
  initializableState,
  push4Constants,
  selectorConstants,
  transparentSelectorClash,
} from "../../../src/verify/shadow/index.ts";
import type { ReasonCode } from "../../../src/verify/reasons.ts";
import {
  decodeRevert,
  runShadowDeployment,
  ShadowDeploymentError,
  shadowFailureFindings,
  shadowFindings,
  stateDiffDigest,
  type ShadowParams,
  type ShadowReport,
} from "../../../src/verify/shadow/index.ts";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";
import { testCompiler } from "../../helpers/compiler.ts";
import { CORPUS_DIR, corpusCases } from "../../helpers/corpus.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const require = createRequire(import.meta.url);

/** Every code these two checks can give: a corpus label's other codes come from other checks. */
const SHADOW_CODES: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  "UPGRADE_REVERTED",
  "INVARIANT_VIOLATED",
  "NOT_UPGRADEABLE_AFTER",
  "POLICY_INVALID",
  "UUPS_PROXIABLE_MISSING",
  "IMPLEMENTATION_INITIALIZABLE",
  "ADMIN_CHANGED",
  "TRANSPARENT_SELECTOR_CLASH",
  "AUTHORITY_WEAKENED",
]);
const TIMEOUT_MS = 60_000;
/** Forks started as a caller without an owner starts them: each run stops its own. */
const FORKS = { startAnvil };
/** The corpus cases written for these checks; SHADOW_CORPUS=all runs every case (false-alarm hunt). */
const SHADOW_FIXTURES = [
  "admin-takeover",
  "bytecode-mismatch",
  "implementation-initializable",
  "nomad-zero-root",
  "transparent-benign",
  "uups-bricked",
  "approve-token-transparent-v4",
  "authority-uups-unguarded",
  "authority-transparent-v4-owner-open",
];

describe("shadow deployment", () => {
  let chain: TestChain;
  let owner: Address;
  let ownerWallet: ReturnType<typeof connectChain>["wallet"];

  before(async () => {
    chain = await startTestChain();
    const clients = connectChain(chain.chain.id, chain.anvil.rpcUrl, ANVIL_DEV_KEYS[3]!);
    ownerWallet = clients.wallet;
    owner = ownerWallet.account.address;
  });
  after(() => chain?.stop());

  const deploy = async (artifact: { abi: Abi; bytecode: Hex }, args: readonly unknown[] = []) => getAddress(await chain.deploy(artifact, args));
  const pin = () => chain.client.getBlockNumber({ cacheTime: 0 });
  async function asOwner(to: Address, data: Hex): Promise<void> {
    const receipt = await chain.client.waitForTransactionReceipt({ hash: await ownerWallet.sendTransaction({ to, data }) });
    assert.equal(receipt.status, "success");
  }
  const params = (fields: Omit<ShadowParams, "rpcUrl" | "chainId" | "timeoutMs" | "invariants" | "upgradeCall"> & Partial<ShadowParams>): ShadowParams => ({
    rpcUrl: chain.anvil.rpcUrl,
    chainId: chain.chain.id,
    timeoutMs: TIMEOUT_MS,
    invariants: [],
    upgradeCall: "0x",
    ...fields,
  });

  /** A PlainUUPSVault behind an ERC1967Proxy owned by `owner`, value 7, and a second implementation. */
  async function plainUups() {
    const v1 = await deploy(PlainUUPSVault);
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [owner] });
    const proxy = await deploy(SentinelTestERC1967Proxy, [v1, init]);
    await asOwner(proxy, encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [7n] }));
    const v2 = await deploy(PlainUUPSVault);
    return { v1, proxy, v2 };
  }

  const VALUE_INVARIANTS: Invariant[] = [
    { name: "value-unchanged", function: "function value() view returns (uint256)", args: [], relation: "unchanged" },
    { name: "value-not-lower", function: "function value() view returns (uint256)", args: [], relation: "gte" },
    { name: "value-at-most-5", function: "function value() view returns (uint256)", args: [], relation: "lte", value: "5" },
    { name: "value-is-3", function: "function value() view returns (uint256)", args: [], relation: "eq", value: "3" },
    { name: "owner-kept", function: "function owner() view returns (address)", args: [], relation: "unchanged" },
  ];

  it("a benign UUPS upgrade passes, with the same report, findings and state-diff digest every run", async (t) => {
    const { v1, proxy, v2 } = await plainUups();
    const blockNumber = await pin();
    const invariants = [VALUE_INVARIANTS[0]!, VALUE_INVARIANTS[1]!, VALUE_INVARIANTS[4]!];

    let forkStartMs = 0;
    const timed = {
      startAnvil: async (options: AnvilOptions) => {
        const started = performance.now();
        const fork = await startAnvil(options);
        forkStartMs = performance.now() - started;
        return fork;
      },
    };
    const started = performance.now();
    const first = await runShadowDeployment(params({ blockNumber, proxy, implementation: v2, invariants }), timed);
    const wholeMs = performance.now() - started;
    t.diagnostic(`fork start ${forkStartMs.toFixed(0)} ms; whole shadow deployment ${wholeMs.toFixed(0)} ms`);

    const findings = shadowFindings(first, DEFAULT_POLICY);
    assert.deepEqual(rejects(findings), [], JSON.stringify(findings, null, 1));
    assert.equal(first.proxyKind, "uups");
    assert.equal(first.upgrade.status, "success");
    assert.equal(first.upgrade.status === "success" && first.upgrade.authority, owner);
    assert.equal(first.before.implementation, v1);
    assert.equal(first.after?.implementation, v2);
    assert.equal(first.secondUpgrade?.status, "success");
    assert.deepEqual(first.proxiable, { status: "ok", detail: ERC1967_IMPLEMENTATION_SLOT });
    assert.deepEqual(first.initializable, { flavour: "oz-v5", initializedVersion: (2n ** 64n - 1n).toString(), disabled: true });
    assert.deepEqual(
      first.invariants.map((r) => [r.name, r.holds]),
      invariants.map((i) => [i.name, true]),
    );
    // The upgrade wrote exactly one slot: the proxy's implementation.
    assert.equal(first.stateDiff?.method, "prestateTracer");
    assert.deepEqual(first.stateDiff?.changes, [
      { address: proxy.toLowerCase(), slot: ERC1967_IMPLEMENTATION_SLOT, before: word(v1), after: word(v2) },
    ]);
    const summary = findings.find((f) => f.check === "shadow-deployment" && f.code === "OK");
    assert.equal(summary?.evidence?.["stateDiffDigest"], first.stateDiff?.digest);
    assert.equal(summary?.evidence?.["forkBlockHash"], (await chain.client.getBlock({ blockNumber })).hash);

    // The target chain moves on; the pinned block does not.
    await asOwner(proxy, encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [8n] }));
    const second = await runShadowDeployment(params({ blockNumber, proxy, implementation: v2, invariants }), FORKS);
    assert.deepEqual(second, first);
    assert.equal(findingsDigest(shadowFindings(second, DEFAULT_POLICY)), findingsDigest(findings));
  });

  it("evaluates each invariant relation against the state before and after the upgrade call", async () => {
    const { proxy, v2 } = await plainUups();
    // The upgrade call runs setValue(3) through the proxy as the owner: value 7 → 3.
    const upgradeCall = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [3n] });
    const invariants: Invariant[] = [
      ...VALUE_INVARIANTS,
      { name: "owner-is-bool", function: "function owner() view returns (address)", args: [], relation: "gte" },
      { name: "missing-fn", function: "function nope() view returns (uint256)", args: [], relation: "eq", value: "1" },
    ];
    const report = await runShadowDeployment(params({ blockNumber: await pin(), proxy, implementation: v2, upgradeCall, invariants }), FORKS);
    const byName = Object.fromEntries(report.invariants.map((r) => [r.name, r]));
    assert.deepEqual(byName["value-unchanged"], { name: "value-unchanged", relation: "unchanged", expected: "7", before: { value: "7" }, after: { value: "3" }, holds: false });
    assert.equal(byName["value-not-lower"]?.holds, false);
    assert.equal(byName["value-at-most-5"]?.holds, true);
    assert.equal(byName["value-is-3"]?.holds, true);
    assert.equal(byName["owner-kept"]?.holds, true);
    assert.match(byName["owner-is-bool"]?.problem ?? "", /gte compares integers/);
    assert.deepEqual(byName["missing-fn"]?.after, { reverted: "no revert data" });

    const findings = shadowFindings(report, DEFAULT_POLICY);
    assert.deepEqual(
      findings.filter((f) => f.code === "INVARIANT_VIOLATED").map((f) => f.evidence?.["invariant"]),
      ["value-unchanged", "value-not-lower", "missing-fn"],
    );
    assert.deepEqual(rejects(findings), ["INVARIANT_VIOLATED", "POLICY_INVALID"]);
    // setValue is onlyOwner: on the bare implementation, from an arbitrary account, it reverts.
    assert.equal(report.upgradeCallOnImplementation?.status, "reverted");
    assert.match(report.upgradeCallOnImplementation?.revert?.reason ?? "", /^OwnableUnauthorizedAccount\(0x000000000000000000000000000000000000dEaD\)$/);
  });

  it("a UUPS upgrade to code without proxiableUUID: UUPS_PROXIABLE_MISSING and the decoded revert", async () => {
    const { proxy } = await plainUups();
    const notUups = await deploy(GasProbe);
    const report = await runShadowDeployment(params({ blockNumber: await pin(), proxy, implementation: notUups }), FORKS);
    assert.deepEqual(report.proxiable, { status: "reverted", detail: "no revert data" });
    assert.equal(report.upgrade.status, "reverted");
    assert.equal(report.upgrade.status === "reverted" && report.upgrade.revert?.reason, `ERC1967InvalidImplementation(${notUups})`);
    assert.equal(report.after, undefined, "nothing after a reverted upgrade");
    assert.equal(report.secondUpgrade, undefined);
    assert.equal(report.stateDiff, undefined);
    const findings = shadowFindings(report, DEFAULT_POLICY);
    assert.deepEqual(rejects(findings), ["UPGRADE_REVERTED", "UUPS_PROXIABLE_MISSING"]);
    const reverted = findings.find((f) => f.code === "UPGRADE_REVERTED");
    assert.equal(reverted?.evidence?.["revertSelector"], toFunctionSelector("ERC1967InvalidImplementation(address)"));
  });

  it("a transparent proxy whose new implementation has upgradeToAndCall: TRANSPARENT_SELECTOR_CLASH", async () => {
    const v1 = await deploy(PlainUUPSVault);
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [owner] });
    const proxy = await deploy(SentinelTestTransparentProxy, [v1, owner, init]);
    const v2 = await deploy(PlainUUPSVault);
    const blockNumber = await pin();

    const fromCode = await runShadowDeployment(params({ blockNumber, proxy, implementation: v2 }), FORKS);
    assert.equal(fromCode.proxyKind, "transparent");
    assert.equal(fromCode.upgrade.status === "success" && fromCode.upgrade.kind, "proxy-admin-owner");
    assert.equal(fromCode.upgrade.status === "success" && fromCode.upgrade.method, "upgradeAndCall(address,address,bytes)");
    assert.deepEqual(fromCode.selectorClash, {
      intercepted: ["0x4f1ef286"],
      interceptedSource: "proxy-code",
      selectorSource: "bytecode",
      clashes: [{ selector: "0x4f1ef286", function: "upgradeToAndCall(address,bytes)" }],
    });
    assert.deepEqual(rejects(shadowFindings(fromCode, DEFAULT_POLICY)), ["TRANSPARENT_SELECTOR_CLASH"]);

    const selectors = PlainUUPSVault.abi.filter((item) => item.type === "function").map((item) => toFunctionSelector(item as AbiFunction));
    const fromAbi = await runShadowDeployment(params({ blockNumber, proxy, implementation: v2, implementationSelectors: selectors }), FORKS);
    assert.equal(fromAbi.selectorClash?.selectorSource, "abi");
    assert.deepEqual(fromAbi.selectorClash?.clashes, fromCode.selectorClash?.clashes);
  });

  it("a contract authority (a timelock, a multisig) is impersonated like an account", async () => {
    const v1 = await deploy(PlainUUPSVault);
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [owner] });
    const timelock = await deploy(GasProbe); // any contract: it only has to own the ProxyAdmin
    const proxy = await deploy(SentinelTestTransparentProxy, [v1, timelock, init]);
    const v2 = await deploy(PlainUUPSVault);
    const report = await runShadowDeployment(params({ blockNumber: await pin(), proxy, implementation: v2 }), FORKS);
    assert.equal(report.upgrade.status === "success" && report.upgrade.authority, timelock);
    assert.equal(report.after?.implementation, v2);
    assert.equal(report.secondUpgrade?.status, "success");
  });

  it("an implementation address without code: the upgrade reverts, and no initializable claim is made", async () => {
    const { proxy } = await plainUups();
    const empty = getAddress("0x00000000000000000000000000000000000e4e47");
    const upgradeCall = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [1n] });
    const report = await runShadowDeployment(params({ blockNumber: await pin(), proxy, implementation: empty, upgradeCall }), FORKS);
    assert.deepEqual(report.proxiable, { status: "no-answer", detail: "0x" });
    assert.equal(report.upgradeCallOnImplementation, undefined);
    assert.deepEqual(report.initializable, { flavour: "unknown" });
    assert.deepEqual(rejects(shadowFindings(report, DEFAULT_POLICY)), ["UPGRADE_REVERTED", "UUPS_PROXIABLE_MISSING"]);
  });

  it("OZ v4's interface without a call: upgradeTo, since v4's upgradeToAndCall always calls", async () => {
    const v4 = compileSources({ "V4StyleUUPS.sol": { content: V4_STYLE_UUPS } }).get("V4StyleUUPS.sol:V4StyleUUPS")!;
    const v1 = await deploy(v4);
    const init = encodeFunctionData({ abi: parseAbi(["function initialize(address)"]), functionName: "initialize", args: [owner] });
    const proxy = await deploy(SentinelTestERC1967Proxy, [v1, init]);
    const v2 = await deploy(v4);
    const report = await runShadowDeployment(params({ blockNumber: await pin(), proxy, implementation: v2 }), FORKS);
    assert.equal(report.upgrade.status === "success" && report.upgrade.method, "upgradeTo(address)");
    assert.equal(report.secondUpgrade?.status === "success" && report.secondUpgrade.method, "upgradeTo(address)");
    assert.deepEqual(rejects(shadowFindings(report, DEFAULT_POLICY)), []);
  });

  it("an admin change is info, not a reject, when the policy allows it", async () => {
    const { proxy, v2 } = await plainUups();
    const newOwner = getAddress("0x00000000000000000000000000000000000B0B00");
    const upgradeCall = encodeFunctionData({ abi: parseAbi(["function transferOwnership(address)"]), functionName: "transferOwnership", args: [newOwner] });
    const report = await runShadowDeployment(params({ blockNumber: await pin(), proxy, implementation: v2, upgradeCall }), FORKS);
    assert.equal(report.after?.owner, newOwner);
    // The second upgrade is made by whoever is the authority after the first.
    assert.equal(report.secondUpgrade?.status === "success" && report.secondUpgrade.authority, newOwner);
    assert.deepEqual(report.adminEvents, [
      // Log 0 is ERC-1967's Upgraded.
      { event: "OwnershipTransferred", emitter: proxy, logIndex: 1, args: { previousOwner: owner, newOwner } },
    ]);
    assert.deepEqual(rejects(shadowFindings(report, DEFAULT_POLICY)), ["ADMIN_CHANGED"]);
    const allowed = shadowFindings(report, { allowAdminChange: true });
    assert.deepEqual(rejects(allowed), []);
    assert.equal(allowed.filter((f) => f.code === "ADMIN_CHANGED" && f.severity === "info").length, 2);
  });

  describe("corpus fixtures", () => {
    const compiler = testCompiler();
    after(() => compiler.close());

    for (const name of process.env["SHADOW_CORPUS"] === "all" ? corpusCases() : SHADOW_FIXTURES) {
      it(`${name}: the label's shadow and proxy-safety codes`, async (t) => {
        // The reference behind its proxy, owned by `owner`, and the new implementation, as the corpus deploys them.
        const dir = join(CORPUS_DIR, name);
        const upgrade = readUpgradeCase(dir);
        const { proxy, implementation, bundle } = await prepareUpgrade({ dir, upgrade, chain, compiler, owner });
        const { policy, upgradeCall } = bundle;
        const report = await runShadowDeployment(params({ blockNumber: await pin(), proxy, implementation, upgradeCall, invariants: policy.invariants }), FORKS);
        const findings = shadowFindings(report, policy);
        const expected = upgrade.reasons.filter((code) => SHADOW_CODES.has(code)).sort();
        assert.deepEqual(rejects(findings), expected, JSON.stringify(findings, null, 1));
        t.diagnostic(`${name}: ${rejects(findings).join(", ") || "none"} (label ${upgrade.expect} [${upgrade.reasons.join(", ")}])`);
        FIXTURE_DETAILS[name]?.(findings, report);
      });
    }
  });

  /** What each fixture's findings must say beyond their codes. */
  const FIXTURE_DETAILS: Record<string, (findings: Finding[], report: ShadowReport) => void> = {
    "admin-takeover": (findings) => {
      const recovery = getAddress("0x00000000000000000000000000000000a77ac3e5");
      assert.deepEqual(
        findings.filter((f) => f.code === "ADMIN_CHANGED").map((f) => [f.evidence?.["field"] ?? f.evidence?.["event"], f.evidence?.["after"] ?? f.evidence?.["arg.newOwner"]]),
        [
          ["owner", recovery],
          ["OwnershipTransferred", recovery],
        ],
      );
    },
    "implementation-initializable": (findings) => {
      // Both ways: its Initializable storage says version 0, and the upgrade call succeeds on it.
      const found = findings.filter((f) => f.code === "IMPLEMENTATION_INITIALIZABLE");
      assert.deepEqual(found.map((f) => f.evidence?.["initializedVersion"] ?? f.evidence?.["caller"]), ["0", "0x000000000000000000000000000000000000dEaD"]);
    },
    "nomad-zero-root": (findings) => {
      const violated = findings.find((f) => f.code === "INVARIANT_VIOLATED");
      assert.deepEqual(violated?.evidence, { invariant: "zero-root-never-acceptable", relation: "eq", expected: "false", before: "false", after: "true" });
    },
    "uups-bricked": (findings, report) => {
      assert.equal(report.upgrade.status, "success", "the first upgrade is authorised by V1");
      const stuck = findings.find((f) => f.code === "NOT_UPGRADEABLE_AFTER");
      assert.equal(stuck?.evidence?.["revertSelector"], toFunctionSelector("UpgradesFrozen()"));
    },
    "approve-token-transparent-v4": (_findings, report) => {
      // v4's ProxyAdmin upgrades without a call through upgrade(); a non-authority is refused by both.
      assert.equal(report.upgrade.status === "success" && report.upgrade.method, "upgrade(address,address)");
      const admin = (report.authorityProbes ?? []).filter((p) => p.on === "admin");
      assert.deepEqual(
        admin.map((p) => [p.entryPoint, p.before.status, p.after.status]),
        [
          ["upgradeAndCall(address,address,bytes)", "reverted", "reverted"],
          ["upgrade(address,address)", "reverted", "reverted"],
          ["transferOwnership(address)", "reverted", "reverted"],
          ["changeProxyAdmin(address,address)", "reverted", "reverted"],
        ],
      );
    },
    "authority-uups-unguarded": (findings) => {
      const weakened = findings.filter((f) => f.code === "AUTHORITY_WEAKENED").map((f) => [f.evidence?.["entryPoint"], f.evidence?.["caller"], f.evidence?.["before"]]);
      assert.deepEqual(weakened, [["upgradeToAndCall(address,bytes)", "0x000000000000000000000000000000000000dEaD", "reverted"]]);
    },
    "authority-transparent-v4-owner-open": (findings) => {
      const weakened = findings.filter((f) => f.code === "AUTHORITY_WEAKENED").map((f) => [f.evidence?.["on"], f.evidence?.["entryPoint"]]);
      assert.deepEqual(weakened, [["proxy", "transferOwnership(address)"]]);
    },
    "transparent-benign": (_findings, report) => {
      assert.equal(report.upgrade.status === "success" && report.upgrade.kind, "proxy-admin-owner");
      assert.equal(report.secondUpgrade?.status, "success");
      assert.deepEqual(report.stateDiff?.changes.map((c) => c.slot), [ERC1967_IMPLEMENTATION_SLOT]);
    },
  };

  describe("the fork's lifetime", () => {
    let slowRpc: SlowRpc;
    before(async () => {
      slowRpc = await startSlowRpc(chain.anvil.rpcUrl);
    });
    after(() => slowRpc?.close());

    it("a timeout while the fork runs: CHECK_TIMED_OUT, and the fork process is gone", async (t) => {
      const { proxy, v2 } = await plainUups();
      const blockNumber = await pin();
      const childrenBefore = anvilChildren();
      let fork: AnvilInstance | undefined;
      slowRpc.slowAfter(Infinity);
      const modules = {
        startAnvil: async (options: AnvilOptions) => {
          fork = await startAnvil(options);
          // From now on the target chain answers nothing: the fork hangs on its first state read.
          slowRpc.slowAfter(0);
          return fork;
        },
      };
      const started = performance.now();
      await assert.rejects(
        runShadowDeployment({ ...params({ blockNumber, proxy, implementation: v2 }), rpcUrl: slowRpc.url, timeoutMs: 3_000 }, modules),
        (error) =>
          error instanceof ShadowDeploymentError &&
          error.code === "CHECK_TIMED_OUT" &&
          // It says what the fork did not answer, and for how long.
          /^shadow deployment timed out after 3000 ms, waiting \d+ ms for the fork to answer eth_\w+$/.test(error.message),
      );
      t.diagnostic(`timed out and stopped after ${(performance.now() - started).toFixed(0)} ms (timeoutMs 3000)`);
      assert.ok(fork, "the fork had started");
      assert.equal(isRunning(fork.pid), false, "the fork's anvil has exited");
      assert.deepEqual(anvilChildren(), childrenBefore);
    });

    it("a timeout while the fork starts: CHECK_TIMED_OUT, and the starting anvil is killed", async () => {
      const { proxy, v2 } = await plainUups();
      const blockNumber = await pin();
      const childrenBefore = anvilChildren();
      // Our own read of the pinned block is answered; anvil's first fork request is not.
      slowRpc.slowAfter(1);
      let startCalled = false;
      const modules = {
        startAnvil: (options: AnvilOptions) => {
          startCalled = true;
          return startAnvil(options);
        },
      };
      await assert.rejects(
        runShadowDeployment({ ...params({ blockNumber, proxy, implementation: v2 }), rpcUrl: slowRpc.url, timeoutMs: 2_000 }, modules),
        (error) => error instanceof ShadowDeploymentError && error.code === "CHECK_TIMED_OUT" && error.message.endsWith("while starting the fork"),
      );
      assert.ok(startCalled);
      assert.deepEqual(anvilChildren(), childrenBefore);
    });

    it("every run, passing or failing, leaves no anvil behind", async () => {
      const { proxy, v2 } = await plainUups();
      const childrenBefore = anvilChildren();
      const pids: number[] = [];
      const modules = {
        startAnvil: async (options: AnvilOptions) => {
          const fork = await startAnvil(options);
          pids.push(fork.pid);
          return fork;
        },
      };
      await runShadowDeployment(params({ blockNumber: await pin(), proxy, implementation: v2 }), modules);
      // A proxy address with no code: authority resolution fails inside the fork.
      await runShadowDeployment(params({ blockNumber: await pin(), proxy: getAddress("0x00000000000000000000000000000000000c0de0"), implementation: v2 }), modules).then(
        (report) => assert.equal(report.upgrade.status, "no-authority"),
      );
      assert.equal(pids.length, 2);
      for (const pid of pids) assert.equal(isRunning(pid), false);
      assert.deepEqual(anvilChildren(), childrenBefore);
    });

    it("a pinned block the chain does not have: BLOCK_UNAVAILABLE, and no fork is started", async () => {
      const { proxy, v2 } = await plainUups();
      let startCalled = false;
      const modules = {
        startAnvil: (options: AnvilOptions) => {
          startCalled = true;
          return startAnvil(options);
        },
      };
      const error = await runShadowDeployment(params({ blockNumber: (await pin()) + 1000n, proxy, implementation: v2 }), modules).catch((e: unknown) => e);
      assert.ok(error instanceof ShadowDeploymentError && error.code === "BLOCK_UNAVAILABLE", String(error));
      assert.equal(startCalled, false);
      assert.deepEqual(
        shadowFailureFindings(error).map((f) => [f.check, f.code, f.severity]),
        [
          ["shadow-deployment", "BLOCK_UNAVAILABLE", "reject"],
          ["proxy-safety", "BLOCK_UNAVAILABLE", "reject"],
        ],
      );
    });
  });
});

describe("proxy-safety pure parts", () => {
  it("the Initializable v5 slot is the ERC-7201 namespace of openzeppelin.storage.Initializable", () => {
    const inner = BigInt(keccak256(stringToHex("openzeppelin.storage.Initializable"))) - 1n;
    const slot = BigInt(keccak256(encodeAbiParameters([{ type: "uint256" }], [inner]))) & ~0xffn;
    assert.equal(`0x${slot.toString(16).padStart(64, "0")}`, INITIALIZABLE_V5_SLOT);
    assert.equal(BigInt(keccak256(stringToHex("eip1967.proxy.implementation"))) - 1n, BigInt(ERC1967_IMPLEMENTATION_SLOT));
  });

  it("reads the initializer state from the storage layout the code's Initialized event names", () => {
    const v5Topic = "7fc7f505b2f371ae2175ee4913f4499e1f2633a7b5936321eed1cdaeb6115181d2";
    const v4Topic = "7f7f26b83ff96e1f2b6a682f133852f6798a09c465da95921460cefb3847402498";
    const zero = `0x${"00".repeat(32)}` as Hex;
    const maxV5 = `0x${"00".repeat(24)}${"ff".repeat(8)}` as Hex;
    assert.deepEqual(initializableState(`0x${v5Topic}`, zero, zero), { flavour: "oz-v5", initializedVersion: "0", disabled: false });
    assert.deepEqual(initializableState(`0x${v5Topic}`, maxV5, zero), { flavour: "oz-v5", initializedVersion: (2n ** 64n - 1n).toString(), disabled: true });
    assert.deepEqual(initializableState(`0x${v4Topic}`, zero, `0x${"00".repeat(31)}ff`), { flavour: "oz-v4", initializedVersion: "255", disabled: true });
    assert.deepEqual(initializableState(`0x${v4Topic}`, zero, `0x${"00".repeat(31)}01`), { flavour: "oz-v4", initializedVersion: "1", disabled: false });
    // No Initialized event: slot 0 is someone's variable, not a version.
    assert.deepEqual(initializableState("0x6000", zero, `0x${"00".repeat(31)}01`), { flavour: "unknown" });
  });

  it("reads the selector constants a proxy may compare msg.sig with", () => {
    // DUP1 PUSH4 4f1ef286 EQ PUSH2 0010 JUMPI (a dispatcher) | PUSH4 8f283970 PUSH1 e0 SHL (a call's selector)
    const code = "0x80634f1ef2861461001057638f28397060e01b";
    assert.deepEqual([...push4Constants(code)].sort(), ["0x4f1ef286", "0x8f283970"]);
    // A 0x63 byte inside PUSH data is not a PUSH4.
    assert.deepEqual([...push4Constants("0x6263aabbccdd14")], []);
    // solc's optimizer compares msg.sig left-aligned: PUSH32 selector ‖ zeros.
    assert.deepEqual([...selectorConstants(`0x7f4f1ef286${"00".repeat(28)}`)], ["0x4f1ef286"]);
    assert.deepEqual([...selectorConstants(`0x7f4f1ef286${"00".repeat(27)}01`)], []);
  });

  it("a transparent proxy with no known admin selector in its code is assumed to intercept OZ v4's full set", () => {
    const clash = transparentSelectorClash({ proxyCode: "0x00", implementationCode: "0x00", implementationSelectors: ["0xF851A440", "0x12345678"] });
    assert.equal(clash.interceptedSource, "assumed");
    assert.equal(clash.intercepted.length, 5);
    assert.deepEqual(clash.clashes, [{ selector: "0xf851a440", function: "admin()" }]);
  });

  it("the state-diff digest is canonical: order, case and unchanged slots do not matter", () => {
    const a = { address: "0x00000000000000000000000000000000000000AA" as Hex, slot: "0x01" as Hex, before: "0x00" as Hex, after: "0x02" as Hex };
    const b = { address: "0x00000000000000000000000000000000000000aa" as Hex, slot: `0x${"00".repeat(31)}00` as Hex, before: "0x05" as Hex, after: "0x06" as Hex };
    const same = { address: "0x00000000000000000000000000000000000000bb" as Hex, slot: "0x00" as Hex, before: "0x01" as Hex, after: "0x01" as Hex };
    assert.equal(stateDiffDigest([a, b, same]), stateDiffDigest([b, a]));
    assert.notEqual(stateDiffDigest([a, b]), stateDiffDigest([a]));
    assert.notEqual(stateDiffDigest([a]), stateDiffDigest([{ ...a, after: "0x03" }]));
  });

  it("decodes revert data: Error(string), Panic, known OZ errors, unknown selectors", () => {
    const error = encodeFunctionData({ abi: parseAbi(["function Error(string)"]), functionName: "Error", args: ["no"] });
    assert.equal(decodeRevert(error), 'Error("no")');
    const panic = encodeFunctionData({ abi: parseAbi(["function Panic(uint256)"]), functionName: "Panic", args: [17n] });
    assert.equal(decodeRevert(panic), "Panic(17)");
    assert.equal(decodeRevert("0x1234567800"), "custom error 0x12345678");
    assert.equal(decodeRevert("0x"), "no revert data");
    assert.equal(decodeRevert(toFunctionSelector("InvalidInitialization()")), "InvalidInitialization()");
  });

  it("failures become findings of both checks", () => {
    assert.deepEqual(
      shadowFailureFindings(new ShadowDeploymentError("CHECK_TIMED_OUT", "timed out")).map((f) => [f.check, f.code]),
      [
        ["shadow-deployment", "CHECK_TIMED_OUT"],
        ["proxy-safety", "CHECK_TIMED_OUT"],
      ],
    );
    assert.deepEqual(shadowFailureFindings(new Error("boom")).map((f) => f.code), ["CHECK_FAILED", "CHECK_FAILED"]);
  });
});

// --- helpers ---------------------------------------------------------------------------------

function rejects(findings: readonly Finding[]): string[] {
  return [...new Set(findings.filter((f) => f.severity === "reject").map((f) => f.code))].sort();
}

function word(address: Address): Hex {
  return `0x${address.slice(2).toLowerCase().padStart(64, "0")}`;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** anvil processes this test process has started and not yet reaped. */
function anvilChildren(): string[] {
  try {
    const out = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" });
    return out
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.endsWith("anvil"))
      .sort();
  } catch {
    return []; // ps exits 1 when there is no child
  }
}

/** OZ v4's UUPS interface in miniature: upgradeToAndCall always calls, so without data it reverts. */
const V4_STYLE_UUPS = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;
contract V4StyleUUPS {
    bytes32 private constant SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
    address public owner;
    function initialize(address owner_) external { require(owner == address(0)); owner = owner_; }
    function proxiableUUID() external pure returns (bytes32) { return SLOT; }
    function upgradeTo(address impl) external { require(msg.sender == owner, "owner"); _set(impl); }
    function upgradeToAndCall(address impl, bytes calldata data) external payable {
        require(msg.sender == owner, "owner");
        _set(impl);
        (bool ok, ) = impl.delegatecall(data);
        require(ok, "call failed");
    }
    function _set(address impl) private { assembly { sstore(SLOT, impl) } }
}
`;

type Built = { abi: Abi; bytecode: Hex };
function compileSources(sources: Record<string, { content: string }>, version = "0.8.28"): Map<string, Built> {
  const solc = require(`solc-${version}`) as { compile(input: string, callbacks: { import(path: string): { contents: string } | { error: string } }): string };
  const input = {
    language: "Solidity",
    sources,
    settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
  };
  const resolveImport = (path: string) => {
    const file = join(root, "node_modules", path);
    return existsSync(file) ? { contents: readFileSync(file, "utf8") } : { error: `not found: ${path}` };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: resolveImport })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const built = new Map<string, Built>();
  for (const [file, contracts] of Object.entries(output.contracts ?? {})) {
    for (const [name, contract] of Object.entries(contracts)) built.set(`${file}:${name}`, { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` });
  }
  return built;
}

interface SlowRpc {
  url: string;
  /** Requests after the next `n` get no answer (until the connection closes). */
  slowAfter(n: number): void;
  close(): Promise<void>;
}

/** A JSON-RPC relay to `target` that can stop answering: a target chain that hangs. */
async function startSlowRpc(target: string): Promise<SlowRpc> {
  let budget = Infinity;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (budget <= 0) return; // never answered
      budget -= 1;
      fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) })
        .then(async (upstream) => response.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text()))
        .catch(() => response.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    slowAfter(n) {
      budget = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
