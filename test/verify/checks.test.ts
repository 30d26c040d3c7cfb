// The pipeline's checks: one per name of CHECK_NAMES, in its order, each named as it is listed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CHECK_NAMES } from "../../src/codec/policy.ts";
import { standardChecks } from "../../src/verify/checks.ts";

describe("standardChecks", () => {
  it("has one check per name, in CHECK_NAMES's order, each answering to its own name", () => {
    assert.deepEqual(
      standardChecks().map((check) => check.name),
      [...CHECK_NAMES],
    );
  });

  it("gives a fresh list each time: a caller cannot reorder another's", () => {
    const first = standardChecks();
    first.reverse();
    assert.notDeepEqual(first.map((check) => check.name), standardChecks().map((check) => check.name));
    assert.equal(standardChecks()[0]!.name, "origin");
  });
});
