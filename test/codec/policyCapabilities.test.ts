// The access-control check's two policy options: optional, absent from the default (so the
// default's hash did not move), bound into the hash when given, and refused when malformed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_POLICY, MAX_INTENDED_CAPABILITIES, parsePolicy, POLICY_SCHEMA, PolicyError, policyHash } from "../../src/codec/policy.ts";

const base = { schema: POLICY_SCHEMA, name: "acme", version: 1 };

describe("policy: access-control options", () => {
  it("leaves the default without them and its hash unchanged", () => {
    assert.ok(!("capabilityUnknown" in DEFAULT_POLICY));
    assert.ok(!("intendedCapabilities" in DEFAULT_POLICY));
    const parsed = parsePolicy({ ...base, name: DEFAULT_POLICY.name });
    assert.ok(!("capabilityUnknown" in parsed) && !("intendedCapabilities" in parsed));
    assert.equal(policyHash(parsed), policyHash(DEFAULT_POLICY));
  });

  it("accepts them and binds them into the hash", () => {
    const policy = parsePolicy({ ...base, capabilityUnknown: "warn", intendedCapabilities: ["mint(address,uint256):supply-change", "claim((address,uint256)[],bytes)"] });
    assert.equal(policy.capabilityUnknown, "warn");
    assert.deepEqual(policy.intendedCapabilities, ["mint(address,uint256):supply-change", "claim((address,uint256)[],bytes)"]);
    assert.notEqual(policyHash(policy), policyHash(parsePolicy({ ...base, capabilityUnknown: "warn" })));
    assert.notEqual(policyHash(parsePolicy({ ...base, capabilityUnknown: "reject" })), policyHash(parsePolicy(base)));
  });

  const refused: [string, Record<string, unknown>, string][] = [
    ["an unknown unknown-mode", { capabilityUnknown: "approve" }, "policy.capabilityUnknown"],
    ["a boolean unknown-mode", { capabilityUnknown: true }, "policy.capabilityUnknown"],
    ["intended capabilities that are not a list", { intendedCapabilities: "mint(address,uint256)" }, "policy.intendedCapabilities"],
    ["a non-string entry", { intendedCapabilities: [42] }, "policy.intendedCapabilities[0]"],
    ["a name without parentheses", { intendedCapabilities: ["mint"] }, "policy.intendedCapabilities[0]"],
    ["an entry with trailing junk", { intendedCapabilities: ["mint(address) ; anything"] }, "policy.intendedCapabilities[0]"],
    ["an oversized entry", { intendedCapabilities: [`f(${"uint256,".repeat(30)}uint256)`] }, "policy.intendedCapabilities[0]"],
    ["too many entries", { intendedCapabilities: Array.from({ length: MAX_INTENDED_CAPABILITIES + 1 }, (_, i) => `f${i}()`) }, "policy.intendedCapabilities"],
  ];
  for (const [what, extra, field] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parsePolicy({ ...base, ...extra }), (error: unknown) => error instanceof PolicyError && error.field === field);
    });
  }
});
