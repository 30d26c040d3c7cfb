// Verification's errors are SentinelErrors: matched by class and code, never by name.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PolicyError } from "../../src/codec/policy.ts";
import { hasCode, SentinelError } from "../../src/errors.ts";
import { BytecodeFormatError } from "../../src/verify/bytecode/index.ts";
import { CompileTimeoutError, CompilerUnavailableError, SourceCollectionError } from "../../src/verify/compiler/index.ts";
import { EnrollmentNotChecked, PrerequisiteUnavailable } from "../../src/verify/errors.ts";
import { ContractNotInOutput } from "../../src/verify/reproducibleBuild/index.ts";
import { ShadowDeploymentError } from "../../src/verify/shadow/index.ts";
import { PipelineWorkerError } from "../../src/verify/worker/pipelineWorker.ts";

describe("verify's errors", () => {
  it("each carries its code, its metadata and its cause", () => {
    const cause = new Error("rpc down");
    const cases: [SentinelError, string, object][] = [
      [new PolicyError("policy.name", "must be a string"), "POLICY_INVALID", { field: "policy.name" }],
      [new PrerequisiteUnavailable("implementation code", cause), "PREREQUISITE_UNAVAILABLE", { prerequisite: "implementation code" }],
      [new EnrollmentNotChecked("no registry"), "ENROLLMENT_NOT_CHECKED", {}],
      [new ShadowDeploymentError("BLOCK_UNAVAILABLE", "no block 7", { cause }), "BLOCK_UNAVAILABLE", {}],
      [new BytecodeFormatError("code must be hex"), "BYTECODE_FORMAT", {}],
      [new CompilerUnavailableError("0.8.99", "not installed", []), "COMPILER_UNAVAILABLE", { version: "0.8.99" }],
      [new CompileTimeoutError("0.8.28+commit.7893614a", 10), "COMPILE_TIMEOUT", { version: "0.8.28+commit.7893614a" }],
      [new SourceCollectionError("SOURCE_NOT_FOUND", "a.sol", "source not found: a.sol"), "SOURCE_NOT_FOUND", { sourceUnitName: "a.sol" }],
      [new ContractNotInOutput("A.sol:A", "no contract A.sol:A"), "CONTRACT_NOT_IN_OUTPUT", { contract: "A.sol:A" }],
      [new PipelineWorkerError("WORKER_DIED", "the verification worker died"), "WORKER_DIED", {}],
    ];
    for (const [error, code, meta] of cases) {
      assert.ok(error instanceof SentinelError, error.name);
      assert.equal(error.code, code, error.name);
      assert.deepEqual(error.meta, meta, error.name);
      assert.ok(hasCode(error, code), error.name);
    }
    assert.equal(new PrerequisiteUnavailable("x", cause).cause, cause);
    assert.equal(new ShadowDeploymentError("CHECK_FAILED", "failed", { cause }).cause, cause);
  });

  it("an error that merely has the name or the code of one is not one", () => {
    const forged = Object.assign(new Error("trust me"), { name: "PrerequisiteUnavailable", code: "PREREQUISITE_UNAVAILABLE" });
    assert.equal(forged instanceof PrerequisiteUnavailable, false);
    assert.equal(hasCode(forged, "PREREQUISITE_UNAVAILABLE"), false);
    assert.equal(hasCode(new PolicyError("policy", "must be an object"), "PREREQUISITE_UNAVAILABLE"), false);
  });
});
