// Policy as code: the default and a minimal policy accepted with their defaults filled in, the
// hash bound to every field and to nothing else, and each invalid field refused by its path.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getAddress } from "viem";
import {
  CHECK_NAMES,
  checkMode,
  DEFAULT_POLICY,
  FORBIDDABLE_OPCODES,
  MANDATORY_CHECKS,
  MAX_INVARIANTS,
  parsePolicy,
  POLICY_SCHEMA,
  PolicyError,
  policyHash,
  type Policy,
} from "../../src/codec/policy.ts";

const SUPPLY = "function totalSupply() view returns (uint256)";
const TOKEN = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

/** A fresh, valid, untrusted policy document each time, using every field. */
function rawPolicy(): Record<string, any> {
  return {
    schema: POLICY_SCHEMA,
    name: "acme-vault",
    version: 3,
    checks: { "shadow-deployment": "advisory", bytecode: "required" },
    forbiddenOpcodes: ["SELFDESTRUCT", "DELEGATECALL"],
    allowSelectorRemoval: true,
    allowAdminChange: false,
    requireHumanApproval: false,
    invariants: [
      { name: "supply", function: SUPPLY, args: [], relation: "unchanged" },
      { name: "owner-balance", function: "function balanceOf(address owner) external view returns (uint256 balance)", args: [TOKEN], to: TOKEN, relation: "gte" },
      { name: "paused", function: "function paused() pure returns (bool)", args: [], relation: "eq", value: "false" },
    ],
  };
}

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
  }
  return value;
}

