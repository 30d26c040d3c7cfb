// Canonical JSON and the source bundle codec: every accepted document, then its forged, duplicated,
// truncated, oversized and wrong-domain twins, each refused with the field it names.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keccak256, stringToHex, toBytes } from "viem";
import { canonicalJson, CanonicalJsonError, contentHash } from "../../src/codec/canonicalJson.ts";
import {
  BUNDLE_SCHEMA,
  BundleFormatError,
  bundleHash,
  decodeBundle,
  encodeBundle,
  MAX_BUNDLE_BYTES,
  parseBundle,
  referenceBuild,
} from "../../src/codec/bundle.ts";
import { DEFAULT_POLICY, POLICY_SCHEMA } from "../../src/codec/policy.ts";

const COMPILER = "0.8.28+commit.7893614a";

/** A fresh, valid, untrusted bundle document each time (tests mutate it). */
function rawBundle(): Record<string, any> {
  return {
    schema: BUNDLE_SCHEMA,
    implementation: {
      compiler: COMPILER,
      contract: "src/VaultV2.sol:VaultV2",
      input: {
        language: "Solidity",
        sources: {
          "src/VaultV2.sol": { content: "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\ncontract VaultV2 { uint256 x; }\n" },
          "src/VaultV1.sol": { content: "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\ncontract VaultV1 { uint256 x; }\n" },
        },
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
      },
    },
    reference: { contract: "src/VaultV1.sol:VaultV1" },
    upgradeCall: "0x",
    policy: structuredClone({ ...DEFAULT_POLICY }),
  };
}

