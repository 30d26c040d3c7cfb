// policyProblems: every problem of a policy document, each checked by parsePolicy itself, so it
// can neither miss a problem parsePolicy would throw nor report one it would accept.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_POLICY, parsePolicy, policyProblems } from "../../src/codec/policy.ts";

const valid = { schema: "sentinel.policy/1", name: "acme", version: 2, checks: { "shadow-deployment": "advisory" }, forbiddenOpcodes: ["SELFDESTRUCT"], invariants: [{ name: "supply", function: "function totalSupply() view returns (uint256)", relation: "unchanged" }] };

describe("policyProblems", () => {
  it("none for what parsePolicy accepts", () => {
    assert.deepEqual(policyProblems(valid), []);
    assert.deepEqual(policyProblems(DEFAULT_POLICY), []);
    parsePolicy(valid);
  });

  it("every problem, with its field, in a document with many", () => {
    const problems = policyProblems({
      ...valid,
      version: "2",
      extra: true,
      forbiddenOpcodes: ["SELFDESTRUCT", "JUMP", "CALL"],
      invariants: [valid.invariants[0], { name: "supply", function: "nope", relation: "gte", to: "0x12" }],
    });
    assert.deepEqual(problems.map((p) => p.field).sort(), [
      "policy.extra",
      "policy.forbiddenOpcodes[1]",
      "policy.forbiddenOpcodes[2]",
      "policy.invariants[1].function",
      "policy.invariants[1].name",
      "policy.invariants[1].to",
      "policy.version",
    ]);
    assert.match(problems.find((p) => p.field === "policy.invariants[1].name")!.message, /used twice \(first at \[0\]\)/);
  });

  it("whenever parsePolicy throws, policyProblems reports at least that field", () => {
    const documents: unknown[] = [null, [], "x", {}, { ...valid, checks: [] }, { ...valid, invariants: {} }, { ...valid, invariants: [1] }, { ...valid, allowAdminChange: "yes" }];
    for (const document of documents) {
      let field: string | undefined;
      try {
        parsePolicy(document);
      } catch (error) {
        field = (error as { field: string }).field;
      }
      assert.ok(field, JSON.stringify(document));
      assert.ok(policyProblems(document).some((p) => p.field === field), `${JSON.stringify(document)}: ${field}`);
    }
  });

  it("reports a rule between fields: a human gate with requireHumanApproval false", () => {
    const document = { ...DEFAULT_POLICY, humanGate: { threshold: 1, approvers: ["0x00000000000000000000000000000000000000aa"] } };
    assert.deepEqual(policyProblems(document).map((p) => p.field), ["policy.requireHumanApproval"]);
    assert.deepEqual(policyProblems({ ...document, requireHumanApproval: true }), []);
  });
});