/** Asserts that parsing `input` throws a PolicyError naming `field`, its message matching `message`. */
function refuses(input: unknown, field: string, message?: RegExp): void {
  assert.throws(
    () => parsePolicy(input),
    (error: unknown) => {
      assert.ok(error instanceof PolicyError, `expected PolicyError, got ${String(error)}`);
      assert.equal(error.field, field, error.message);
      assert.ok(error.message.startsWith(`${field}: `), error.message);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

function withPolicy(mutate: (raw: Record<string, any>) => void): Record<string, any> {
  const raw = rawPolicy();
  mutate(raw);
  return raw;
}

describe("parsePolicy: accepted documents", () => {
  it("the default policy is its own parsed form, with the same hash", () => {
    const parsed = parsePolicy(DEFAULT_POLICY);
    assert.deepEqual(parsed, { ...DEFAULT_POLICY });
    assert.equal(policyHash(parsed), policyHash(DEFAULT_POLICY));
    // And the same through JSON, as it arrives inside a bundle.
    assert.equal(policyHash(parsePolicy(JSON.parse(JSON.stringify(DEFAULT_POLICY)))), policyHash(DEFAULT_POLICY));
  });

  it("the default policy is the strict one: nothing advisory, nothing allowed, SELFDESTRUCT and CALLCODE forbidden", () => {
    assert.deepEqual(DEFAULT_POLICY.checks, {});
    assert.deepEqual([...DEFAULT_POLICY.forbiddenOpcodes].sort(), ["CALLCODE", "SELFDESTRUCT"]);
    assert.equal(DEFAULT_POLICY.allowSelectorRemoval, false);
    assert.equal(DEFAULT_POLICY.allowAdminChange, false);
    assert.equal(DEFAULT_POLICY.requireHumanApproval, false);
    for (const check of CHECK_NAMES) assert.equal(checkMode(DEFAULT_POLICY, check), "required");
  });

  it("a minimal policy gets the defaults: it is the default policy when named and numbered as it", () => {
    const minimal = parsePolicy({ schema: POLICY_SCHEMA, name: "sentinel-default", version: 1 });
    assert.deepEqual(minimal, { ...DEFAULT_POLICY });
    assert.equal(policyHash(minimal), policyHash(DEFAULT_POLICY));
    const other = parsePolicy({ schema: POLICY_SCHEMA, name: "mine", version: 7 });
    assert.deepEqual(other, { ...DEFAULT_POLICY, name: "mine", version: 7 });
  });

  it("an explicit empty forbiddenOpcodes list forbids nothing (it is not defaulted)", () => {
    const none = parsePolicy({ schema: POLICY_SCHEMA, name: "sentinel-default", version: 1, forbiddenOpcodes: [] });
    assert.deepEqual(none.forbiddenOpcodes, []);
    assert.notEqual(policyHash(none), policyHash(DEFAULT_POLICY));
  });

  it("a full policy keeps every field, normalises `to` to its checksum and fills args", () => {
    const raw = rawPolicy();
    delete raw.invariants[0].args;
    const policy = parsePolicy(raw);
    assert.deepEqual(policy.checks, { "shadow-deployment": "advisory", bytecode: "required" });
    assert.deepEqual(policy.forbiddenOpcodes, ["DELEGATECALL", "SELFDESTRUCT"]);
    assert.equal(policy.allowSelectorRemoval, true);
    assert.deepEqual(policy.invariants[0], { name: "supply", function: SUPPLY, args: [], relation: "unchanged" });
    assert.equal(policy.invariants[1]?.to, getAddress(TOKEN));
    assert.equal(policy.invariants[2]?.value, "false");
    assert.equal("to" in policy.invariants[0]!, false, "an absent `to` stays absent");
    // parsePolicy is idempotent.
    assert.deepEqual(parsePolicy(policy), policy);
  });

  it("every non-mandatory check may be advisory; mandatory ones may be listed as required", () => {
    for (const check of CHECK_NAMES) {
      const mode = MANDATORY_CHECKS.includes(check) ? "required" : "advisory";
      const policy = parsePolicy({ schema: POLICY_SCHEMA, name: "p", version: 1, checks: { [check]: mode } });
      assert.equal(checkMode(policy, check), mode);
    }
  });

  it("accepts the bounds: a 100-character name, a 64-character invariant name, 32 invariants, the largest safe version", () => {
    const invariants = Array.from({ length: MAX_INVARIANTS }, (_, i) => ({ name: `i${i}`, function: SUPPLY, relation: "gte" }));
    invariants[0]!.name = "n".repeat(64);
    const policy = parsePolicy({ schema: POLICY_SCHEMA, name: "x".repeat(100), version: Number.MAX_SAFE_INTEGER, invariants });
    assert.equal(policy.invariants.length, MAX_INVARIANTS);
    assert.equal(policy.version, Number.MAX_SAFE_INTEGER);
  });

  it("accepts the function shapes the invariant runner can call", () => {
    for (const fn of [
      SUPPLY,
      "function totalSupply() external view returns (uint256)",
      "function balanceOf(address) view returns (uint256 balance)",
      "function paused() pure returns (bool)",
      "function owner() view returns (address)",
      "function root() view returns (bytes32)",
      "function delta() view returns (int128)",
      "function get(uint256 a, address b) view returns (uint8)",
    ]) {
      assert.equal(parsePolicy({ schema: POLICY_SCHEMA, name: "p", version: 1, invariants: [{ name: "i", function: fn, relation: "gte" }] }).invariants[0]?.function, fn);
    }
  });
});

describe("policyHash", () => {
  it("does not depend on key order or formatting", () => {
    const policy = parsePolicy(rawPolicy());
    assert.equal(policyHash(parsePolicy(reverseKeys(rawPolicy()))), policyHash(policy));
    assert.equal(policyHash(parsePolicy(JSON.parse(JSON.stringify(rawPolicy(), null, 3)))), policyHash(policy));
    assert.equal(policyHash(reverseKeys(policy) as Policy), policyHash(policy));
  });

  it("de-duplicates and sorts opcodes: a duplicated or reordered list hashes as the clean one", () => {
    const base = { schema: POLICY_SCHEMA, name: "p", version: 1 };
    const clean = parsePolicy({ ...base, forbiddenOpcodes: ["CALLCODE", "SELFDESTRUCT"] });
    for (const list of [
      ["SELFDESTRUCT", "CALLCODE"],
      ["CALLCODE", "SELFDESTRUCT", "CALLCODE"],
      ["SELFDESTRUCT", "SELFDESTRUCT", "CALLCODE", "SELFDESTRUCT"],
    ]) {
      const parsed = parsePolicy({ ...base, forbiddenOpcodes: list });
      assert.deepEqual(parsed.forbiddenOpcodes, ["CALLCODE", "SELFDESTRUCT"]);
      assert.equal(policyHash(parsed), policyHash(clean));
    }
    assert.deepEqual(parsePolicy({ ...base, forbiddenOpcodes: [...FORBIDDABLE_OPCODES].reverse() }).forbiddenOpcodes, ["CALLCODE", "DELEGATECALL", "SELFDESTRUCT"]);
  });

  it("a checksummed and a lower-case `to` hash the same (both parse to the checksum)", () => {
    const lower = parsePolicy(rawPolicy());
    const upper = parsePolicy(withPolicy((raw) => (raw.invariants[1].to = getAddress(TOKEN))));
    assert.equal(policyHash(upper), policyHash(lower));
  });

  it("changes with any field", () => {
    const base = policyHash(parsePolicy(rawPolicy()));
    const mutations: ((raw: Record<string, any>) => void)[] = [
      (raw) => (raw.name = "acme-vault2"),
      (raw) => (raw.version = 4),
      (raw) => (raw.checks = { bytecode: "required" }),
      (raw) => (raw.checks = { "shadow-deployment": "advisory" }),
      (raw) => (raw.checks["storage-layout"] = "advisory"),
      (raw) => (raw.forbiddenOpcodes = ["SELFDESTRUCT"]),
      (raw) => (raw.forbiddenOpcodes = ["SELFDESTRUCT", "DELEGATECALL", "CALLCODE"]),
      (raw) => (raw.allowSelectorRemoval = false),
      (raw) => (raw.allowAdminChange = true),
      (raw) => (raw.requireHumanApproval = true),
      (raw) => raw.invariants.pop(),
      (raw) => raw.invariants.reverse(), // invariant order is kept, and hashed
      (raw) => (raw.invariants[0].name = "supply2"),
      (raw) => (raw.invariants[0].relation = "gte"),
      (raw) => (raw.invariants[1].args = ["0x0000000000000000000000000000000000000001"]),
      (raw) => delete raw.invariants[1].to,
      (raw) => (raw.invariants[1].value = "1"),
      (raw) => (raw.invariants[2].value = "true"),
      (raw) => (raw.invariants[2].function = "function paused() view returns (bool)"),
    ];
    const hashes = mutations.map((mutate) => policyHash(parsePolicy(withPolicy(mutate))));
    for (const [i, hash] of hashes.entries()) assert.notEqual(hash, base, `mutation ${i} left the hash unchanged`);
    assert.equal(new Set(hashes).size, hashes.length, "two different policies share a hash");
  });
});

describe("parsePolicy: each invalid field by its path", () => {
  it("not an object", () => {
    for (const input of [null, undefined, [], "policy", 1, true]) refuses(input, "policy", /must be an object/);
  });

  it("unknown fields, at the root and in an invariant", () => {
    refuses({ ...rawPolicy(), extra: 1 }, "policy.extra", /unknown field/);
    refuses({ ...rawPolicy(), forbiddenOpCodes: [] }, "policy.forbiddenOpCodes", /unknown field/);
    refuses(withPolicy((raw) => (raw.invariants[2].description = "x")), "policy.invariants[2].description", /unknown field/);
  });

  it("a missing or wrong schema, including another document's", () => {
    for (const schema of [undefined, "sentinel.policy/2", "sentinel.bundle/1", "Sentinel.Policy/1", 1]) {
      refuses({ ...rawPolicy(), schema }, "policy.schema", /must be "sentinel.policy\/1"/);
    }
  });

  it("a name empty, oversized or not a string", () => {
    for (const name of ["", "x".repeat(101), 42, undefined, ["a"]]) refuses({ ...rawPolicy(), name }, "policy.name", /1 to 100 characters/);
  });

  it("version 0, negative, fractional, a string, or beyond safe integers", () => {
    for (const version of [0, -1, 1.5, "1", 2 ** 53, Number.NaN, Infinity, undefined, null]) {
      refuses({ ...rawPolicy(), version }, "policy.version", /integer ≥ 1/);
    }
  });

  it("unknown check names, including near misses and prototype keys", () => {
    refuses(withPolicy((raw) => (raw.checks = { bogus: "required" })), "policy.checks.bogus", /unknown check/);
    refuses(withPolicy((raw) => (raw.checks = { Bytecode: "advisory" })), "policy.checks.Bytecode", /unknown check/);
    refuses(withPolicy((raw) => (raw.checks = { "storage-layout ": "advisory" })), "policy.checks.storage-layout ", /unknown check/);
    refuses(withPolicy((raw) => (raw.checks = JSON.parse('{"__proto__":"advisory"}'))), "policy.checks.__proto__", /unknown check/);
    refuses(withPolicy((raw) => (raw.checks = { constructor: "advisory" })), "policy.checks.constructor", /unknown check/);
    refuses(withPolicy((raw) => (raw.checks = ["bytecode"])), "policy.checks", /must be an object/);
  });

  it("a check mode other than required or advisory", () => {
    for (const mode of ["off", "Advisory", "", true, null, 0]) {
      refuses(withPolicy((raw) => (raw.checks = { bytecode: mode })), "policy.checks.bytecode", /"required" or "advisory"/);
    }
  });

  it("every mandatory check made advisory", () => {
    assert.deepEqual([...MANDATORY_CHECKS].sort(), ["implementation-code", "origin", "policy", "reproducible-build", "source"]);
    for (const check of MANDATORY_CHECKS) {
      refuses(withPolicy((raw) => (raw.checks = { bytecode: "advisory", [check]: "advisory" })), `policy.checks.${check}`, /cannot be advisory/);
    }
  });

  it("unknown opcodes, by index; a non-array list", () => {
    refuses(withPolicy((raw) => (raw.forbiddenOpcodes = ["SELFDESTRUCT", "STATICCALL"])), "policy.forbiddenOpcodes[1]", /must be one of SELFDESTRUCT, CALLCODE, DELEGATECALL/);
    refuses(withPolicy((raw) => (raw.forbiddenOpcodes = ["selfdestruct"])), "policy.forbiddenOpcodes[0]");
    refuses(withPolicy((raw) => (raw.forbiddenOpcodes = ["CALLCODE", "CALLCODE", 0xff])), "policy.forbiddenOpcodes[2]");
    refuses(withPolicy((raw) => (raw.forbiddenOpcodes = ["SELFDESTRUCT "])), "policy.forbiddenOpcodes[0]");
    refuses(withPolicy((raw) => (raw.forbiddenOpcodes = "SELFDESTRUCT")), "policy.forbiddenOpcodes", /must be an array/);
    refuses(withPolicy((raw) => (raw.forbiddenOpcodes = { 0: "SELFDESTRUCT", length: 1 })), "policy.forbiddenOpcodes", /must be an array/);
  });

  it("flags that are not booleans", () => {
    refuses({ ...rawPolicy(), allowSelectorRemoval: "true" }, "policy.allowSelectorRemoval", /true or false/);
    refuses({ ...rawPolicy(), allowAdminChange: 1 }, "policy.allowAdminChange", /true or false/);
    refuses({ ...rawPolicy(), requireHumanApproval: null }, "policy.requireHumanApproval", /true or false/);
  });

  it("more than 32 invariants, or not a list", () => {
    const invariants = Array.from({ length: MAX_INVARIANTS + 1 }, (_, i) => ({ name: `i${i}`, function: SUPPLY, relation: "gte" }));
    refuses({ ...rawPolicy(), invariants }, "policy.invariants", /at most 32/);
    refuses({ ...rawPolicy(), invariants: { supply: {} } }, "policy.invariants", /must be an array/);
    refuses({ ...rawPolicy(), invariants: [null] }, "policy.invariants[0]", /must be an object/);
  });

  it("duplicate invariant names (a replayed invariant), named at the second", () => {
    refuses(withPolicy((raw) => raw.invariants.push({ ...raw.invariants[0] })), "policy.invariants[3].name", /"supply" is used twice/);
    refuses(withPolicy((raw) => (raw.invariants[2].name = "owner-balance")), "policy.invariants[2].name", /used twice/);
  });

  it("invariant names empty, oversized or with other characters", () => {
    for (const name of ["", "n".repeat(65), "has space", "semi;colon", "ünï", 7, undefined]) {
      refuses(withPolicy((raw) => (raw.invariants[0].name = name)), "policy.invariants[0].name", /1 to 64/);
    }
  });

  it("bad function signatures: two return values, non-view, missing returns, dynamic returns, extra text", () => {
    for (const fn of [
      "function f() view returns (uint256, uint256)",
      "function f() returns (uint256)",
      "function f() nonpayable returns (uint256)",
      "function f() payable returns (uint256)",
      "function f() view",
      "function f() view returns ()",
      "function f() view returns (string)",
      "function f() view returns (bytes)",
      "function f() view returns (uint256[])",
      "function f() view returns ((uint256))",
      "function f() view returns (uint256) ",
      " function f() view returns (uint256)",
      "function f() view returns (uint256)\n",
      "f() view returns (uint256)",
      "event Transfer(address,address,uint256)",
      "function 1f() view returns (uint256)",
      "function f(uint256 (x)) view returns (uint256)",
      "function f() internal view returns (uint256)",
      "",
      42,
      undefined,
    ]) {
      refuses(withPolicy((raw) => (raw.invariants[0].function = fn)), "policy.invariants[0].function", /one view function returning one value/);
    }
  });

  it("args that are not a list of strings", () => {
    refuses(withPolicy((raw) => (raw.invariants[1].args = TOKEN)), "policy.invariants[1].args", /must be an array/);
    refuses(withPolicy((raw) => (raw.invariants[1].args = [TOKEN, 5])), "policy.invariants[1].args[1]", /must be a string/);
    refuses(withPolicy((raw) => (raw.invariants[1].args = [null])), "policy.invariants[1].args[0]", /must be a string/);
  });

  it("an unknown relation", () => {
    for (const relation of ["ne", "EQ", "", undefined, 1]) {
      refuses(withPolicy((raw) => (raw.invariants[0].relation = relation)), "policy.invariants[0].relation", /unchanged, eq, gte, lte/);
    }
  });

  it("eq without a value, unchanged with one, a value that is not a string", () => {
    refuses(withPolicy((raw) => delete raw.invariants[2].value), "policy.invariants[2].value", /required with relation "eq"/);
    refuses(withPolicy((raw) => (raw.invariants[0].value = "0")), "policy.invariants[0].value", /no meaning with relation "unchanged"/);
    refuses(withPolicy((raw) => (raw.invariants[2].value = 0)), "policy.invariants[2].value", /must be a string/);
    refuses(withPolicy((raw) => (raw.invariants[2].value = false)), "policy.invariants[2].value", /must be a string/);
    // gte and lte take a value or compare with before.
    assert.equal(parsePolicy(withPolicy((raw) => (raw.invariants[1].value = "10"))).invariants[1]?.value, "10");
  });

  it("a bad `to` address: truncated, oversized, not hex, not a string", () => {
    for (const to of ["0x123", `${TOKEN}00`, TOKEN.slice(0, -1), TOKEN.slice(2), "0xzz00000000000000000000000000000000000000", "vitalik.eth", 42, null]) {
      refuses(withPolicy((raw) => (raw.invariants[1].to = to)), "policy.invariants[1].to", /must be an address/);
    }
  });
});

describe("checkMode", () => {
  const policy = parsePolicy({ ...rawPolicy(), checks: { "shadow-deployment": "advisory", bytecode: "required" } });

  it("reads the policy's mode and defaults every unlisted check to required", () => {
    assert.equal(checkMode(policy, "shadow-deployment"), "advisory");
    assert.equal(checkMode(policy, "bytecode"), "required");
    assert.equal(checkMode(policy, "storage-layout"), "required");
    assert.equal(checkMode(policy, "origin"), "required");
  });

  it("an unknown name is required, including names of Object.prototype's members", () => {
    for (const name of ["nonexistent", "", "constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
      assert.equal(checkMode(policy, name), "required", name);
      assert.equal(checkMode(DEFAULT_POLICY, name), "required", name);
    }
  });
});

describe("the human gate section", () => {
  const A = "0x00000000000000000000000000000000000000bb";
  const B = "0x00000000000000000000000000000000000000aa";
  const C = "0x00000000000000000000000000000000000000cc";

  it("parses m-of-k approvers, ascending and checksummed, and implies requireHumanApproval", () => {
    const policy = parsePolicy({ ...rawPolicy(), requireHumanApproval: undefined, humanGate: { threshold: 2, approvers: [A, B, C], windowSeconds: 3600 } });
    assert.deepEqual(policy.humanGate, { threshold: 2, approvers: [B, A, C].map((a) => getAddress(a)), windowSeconds: 3600 });
    assert.equal(policy.requireHumanApproval, true);
    // The same approvers in another order are the same policy, by hash.
    const reordered = parsePolicy({ ...rawPolicy(), requireHumanApproval: undefined, humanGate: { threshold: 2, approvers: [C, A, B], windowSeconds: 3600 } });
    assert.equal(policyHash(reordered), policyHash(policy));
    // The approvers and the threshold are part of the hash the authority enrolls.
    assert.notEqual(policyHash(parsePolicy({ ...rawPolicy(), requireHumanApproval: true, humanGate: { threshold: 1, approvers: [A, B, C], windowSeconds: 3600 } })), policyHash(policy));
    assert.notEqual(policyHash(parsePolicy({ ...rawPolicy(), requireHumanApproval: true, humanGate: { threshold: 2, approvers: [A, B], windowSeconds: 3600 } })), policyHash(policy));
  });

  it("leaves a policy without one as it was (no key, same hash)", () => {
    assert.equal("humanGate" in parsePolicy(rawPolicy()), false);
    assert.equal("humanGate" in DEFAULT_POLICY, false);
  });

  it("refuses bad thresholds, approvers and windows, naming the field", () => {
    const gate = (humanGate: unknown, extra: object = {}) => ({ ...rawPolicy(), ...extra, humanGate });
    refuses(gate({ threshold: 0, approvers: [A] }), "policy.humanGate.threshold");
    refuses(gate({ threshold: 3, approvers: [A, B] }), "policy.humanGate.threshold", /1 to the number of approvers \(2\)/);
    refuses(gate({ threshold: 1.5, approvers: [A, B] }), "policy.humanGate.threshold");
    refuses(gate({ threshold: 1, approvers: [] }), "policy.humanGate.approvers", /1 to 32/);
    refuses(gate({ threshold: 1, approvers: Array.from({ length: 33 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}`) }), "policy.humanGate.approvers", /1 to 32/);
    refuses(gate({ threshold: 1, approvers: [A, "0x12"] }), "policy.humanGate.approvers[1]", /address/);
    refuses(gate({ threshold: 1, approvers: [A, A.toUpperCase().replace("0X", "0x")] }), "policy.humanGate.approvers[1]", /twice/);
    refuses(gate({ threshold: 1, approvers: [A], windowSeconds: 10 }), "policy.humanGate.windowSeconds");
    refuses(gate({ threshold: 1, approvers: [A], who: 1 }), "policy.humanGate.who", /unknown field/);
    refuses(gate([A]), "policy.humanGate", /object/);
    refuses(gate({ threshold: 1, approvers: [A] }, { requireHumanApproval: false }), "policy.requireHumanApproval", /cannot be false/);
  });
});

describe("parsePolicy: the behaviour check's fields", () => {
  const ALICE = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
  const probe = () => ({ name: "pay", from: ALICE, function: "function transfer(address to, uint256 amount)", args: [ALICE, "1"] });
  const withBehaviour = (fields: Record<string, unknown>) => ({ ...rawPolicy(), ...fields });

  it("are absent from the default and from a policy that does not set them, so existing hashes stay as they were", () => {
    assert.equal("probes" in DEFAULT_POLICY, false);
    assert.equal("intendedChanges" in parsePolicy(rawPolicy()), false);
    assert.equal("latentSteps" in parsePolicy(rawPolicy()), false);
  });

  it("are kept when set, `from` checksummed, and bound by the hash", () => {
    const policy = parsePolicy(
      withBehaviour({
        probes: [{ ...probe(), value: "5", repeat: 16 }, { ...probe(), name: "deposit", function: "function deposit() external payable", args: [] }],
        intendedChanges: ["transfer(address,uint256)", "swap((address,uint256),bytes)"],
        latentSteps: [{ seconds: 86_400, blocks: 64 }, { seconds: 365 * 86_400, blocks: 20_000 }],
      }),
    );
    assert.equal(policy.probes?.[0]?.from, getAddress(ALICE));
    assert.equal(policy.probes?.[0]?.repeat, 16);
    assert.deepEqual(policy.intendedChanges, ["transfer(address,uint256)", "swap((address,uint256),bytes)"]);
    assert.equal(policy.latentSteps?.length, 2);
    assert.notEqual(policyHash(policy), policyHash(parsePolicy(withBehaviour({ ...policy, intendedChanges: ["transfer(address,uint256)"] }))));
    assert.notEqual(policyHash(policy), policyHash(parsePolicy(withBehaviour({ ...policy, latentSteps: [{ seconds: 86_400, blocks: 64 }] }))));
  });

  it("refuses malformed probes by their path", () => {
    refuses(withBehaviour({ probes: {} }), "policy.probes", /must be an array/);
    refuses(withBehaviour({ probes: Array.from({ length: 17 }, (_, i) => ({ ...probe(), name: `p${i}` })) }), "policy.probes", /at most 16/);
    refuses(withBehaviour({ probes: [probe(), probe()] }), "policy.probes[1].name", /used twice/);
    refuses(withBehaviour({ probes: [{ ...probe(), extra: 1 }] }), "policy.probes[0].extra", /unknown field/);
    refuses(withBehaviour({ probes: [{ ...probe(), name: "" }] }), "policy.probes[0].name");
    refuses(withBehaviour({ probes: [{ ...probe(), from: `${ALICE}00` }] }), "policy.probes[0].from");
    refuses(withBehaviour({ probes: [{ ...probe(), from: 7 }] }), "policy.probes[0].from");
    refuses(withBehaviour({ probes: [{ ...probe(), function: "transfer(address,uint256)" }] }), "policy.probes[0].function");
    refuses(withBehaviour({ probes: [{ ...probe(), function: "function transfer(address to, uint256 amount); selfdestruct" }] }), "policy.probes[0].function");
    refuses(withBehaviour({ probes: [{ ...probe(), function: `function f(${"uint256,".repeat(60)}uint256)` }] }), "policy.probes[0].function");
    refuses(withBehaviour({ probes: [{ ...probe(), args: [1] }] }), "policy.probes[0].args[0]");
    refuses(withBehaviour({ probes: [{ ...probe(), value: "-1" }] }), "policy.probes[0].value");
    refuses(withBehaviour({ probes: [{ ...probe(), value: "1".repeat(79) }] }), "policy.probes[0].value");
    refuses(withBehaviour({ probes: [{ ...probe(), value: 5 }] }), "policy.probes[0].value");
    for (const repeat of [0, 17, 1.5, "2"]) refuses(withBehaviour({ probes: [{ ...probe(), repeat }] }), "policy.probes[0].repeat");
  });

  it("refuses intended changes that are not function signatures, or too many", () => {
    refuses(withBehaviour({ intendedChanges: "transfer(address,uint256)" }), "policy.intendedChanges", /must be an array/);
    for (const bad of ["transfer", "function transfer(address,uint256)", "transfer(address,uint256) ", "0xa9059cbb", 7, `f(${"a".repeat(200)})`]) {
      refuses(withBehaviour({ intendedChanges: [bad] }), "policy.intendedChanges[0]");
    }
    refuses(withBehaviour({ intendedChanges: Array.from({ length: 65 }, (_, i) => `f${i}()`) }), "policy.intendedChanges", /at most 64/);
  });

  it("refuses latent steps out of bounds, out of order, or with more blocks than their time holds", () => {
    refuses(withBehaviour({ latentSteps: [{ seconds: 0, blocks: 1 }] }), "policy.latentSteps[0].seconds");
    refuses(withBehaviour({ latentSteps: [{ seconds: 11 * 365 * 86_400, blocks: 1 }] }), "policy.latentSteps[0].seconds");
    refuses(withBehaviour({ latentSteps: [{ seconds: 86_400, blocks: 0 }] }), "policy.latentSteps[0].blocks");
    refuses(withBehaviour({ latentSteps: [{ seconds: 365 * 86_400, blocks: 20_001 }] }), "policy.latentSteps[0].blocks");
    refuses(withBehaviour({ latentSteps: [{ seconds: 100, blocks: 10 }] }), "policy.latentSteps[0].seconds", /12 × blocks/);
    refuses(withBehaviour({ latentSteps: [{ seconds: 86_400, blocks: 64, extra: 1 }] }), "policy.latentSteps[0].extra");
    refuses(withBehaviour({ latentSteps: [{ seconds: 86_400, blocks: 64 }, { seconds: 86_400, blocks: 65 }] }), "policy.latentSteps[1]", /come after/);
    refuses(withBehaviour({ latentSteps: [{ seconds: 86_400, blocks: 64 }, { seconds: 2 * 86_400, blocks: 64 }] }), "policy.latentSteps[1]", /come after/);
    refuses(withBehaviour({ latentSteps: [{ seconds: 86_400, blocks: 64 }, { seconds: 86_500, blocks: 100 }] }), "policy.latentSteps[1]", /12 s more per block/);
    refuses(withBehaviour({ latentSteps: Array.from({ length: 7 }, (_, i) => ({ seconds: 86_400 * (i + 1), blocks: i + 1 })) }), "policy.latentSteps", /at most 6/);
  });
});
