// Queries as SMT-LIB text: shared subterms defined once (a term doubled 200 times prints in
// linear size, not 2^200), deep chains printed without recursion, and z3's answers and models
// read back from text.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { smtlib, solve } from "../../../src/verify/capabilities/solver.ts";
import { Terms } from "../../../src/verify/capabilities/terms.ts";

describe("solver", { timeout: 60_000 }, () => {
  it("defines a shared subterm once: a term doubled 200 times stays small", async () => {
    const t = new Terms();
    let x = t.variable("x");
    for (let i = 0; i < 200; i++) x = t.apply("add", x, x);
    const query = { all: [{ kind: "nonzero" as const, term: t.apply("eq", x, t.constant(0n)), holds: false }] };
    assert.ok(smtlib(query).length < 20_000);
    assert.equal((await solve(query, [])).result, "sat");
  });

  it("prints a chain 20,000 deep without overflowing the stack", () => {
    const t = new Terms();
    let x = t.variable("x");
    for (let i = 0; i < 20_000; i++) x = t.apply("xor", x, t.constant(BigInt(i + 1)));
    assert.ok(smtlib({ all: [{ kind: "nonzero", term: x, holds: true }] }).includes("(assert"));
  });

  it("answers sat with the model's value, unsat, and unknown at an exhausted limit", async () => {
    const t = new Terms();
    const caller = t.variable("caller");
    const only = { kind: "equal" as const, a: caller, b: t.constant(0xbeefn), holds: true };
    const sat = await solve({ all: [only] }, ["caller"]);
    assert.deepEqual([sat.result, sat.values.get("caller")], ["sat", 0xbeefn]);
    assert.equal((await solve({ all: [only, { kind: "ult", a: caller, b: t.constant(0xbeefn) }] }, [])).result, "unsat");
    const hard = t.apply("mul", t.apply("mul", t.variable("p"), t.variable("q")), t.variable("r"));
    const factor = { kind: "equal" as const, a: hard, b: t.constant(0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc5n), holds: true };
    assert.equal((await solve({ all: [factor] }, [], 1)).result, "unknown");
  });

  it("reads the empty disjunction as false and an empty group as true", async () => {
    assert.equal((await solve({ all: [{ kind: "any", groups: [] }] }, [])).result, "unsat");
    assert.equal((await solve({ all: [{ kind: "any", groups: [[]] }] }, [])).result, "sat");
  });
});
