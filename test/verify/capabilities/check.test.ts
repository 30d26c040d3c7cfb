// The policy's say over access-control findings: intended capabilities become info, matched by
// signature or by signature and kind exactly (no prefix or look-alike matches); unknowns warn only
// when the policy says so; everything else is left as found.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_POLICY, parsePolicy } from "../../../src/codec/policy.ts";
import { applyCapabilityPolicy } from "../../../src/verify/capabilities/index.ts";
import type { Finding } from "../../../src/verify/pipeline.ts";

const gained = (fn: string, effect: string): Finding => ({
  check: "access-control",
  code: "CAPABILITY_GAINED",
  severity: "reject",
  message: `${fn}: any caller can …`,
  evidence: { function: fn, effect, caller: "any", when: "now" },
});
const unknown: Finding = { check: "access-control", code: "ANALYSIS_UNKNOWN", severity: "reject", message: "f(): unknown", evidence: { function: "f()", bound: "path budget (400 paths)" } };
const policy = (extra: Record<string, unknown>) => parsePolicy({ ...DEFAULT_POLICY, ...extra });

describe("access-control: the policy", () => {
  it("rejects everything by default", () => {
    const findings = [gained("mint(address,uint256)", "supply-change"), unknown];
    assert.deepEqual(applyCapabilityPolicy(findings, DEFAULT_POLICY), findings);
  });

  it("makes intended capabilities info, by signature or signature:kind", () => {
    const p = policy({ intendedCapabilities: ["claim(uint256)", "mint(address,uint256):supply-change"] });
    const [claim, mint, mintDebit] = applyCapabilityPolicy([gained("claim(uint256)", "value-transfer"), gained("mint(address,uint256)", "supply-change"), gained("mint(address,uint256)", "balance-debit")], p);
    assert.equal(claim!.severity, "info");
    assert.equal(mint!.severity, "info");
    assert.equal(mintDebit!.severity, "reject");
  });

  it("does not match look-alike signatures", () => {
    const p = policy({ intendedCapabilities: ["mint(address,uint256)"] });
    for (const fn of ["mint(address,uint256,bytes)", "mint(address)", "Mint(address,uint256)", "premint(address,uint256)"]) {
      assert.equal(applyCapabilityPolicy([gained(fn, "supply-change")], p)[0]!.severity, "reject", fn);
    }
  });

  it("never turns an unknown into info, and warns only when told", () => {
    assert.equal(applyCapabilityPolicy([unknown], policy({ intendedCapabilities: ["f()"] }))[0]!.severity, "reject");
    assert.equal(applyCapabilityPolicy([unknown], policy({ capabilityUnknown: "reject" }))[0]!.severity, "reject");
    assert.equal(applyCapabilityPolicy([unknown], policy({ capabilityUnknown: "warn" }))[0]!.severity, "warning");
    assert.equal(applyCapabilityPolicy([gained("f()", "upgrade")], policy({ capabilityUnknown: "warn" }))[0]!.severity, "reject");
  });
});
