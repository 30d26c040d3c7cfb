// The access-control analysis on compiled corpus upgrades (real solc, real z3), against a pinned
// state in memory: each backdoor is named by function, caller condition and effect; each benign
// twin gains nothing; a bound hit is "unknown" naming the bound, never a silent pass.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { DEFAULT_ANALYSIS } from "../../../src/verify/capabilities/index.ts";
import type { Finding } from "../../../src/verify/pipeline.ts";
import { testCompiler } from "../../helpers/compiler.ts";
import { caseFindings, OWNER, pinnedState } from "./caseAnalysis.ts";

const rejecting = (findings: Finding[]) => findings.filter((f) => f.severity === "reject");
const gained = (findings: Finding[]) => rejecting(findings).filter((f) => f.code === "CAPABILITY_GAINED").map((f) => f.evidence);

describe("access-control analysis", { timeout: 240_000 }, () => {
  const compiler = testCompiler();
  after(() => compiler.close());

  it("names a hard-coded address that can move any holder's tokens", async () => {
    assert.deepEqual(gained(await caseFindings(compiler, "capability-sweep-hardcoded")), [
      { function: "sweep(address,address,uint256)", effect: "balance-debit", caller: "0x00000000000000000000000000000000000bEEf1", when: "now" },
    ]);
  });

  it("finds a mint that opens to anyone only after a timestamp", async () => {
    assert.deepEqual(gained(await caseFindings(compiler, "capability-timed-mint")), [{ function: "mint(address,uint256)", effect: "supply-change", caller: "any", when: "after-time" }]);
  });

  it("finds a mint that opens after a counter anyone can advance", async () => {
    assert.deepEqual(gained(await caseFindings(compiler, "capability-counter-mint")), [{ function: "mint(address,uint256)", effect: "supply-change", caller: "any", when: "after-state" }]);
  });

  it("finds an NFT operator backdoor for one address, on every transfer entry point", async () => {
    const found = gained(await caseFindings(compiler, "capability-nft-operator-backdoor"));
    assert.deepEqual(
      found.filter((e) => e?.["effect"] === "balance-debit").map((e) => [e?.["function"], e?.["caller"]]),
      ["safeTransferFrom(address,address,uint256)", "safeTransferFrom(address,address,uint256,bytes)", "transferFrom(address,address,uint256)"].map((fn) => [fn, "0x00000000000000000000000000000000000A11cE"]),
    );
  });

  it("finds a role's admin re-parented by anyone (a constant mapping slot)", async () => {
    assert.deepEqual(gained(await caseFindings(compiler, "capability-role-admin-open")), [{ function: "setMinterAdmin(bytes32)", effect: "role-change", caller: "any", when: "now" }]);
  });

  it("finds the whole vault's ether sent to anyone after a block number", async () => {
    assert.deepEqual(gained(await caseFindings(compiler, "capability-vault-drain-after-block")), [{ function: "migrate(address)", effect: "value-transfer", caller: "any", when: "after-time" }]);
  });

  it("finds a transferFrom that skips the allowance for one spender", async () => {
    assert.deepEqual(gained(await caseFindings(compiler, "capability-transferfrom-backdoor")), [
      { function: "transferFrom(address,address,uint256)", effect: "balance-debit", caller: "0x0000000000000000000000000000000000C0FFEE", when: "now" },
    ]);
  });

  it("finds a pending-owner write without onlyOwner", async () => {
    assert.deepEqual(gained(await caseFindings(compiler, "capability-pending-owner-open")), [{ function: "setPendingOwner(address)", effect: "authority-write", caller: "any", when: "now" }]);
  });

  for (const name of ["approve-capability-owner-burn", "approve-capability-role-gated", "approve-oz-token", "approve-accesscontrol", "approve-ownable2step", "approve-nft-access-uups-no-initializer", "approve-new-function", "approve-appended-storage"]) {
    it(`gains nothing in ${name}`, async () => {
      const findings = await caseFindings(compiler, name);
      assert.deepEqual(rejecting(findings), []);
      assert.equal(findings[0]?.code, "OK");
    });
  }

  it("treats a hard-coded address that is the owner as the authority it is", async () => {
    const state = pinnedState({ authorities: [OWNER, 0xbeef1n] });
    assert.deepEqual(gained(await caseFindings(compiler, "capability-sweep-hardcoded", DEFAULT_ANALYSIS, state)), []);
  });

  it("reports a bound hit as unknown, naming the bound, and never as safe", async () => {
    const tiny = { ...DEFAULT_ANALYSIS, bounds: { ...DEFAULT_ANALYSIS.bounds, paths: 2 } };
    const findings = await caseFindings(compiler, "capability-sweep-hardcoded", tiny);
    const unknown = rejecting(findings).filter((f) => f.code === "ANALYSIS_UNKNOWN");
    assert.ok(unknown.length > 0);
    assert.ok(unknown.every((f) => f.evidence?.["bound"]?.includes("path budget (2 paths)")), JSON.stringify(unknown[0]));
    assert.ok(!findings.some((f) => f.code === "OK"));
  });

  it("reports a solver resource limit hit as unknown", async () => {
    const findings = await caseFindings(compiler, "capability-sweep-hardcoded", { ...DEFAULT_ANALYSIS, rlimit: 1 });
    assert.ok(rejecting(findings).some((f) => f.code === "ANALYSIS_UNKNOWN" && f.evidence?.["bound"]?.includes("solver rlimit")), JSON.stringify(findings));
  });
});