/** The same document with every object's keys in reverse order, at every depth. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
  }
  return value;
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Asserts that `fn` throws a BundleFormatError naming `field`, with the message matching `message`. */
function rejects(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof BundleFormatError, `expected BundleFormatError, got ${String(error)}`);
    assert.equal(error.field, field, error.message);
    assert.ok(error.message.startsWith(`${field}: `), error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe("canonicalJson", () => {
  it("sorts keys at every depth, writes no whitespace, and keeps array order", () => {
    const value = { b: 1, a: { z: [3, 1, 2], y: { d: null, c: true } }, "": "empty" };
    assert.equal(canonicalJson(value), '{"":"empty","a":{"y":{"c":true,"d":null},"z":[3,1,2]},"b":1}');
    assert.equal(canonicalJson(reverseKeys(value)), canonicalJson(value));
    assert.equal(canonicalJson(JSON.parse(JSON.stringify(value, null, 4))), canonicalJson(value));
  });

  it("orders keys by UTF-16 code units, not by code point or locale", () => {
    // U+1F600 is the surrogate pair D83D DE00: below U+FFFF in code units, above it in code points.
    const value = { "\uFFFF": 1, "\u{1F600}": 2, "é": 3, a: 4, Z: 5, B: 6, "a\u0000": 7 };
    const keys = Object.keys(JSON.parse(canonicalJson(value)) as object);
    assert.deepEqual(keys, ["B", "Z", "a", "a\u0000", "é", "\u{1F600}", "\uFFFF"]);
    // localeCompare would put "a" before "B" and "é" next to "a": canonical order must not.
    assert.notDeepEqual(keys, Object.keys(value).sort((x, y) => x.localeCompare(y)));
  });

  it("escapes strings exactly as JSON.stringify does, keys included", () => {
    const value = { 'k"\\\n': "v\u2028\"\t", "\ud800": "lone surrogate" };
    assert.equal(canonicalJson(value), `{${JSON.stringify('k"\\\n')}:${JSON.stringify("v\u2028\"\t")},${JSON.stringify("\ud800")}:"lone surrogate"}`);
    assert.deepEqual(JSON.parse(canonicalJson(value)), value);
  });

  it("drops undefined fields, so an absent and an undefined field hash the same", () => {
    assert.equal(canonicalJson({ a: undefined, b: 1, c: { d: undefined } }), '{"b":1,"c":{}}');
    assert.equal(contentHash({ a: undefined, b: 1 }), contentHash({ b: 1 }));
    // null is a value, not an absence.
    assert.notEqual(contentHash({ a: null, b: 1 }), contentHash({ b: 1 }));
  });

  it("keeps a __proto__ key that JSON.parse made an own property", () => {
    const parsed = JSON.parse('{"__proto__":{"x":1},"a":2}') as unknown;
    assert.equal(canonicalJson(parsed), '{"__proto__":{"x":1},"a":2}');
    assert.notEqual(contentHash(parsed), contentHash({ a: 2 }));
  });

  it("accepts safe integers at the bounds and writes -0 as 0", () => {
    assert.equal(canonicalJson([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, -0, 0]), "[9007199254740991,-9007199254740991,0,0]");
  });

  const refused: [string, unknown, string][] = [
    ["a float", { a: { b: [0, 1.5] } }, "$.a.b[1]"],
    ["NaN", { n: NaN }, "$.n"],
    ["Infinity", [Infinity], "$[0]"],
    ["-Infinity", { x: [{ y: -Infinity }] }, "$.x[0].y"],
    ["2^53 (not a safe integer)", { big: 2 ** 53 }, "$.big"],
    ["-(2^53)", { big: -(2 ** 53) }, "$.big"],
    ["1e21", { e: 1e21 }, "$.e"],
    ["a function", { f: () => 1 }, "$.f"],
    ["a bigint", { n: { m: 1n } }, "$.n.m"],
    ["a symbol", { s: Symbol("s") }, "$.s"],
    ["undefined in an array (JSON.stringify would write null)", [1, undefined], "$[1]"],
    ["undefined itself", undefined, "$"],
  ];
  for (const [what, value, path] of refused) {
    it(`refuses ${what}, naming the path ${path}`, () => {
      assert.throws(
        () => canonicalJson(value),
        (error: unknown) => error instanceof CanonicalJsonError && error.message.startsWith(`${path}: `),
      );
      assert.throws(() => contentHash(value), CanonicalJsonError);
    });
  }

  it("contentHash is keccak256 of the canonical UTF-8 bytes, stable across formatting", () => {
    const value = { name: "ünïcode ✓", list: [1, 2, 3], nested: { b: false, a: "x" } };
    const expected = keccak256(toBytes(canonicalJson(value)));
    assert.equal(contentHash(value), expected);
    assert.equal(contentHash(reverseKeys(value)), expected);
    assert.equal(contentHash(JSON.parse(JSON.stringify(value, null, "\t"))), expected);
    assert.equal(contentHash({}), keccak256(stringToHex("{}")));
  });

  it("contentHash separates values of different type or shape (wrong-domain twins)", () => {
    const hashes = [
      contentHash({ a: 1 }),
      contentHash({ a: "1" }),
      contentHash({ a: true }),
      contentHash({ a: [1] }),
      contentHash({ a: null }),
      contentHash(["x"]),
      contentHash({ 0: "x" }),
      contentHash({ a: 1, b: 1 }),
      contentHash({ "a,b": 1 }),
    ];
    assert.equal(new Set(hashes).size, hashes.length);
  });
});

describe("source bundle codec", () => {
  it("parses a valid bundle into exactly its fields", () => {
    const bundle = parseBundle(rawBundle());
    assert.equal(bundle.schema, BUNDLE_SCHEMA);
    assert.equal(bundle.implementation.compiler, COMPILER);
    assert.equal(bundle.implementation.contract, "src/VaultV2.sol:VaultV2");
    assert.deepEqual(Object.keys(bundle.implementation.input.sources).sort(), ["src/VaultV1.sol", "src/VaultV2.sol"]);
    assert.deepEqual(bundle.reference, { contract: "src/VaultV1.sol:VaultV1" });
    assert.equal(bundle.upgradeCall, "0x");
    assert.deepEqual(bundle.policy, { ...DEFAULT_POLICY });
  });

  it("round trips: decode(encode(b)) = b, byte for byte, and the hash is keccak256 of the encoding", () => {
    const bundle = parseBundle({ ...rawBundle(), upgradeCall: "0x8129fc1c" });
    const encoded = encodeBundle(bundle);
    const decoded = decodeBundle(encoded);
    assert.deepEqual(decoded, bundle);
    assert.deepEqual(encodeBundle(decoded), encoded);
    assert.equal(bundleHash(bundle), keccak256(encoded));
    assert.equal(bundleHash(decoded), bundleHash(bundle));
    assert.equal(new TextDecoder().decode(encoded), canonicalJson(bundle));
  });

  it("hashes a re-formatted bundle (whitespace, key order, CRLF) as the canonical one", () => {
    const canonical = bundleHash(parseBundle(rawBundle()));
    const pretty = JSON.stringify(reverseKeys(rawBundle()), null, 2).replaceAll("\n", "\r\n");
    const decoded = decodeBundle(bytes(` \t${pretty}\n `));
    assert.equal(bundleHash(decoded), canonical);
    assert.deepEqual(encodeBundle(decoded), encodeBundle(parseBundle(rawBundle())));
  });

  it("hashes what was parsed: upper-case upgradeCall hex and omitted policy defaults are normalised", () => {
    const lower = parseBundle({ ...rawBundle(), upgradeCall: "0xabcdef" });
    const upper = parseBundle({ ...rawBundle(), upgradeCall: "0xABCDEF" });
    assert.equal(upper.upgradeCall, "0xabcdef");
    assert.equal(bundleHash(upper), bundleHash(lower));
    const minimalPolicy = parseBundle({ ...rawBundle(), policy: { schema: POLICY_SCHEMA, name: DEFAULT_POLICY.name, version: DEFAULT_POLICY.version } });
    assert.equal(bundleHash(minimalPolicy), bundleHash(parseBundle(rawBundle())));
  });

  it("hashes any change: a byte of source, a setting, the call, the reference, the policy", () => {
    const base = bundleHash(parseBundle(rawBundle()));
    const variants: ((raw: Record<string, any>) => void)[] = [
      (raw) => (raw.implementation.input.sources["src/VaultV2.sol"].content += " "),
      (raw) => (raw.implementation.input.settings.optimizer.runs = 201),
      (raw) => (raw.implementation.input.settings.evmVersion = "paris"),
      (raw) => (raw.implementation.compiler = "0.8.26+commit.8a97fa7a"),
      (raw) => (raw.upgradeCall = "0x00"),
      (raw) => (raw.reference.contract = "src/VaultV2.sol:VaultV2"),
      (raw) => (raw.reference.compiler = COMPILER),
      (raw) => (raw.policy.version = 2),
      (raw) => (raw.policy.forbiddenOpcodes = ["SELFDESTRUCT"]),
    ];
    const hashes = variants.map((mutate) => {
      const raw = rawBundle();
      mutate(raw);
      return bundleHash(parseBundle(raw));
    });
    assert.ok(!hashes.includes(base));
    assert.equal(new Set(hashes).size, hashes.length);
  });

  it("a duplicated key: the last one wins, and the hash names what was parsed, not the first", () => {
    const text = canonicalJson(parseBundle(rawBundle())).replace('"upgradeCall":"0x"', '"upgradeCall":"0x","upgradeCall":"0xdeadbeef"');
    const decoded = decodeBundle(bytes(text));
    assert.equal(decoded.upgradeCall, "0xdeadbeef");
    assert.notEqual(bundleHash(decoded), bundleHash(parseBundle(rawBundle())));
    assert.notEqual(bundleHash(decoded), keccak256(bytes(text)), "the raw bytes are not the content address");
  });

  describe("referenceBuild", () => {
    it("defaults the reference's compiler and input to the implementation's", () => {
      const bundle = parseBundle(rawBundle());
      const build = referenceBuild(bundle);
      assert.deepEqual(build, { contract: "src/VaultV1.sol:VaultV1", compiler: COMPILER, input: bundle.implementation.input });
    });

    it("uses the reference's own compiler and input when given", () => {
      const raw = rawBundle();
      const input = { language: "Solidity", sources: { "old/V1.sol": { content: "contract VaultV1 {}" } }, settings: {} };
      raw.reference = { contract: "old/V1.sol:VaultV1", compiler: "0.8.20+commit.a1b79de6", input };
      const build = referenceBuild(parseBundle(raw));
      assert.deepEqual(build, { contract: "old/V1.sol:VaultV1", compiler: "0.8.20+commit.a1b79de6", input });
    });

    it("takes a given compiler alone, with the implementation's input", () => {
      const raw = rawBundle();
      raw.reference.compiler = "0.8.24+commit.e11b9ed9";
      const bundle = parseBundle(raw);
      assert.equal(referenceBuild(bundle).compiler, "0.8.24+commit.e11b9ed9");
      assert.deepEqual(referenceBuild(bundle).input, bundle.implementation.input);
    });
  });

  describe("rejections name the field", () => {
    it("not an object, at the root and at each level", () => {
      for (const root of [null, [], "bundle", 42, true]) rejects(() => parseBundle(root), "bundle", /must be an object/);
      for (const [field, value] of [["implementation", null], ["implementation", []], ["reference", "src/V1.sol:V1"]] as const) {
        rejects(() => parseBundle({ ...rawBundle(), [field]: value }), field, /must be an object/);
      }
      const raw = rawBundle();
      raw.implementation.input = "{}";
      rejects(() => parseBundle(raw), "implementation.input", /must be an object/);
    });

    it("unknown fields at the root, in implementation and in reference", () => {
      rejects(() => parseBundle({ ...rawBundle(), signature: "0x" }), "bundle.signature", /unknown field/);
      const impl = rawBundle();
      impl.implementation.version = "2";
      rejects(() => parseBundle(impl), "implementation.version", /unknown field/);
      const ref = rawBundle();
      ref.reference.address = "0x0000000000000000000000000000000000000001";
      rejects(() => parseBundle(ref), "reference.address", /unknown field/);
      const pol = rawBundle();
      pol.policy.extra = true;
      rejects(() => parseBundle(pol), "policy", /policy\.extra: unknown field/);
    });

    it("unknown keys of the standard-JSON input are dropped, not hashed (build-info inputs carry extras)", () => {
      const raw = rawBundle();
      raw.implementation.input.basePath = "/home/me/project";
      const bundle = parseBundle(raw);
      assert.deepEqual(Object.keys(bundle.implementation.input).sort(), ["language", "settings", "sources"]);
      assert.equal(bundleHash(bundle), bundleHash(parseBundle(rawBundle())));
    });

    it("a missing or wrong schema, including another document's", () => {
      for (const schema of [undefined, "sentinel.bundle/2", "sentinel.bundle/1 ", "SENTINEL.BUNDLE/1", POLICY_SCHEMA, 1]) {
        rejects(() => parseBundle({ ...rawBundle(), schema }), "schema", /must be "sentinel.bundle\/1"/);
      }
      // A policy document where a bundle is expected: refused, not mistaken for one.
      rejects(() => parseBundle({ ...DEFAULT_POLICY }), "bundle.name", /unknown field/);
    });

    const badCompilers: unknown[] = [
      undefined,
      28,
      "",
      "0.8.28",
      "v0.8.28+commit.7893614a",
      "0.8.28+commit.7893614", // truncated commit
      "0.8.28+commit.7893614a0", // oversized commit
      "0.8.28+commit.7893614A", // upper-case hex
      "0.8.28+commit.7893614a.Emscripten.clang",
      "0.8.28-nightly.2024.10.1+commit.7893614a",
      " 0.8.28+commit.7893614a",
      "0.8.28+commit.7893614a\n",
      "0.8+commit.7893614a",
      "latest",
    ];
    it("bad compiler version strings, for the implementation and the reference", () => {
      for (const compiler of badCompilers) {
        const impl = rawBundle();
        impl.implementation.compiler = compiler;
        rejects(() => parseBundle(impl), "implementation.compiler", /full solc version/);
        const ref = rawBundle();
        ref.reference.compiler = compiler ?? null;
        rejects(() => parseBundle(ref), "reference.compiler", /full solc version/);
      }
    });

    const badContracts: unknown[] = [
      undefined,
      "",
      "VaultV2",
      "src/VaultV2.sol",
      "src/VaultV2.sol:",
      "src/VaultV2:VaultV2",
      "src/VaultV2.vy:VaultV2",
      ":VaultV2",
      ".sol:VaultV2",
      "src/VaultV2.sol:2Vault",
      "src/VaultV2.sol:Vault V2",
      "src/VaultV2.sol:VaultV2\n",
      "a:b.sol:VaultV2",
      "src/VaultV2.sol:VaultV2:Extra",
      ["src/VaultV2.sol:VaultV2"],
    ];
    it('contract names without ":" or ".sol" or with a bad identifier', () => {
      for (const contract of badContracts) {
        const impl = rawBundle();
        impl.implementation.contract = contract;
        rejects(() => parseBundle(impl), "implementation.contract", /fully qualified name/);
        const ref = rawBundle();
        ref.reference.contract = contract;
        rejects(() => parseBundle(ref), "reference.contract", /fully qualified name/);
      }
      // The accepted shapes next to them.
      for (const contract of ["V.sol:V", "contracts/a b/Vault.sol:$Vault_2", "@scope/pkg/X.sol:_X"]) {
        const raw = rawBundle();
        raw.implementation.contract = contract;
        assert.equal(parseBundle(raw).implementation.contract, contract);
      }
    });

    it("a source with urls instead of content, or no source object at all", () => {
      const urls = rawBundle();
      urls.implementation.input.sources["src/VaultV2.sol"] = { urls: ["https://example.com/VaultV2.sol"] };
      rejects(() => parseBundle(urls), "implementation.input.sources[src/VaultV2.sol].content", /urls are not fetched/);
      const numeric = rawBundle();
      numeric.implementation.input.sources["src/VaultV2.sol"] = { content: 42 };
      rejects(() => parseBundle(numeric), "implementation.input.sources[src/VaultV2.sol].content");
      const text = rawBundle();
      text.implementation.input.sources["src/VaultV2.sol"] = "contract VaultV2 {}";
      rejects(() => parseBundle(text), "implementation.input.sources[src/VaultV2.sol]", /must be an object/);
      const none = rawBundle();
      delete none.implementation.input.sources;
      rejects(() => parseBundle(none), "implementation.input.sources", /must be an object/);
      const refUrls = rawBundle();
      refUrls.reference.input = { language: "Solidity", sources: { "V1.sol": { urls: ["ipfs://x"] } }, settings: {} };
      rejects(() => parseBundle(refUrls), "reference.input.sources[V1.sol].content", /urls are not fetched/);
    });

    it("a language other than Solidity, settings that are not an object", () => {
      for (const language of ["Yul", "solidity", undefined, "SolidityAST"]) {
        const raw = rawBundle();
        raw.implementation.input.language = language;
        rejects(() => parseBundle(raw), "implementation.input.language", /must be "Solidity"/);
      }
      const settings = rawBundle();
      settings.implementation.input.settings = [];
      rejects(() => parseBundle(settings), "implementation.input.settings", /must be an object/);
      const missing = rawBundle();
      delete missing.implementation.input.settings;
      assert.deepEqual(parseBundle(missing).implementation.input.settings, {});
    });

    it("settings or source entries that canonical JSON cannot hash (floats, huge integers)", () => {
      const float = rawBundle();
      float.implementation.input.settings.optimizer.runs = 200.5;
      rejects(() => parseBundle(float), "implementation.input.settings", /optimizer\.runs: 200\.5 is not a safe integer/);
      const huge = rawBundle();
      huge.implementation.input.settings.optimizer.runs = 2 ** 64;
      rejects(() => parseBundle(huge), "implementation.input.settings", /not a safe integer/);
      const inSource = rawBundle();
      inSource.implementation.input.sources["src/VaultV1.sol"].weight = 0.5;
      rejects(() => parseBundle(inSource), "implementation.input.sources[src/VaultV1.sol]", /weight: 0\.5 is not a safe integer/);
      const inReference = rawBundle();
      inReference.reference.input = { language: "Solidity", sources: {}, settings: { x: Number.POSITIVE_INFINITY } };
      rejects(() => parseBundle(inReference), "reference.input.settings", /not a safe integer/);
      // From bytes: 1e400 parses to Infinity.
      const text = canonicalJson(parseBundle(rawBundle())).replace('"runs":200', '"runs":1e400');
      rejects(() => decodeBundle(bytes(text)), "implementation.input.settings", /not a safe integer/);
    });

    const badCalls: unknown[] = [undefined, null, "", "0", "0x0", "0xabc", "abcd", "0Xabcd", "0xzz", "0x 12", "0x12\n", 0x12, ["0x12"]];
    it("upgradeCall that is not 0x-prefixed hex of whole bytes", () => {
      for (const upgradeCall of badCalls) {
        rejects(() => parseBundle({ ...rawBundle(), upgradeCall }), "upgradeCall", /whole bytes/);
      }
      assert.equal(parseBundle({ ...rawBundle(), upgradeCall: "0x" }).upgradeCall, "0x");
    });

    it("a bad policy inside, with the policy's own path in the message", () => {
      const version = rawBundle();
      version.policy.version = 0;
      rejects(() => parseBundle(version), "policy", /policy\.version: must be an integer ≥ 1/);
      const advisory = rawBundle();
      advisory.policy.checks = { source: "advisory" };
      rejects(() => parseBundle(advisory), "policy", /policy\.checks\.source: cannot be advisory/);
      rejects(() => parseBundle({ ...rawBundle(), policy: undefined }), "policy", /policy: must be an object/);
      // A bundle where a policy is expected: the wrong domain.
      rejects(() => parseBundle({ ...rawBundle(), policy: rawBundle() }), "policy", /policy\.implementation: unknown field/);
    });
  });

  describe("decodeBundle on untrusted bytes", () => {
    it("refuses more bytes than any node accepts or serves, before parsing them", () => {
      rejects(() => decodeBundle(new Uint8Array(MAX_BUNDLE_BYTES + 1).fill(0x20)), "bundle", /above/);
    });
    it("refuses invalid UTF-8: a stray byte, an overlong encoding, a lone surrogate's bytes", () => {
      const valid = encodeBundle(parseBundle(rawBundle()));
      const at = valid.indexOf(0x22); // the first quote
      for (const bad of [[0xff], [0xc0, 0xbb], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
        const corrupted = new Uint8Array([...valid.slice(0, at + 1), ...bad, ...valid.slice(at + 1)]);
        rejects(() => decodeBundle(corrupted), "bundle", /not UTF-8 JSON/);
      }
    });

    it("refuses truncated JSON at any cut", () => {
      const valid = encodeBundle(parseBundle(rawBundle()));
      for (const cut of [0, 1, 17, Math.floor(valid.length / 2), valid.length - 2, valid.length - 1]) {
        rejects(() => decodeBundle(valid.slice(0, cut)), "bundle", /not UTF-8 JSON/);
      }
    });

    it("refuses trailing garbage and two concatenated bundles (a replayed twin)", () => {
      const text = canonicalJson(parseBundle(rawBundle()));
      rejects(() => decodeBundle(bytes(`${text}${text}`)), "bundle", /not UTF-8 JSON/);
      rejects(() => decodeBundle(bytes(`${text},`)), "bundle", /not UTF-8 JSON/);
    });

    it("refuses JSON that is not an object", () => {
      for (const text of ["[]", "null", '"sentinel.bundle/1"', "42", "true", `[${canonicalJson(parseBundle(rawBundle()))}]`]) {
        rejects(() => decodeBundle(bytes(text)), "bundle", /must be an object/);
      }
    });

    it("accepts the same bundle with non-ASCII source text, hashing its UTF-8 bytes", () => {
      const raw = rawBundle();
      raw.implementation.input.sources["src/VaultV2.sol"].content = "// ünïcödé ✓ \u{1F600}\ncontract VaultV2 {}";
      const bundle = parseBundle(raw);
      const decoded = decodeBundle(encodeBundle(bundle));
      assert.equal(decoded.implementation.input.sources["src/VaultV2.sol"]?.content, raw.implementation.input.sources["src/VaultV2.sol"].content);
      assert.equal(bundleHash(decoded), bundleHash(bundle));
      assert.notEqual(bundleHash(bundle), bundleHash(parseBundle(rawBundle())));
    });
  });
});

