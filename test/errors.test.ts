// The one error base: every area's error is a SentinelError with a code, typed metadata and its
// cause, matched by code (never by name), and described in one line.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AdmissionError } from "../src/admission/admission.ts";
import { UsageError } from "../src/cli/errors.ts";
import { AttestationFormatError } from "../src/codec/attestation.ts";
import { BundleFormatError } from "../src/codec/bundle.ts";
import { ConfigError } from "../src/config/errors.ts";
import { AttestationError } from "../src/consensus/validation/attestation.ts";
import { VerdictError } from "../src/consensus/validation/verdict.ts";
import { DataDirLockedError } from "../src/db/database.ts";
import { describeError, hasCode, SentinelError } from "../src/errors.ts";
import { GossipActionError, NetworkError } from "../src/network/errors.ts";

describe("SentinelError", () => {
  it("every area's error is one, with its own code", () => {
    const cause = new Error("locked");
    const errors: [SentinelError, string][] = [
      [new AdmissionError("DUPLICATE", "seen"), "DUPLICATE"],
      [new UsageError("missing --rpc"), "USAGE"],
      [new AttestationFormatError("WRONG_LENGTH", "short"), "WRONG_LENGTH"],
      [new BundleFormatError("sources", "empty"), "INVALID_BUNDLE"],
      [new ConfigError("INVALID_JSON", [{ path: "", message: "not JSON" }]), "INVALID_JSON"],
      [new AttestationError("OTHER_SET", "set 2"), "OTHER_SET"],
      [new VerdictError("BAD_SIGNATURE", "forged"), "BAD_SIGNATURE"],
      [new DataDirLockedError("/data", cause), "DATA_DIR_LOCKED"],
      [new NetworkError("STOPPED", "stopped"), "STOPPED"],
    ];
    for (const [error, code] of errors) {
      assert.ok(error instanceof SentinelError, error.name);
      assert.equal(error.code, code);
      assert.ok(hasCode(error, code));
      assert.ok(!hasCode(error, "SOME_OTHER_CODE"));
    }
    assert.equal(errors.find(([e]) => e instanceof DataDirLockedError)?.[0].cause, cause);
  });

  it("carries typed metadata, frozen, and serialises without the stack", () => {
    const error = new BundleFormatError("sources", "empty");
    assert.deepEqual(error.meta, { field: "sources", reason: "empty" });
    assert.equal(error.field, "sources");
    assert.ok(Object.isFrozen(error.meta));
    assert.deepEqual(JSON.parse(JSON.stringify(error)), { code: "INVALID_BUNDLE", message: "sources: empty", meta: { field: "sources", reason: "empty" } });
  });

  it("gossip validation errors carry their action", () => {
    assert.ok(new VerdictError("ALREADY_COUNTED", "again") instanceof GossipActionError);
    assert.equal(new VerdictError("ALREADY_COUNTED", "again").action, "ignore");
    assert.equal(new AttestationError("WRONG_NETWORK", "other").action, "reject");
    assert.equal(new AdmissionError("CHAIN_UNAVAILABLE", "down").action, "ignore");
  });

  it("describeError: code and message for ours, the message for others, anything else as a string", () => {
    assert.equal(describeError(new UsageError("missing --rpc")), "USAGE: missing --rpc");
    assert.equal(describeError(new Error("boom")), "boom");
    assert.equal(describeError("plain"), "plain");
    assert.equal(hasCode(new Error("x")), false);
  });
});
