// The check pipeline with hand-made checks and a context over stub inputs: concurrency, failures
// and overruns ending in findings, skipped prerequisites, the policy's advisory checks, and the
// digest and reason bitmap a verdict signs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getAddress, keccak256, stringToHex, type Hex, type PublicClient } from "viem";
import { BUNDLE_SCHEMA, BundleFormatError, parseBundle, type SourceBundle } from "../../src/codec/bundle.ts";
import type { Candidate } from "../../src/codec/candidate.ts";
import { Outcome } from "../../src/codec/types.ts";
import { VerificationContext, type VerificationInputs } from "../../src/verify/context.ts";
import { PrerequisiteUnavailable } from "../../src/verify/errors.ts";
import { applyPolicy, EMPTY_CODEHASH, findingsDigest, runPipeline, type Check, type Finding } from "../../src/verify/pipeline.ts";
import { DEFAULT_POLICY, MANDATORY_CHECKS, parsePolicy, PolicyError, type CheckName, type Policy } from "../../src/codec/policy.ts";
import { reasonBitmap, ReasonCode, reasonsFromBitmap } from "../../src/verify/reasons.ts";
import { implementationCodeCheck, MAX_PINNED_BLOCK_AGE_SECONDS, policyCheck } from "../../src/verify/inputs/index.ts";
import { FIXED_CANDIDATE } from "../helpers/fixedCandidate.ts";

const CODE: Hex = "0x6080604052348015600e575f5ffd5b50";
const candidate: Candidate = FIXED_CANDIDATE;

function bundleWith(policy: Partial<Policy> = {}): SourceBundle {
  return parseBundle({
    schema: BUNDLE_SCHEMA,
    implementation: { compiler: "0.8.28+commit.7893614a", contract: "V2.sol:V2", input: { language: "Solidity", sources: { "V2.sol": { content: "contract V2 {}" } }, settings: {} } },
    reference: { contract: "V1.sol:V1" },
    upgradeCall: "0x",
    policy: { ...DEFAULT_POLICY, ...policy },
  });
}

interface StubOptions {
  bundle?: SourceBundle | Error;
  code?: Hex | Error;
  /** The pinned block's timestamp; default the candidate's creation time. */
  blockTimestamp?: bigint;
}

/** A context over stub inputs: a client with only getBlock and getCode, a given bundle, no compiler. */
function stubContext(options: StubOptions = {}): VerificationContext {
  const { bundle = bundleWith(), code = CODE, blockTimestamp = candidate.createdAt } = options;
  const client = {
    getBlock: async ({ blockNumber }: { blockNumber: bigint }) => ({ number: blockNumber, hash: keccak256(stringToHex(`block ${blockNumber}`)), timestamp: blockTimestamp }),
    getCode: async () => {
      if (code instanceof Error) throw code;
      return code;
    },
  } as unknown as PublicClient;
  const inputs: VerificationInputs = {
    candidateId: keccak256(stringToHex("candidate")),
    candidate,
    proposer: getAddress("0x3000000000000000000000000000000000000003"),
    client,
    rpcUrl: "http://127.0.0.1:1",
    loadBundle: async () => {
      if (bundle instanceof Error) throw bundle;
      return bundle;
    },
    compile: async () => {
      throw new Error("no compiler in this test");
    },
    compileExactly: async () => {
      throw new Error("no compiler in this test");
    },
    startFork: async () => {
      throw new Error("no fork in this test");
    },
  };
  return new VerificationContext(inputs);
}

/** A promise with its resolver outside: a latch the test opens. */
function latch<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** The runner treats check names as opaque: these tests use made-up ones as well as real ones. */
const named = (name: string): CheckName => name as CheckName;
const ok = (check: string, evidence?: Record<string, string>): Finding => ({ check: named(check), code: "OK", severity: "info", message: `${check} ok`, ...(evidence ? { evidence } : {}) });
const check = (name: string, run: Check["run"]): Check => ({ name: named(name), run });
const returns = (name: string, findings: Finding[]): Check => check(name, async () => findings);
const OPTIONS = { checkTimeoutMs: 5_000 };

describe("runPipeline", () => {
  it("runs every check at once: each waits for all to have started, which sequential runs would never see", async () => {
    const names = ["a", "b", "c", "d"];
    const events: string[] = [];
    const allStarted = latch();
    let started = 0;
    const checks = names.map((name) =>
      check(name, async () => {
        events.push(`start ${name}`);
        if (++started === names.length) allStarted.open();
        await allStarted.promise;
        events.push(`end ${name}`);
        return [ok(name)];
      }),
    );
    // Sequential runs would leave "a" waiting for the others: it would time out instead.
    const result = await runPipeline(stubContext(), checks, OPTIONS);
    assert.deepEqual(events.slice(0, 4), ["start a", "start b", "start c", "start d"]);
    assert.equal(result.outcome, Outcome.Approve);
    assert.deepEqual(result.findings.map((f) => f.code), ["OK", "OK", "OK", "OK"]);
    assert.deepEqual(Object.keys(result.timings).sort(), names);
  });

  it("reports findings in check order, whatever order they finish in", async () => {
    const gates = [latch(), latch(), latch()];
    const checks = ["first", "second", "third"].map((name, i) =>
      check(name, async () => {
        await gates[i]!.promise;
        return [ok(name)];
      }),
    );
    const running = runPipeline(stubContext(), checks, OPTIONS);
    for (const i of [2, 0, 1]) {
      gates[i]!.open();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const result = await running;
    assert.deepEqual(result.findings.map((f) => f.check), ["first", "second", "third"]);
  });

  it("a check that rejects becomes a CHECK_FAILED reject finding with the first line of its error", async () => {
    const result = await runPipeline(
      stubContext(),
      [
        returns("fine", [ok("fine")]),
        check("broken", async () => {
          throw new Error("rpc exploded\n    at secret/stack/frame.ts:1");
        }),
      ],
      OPTIONS,
    );
    assert.deepEqual(result.findings, [ok("fine"), { check: "broken", code: "CHECK_FAILED", severity: "reject", message: "failed: rpc exploded" }]);
    assert.equal(result.outcome, Outcome.Reject);
    assert.equal(result.reasons, 1n << BigInt(ReasonCode.CHECK_FAILED));
  });

  it("a check that throws synchronously, or throws a non-Error, ends the same way, not in a crash", async () => {
    const result = await runPipeline(
      stubContext(),
      [
        check("sync", () => {
          throw new TypeError("cannot read properties of undefined");
        }),
        check("string", () => Promise.reject("plain string")),
      ],
      OPTIONS,
    );
    assert.deepEqual(result.findings, [
      { check: "sync", code: "CHECK_FAILED", severity: "reject", message: "failed: cannot read properties of undefined" },
      { check: "string", code: "CHECK_FAILED", severity: "reject", message: "failed: plain string" },
    ]);
    assert.equal(result.outcome, Outcome.Reject);
  });

  it("a check that never answers becomes CHECK_TIMED_OUT after checkTimeoutMs; the others still report", async () => {
    const result = await runPipeline(stubContext(), [check("hangs", () => new Promise<Finding[]>(() => {})), returns("fine", [ok("fine")])], { checkTimeoutMs: 25 });
    assert.deepEqual(result.findings, [{ check: "hangs", code: "CHECK_TIMED_OUT", severity: "reject", message: "timed out after 25 ms" }, ok("fine")]);
    assert.equal(result.outcome, Outcome.Reject);
    assert.equal(result.reasons, 1n << BigInt(ReasonCode.CHECK_TIMED_OUT));
  });

  it("a check answering after its timeout changes nothing: the result is final", async () => {
    const late = latch();
    const answered = latch();
    const slow = check("slow", async () => {
      await late.promise;
      answered.open();
      return [{ check: named("slow"), code: "FORBIDDEN_OPCODE", severity: "reject", message: "late" }];
    });
    const result = await runPipeline(stubContext(), [slow], { checkTimeoutMs: 20 });
    const digest = result.findingsDigest;
    late.open();
    await answered.promise;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(result.findings.map((f) => f.code), ["CHECK_TIMED_OUT"]);
    assert.equal(result.findingsDigest, digest);
    assert.equal(result.reasons, 1n << BigInt(ReasonCode.CHECK_TIMED_OUT));
  });

  it("a prerequisite that fails: the check that needs it is SKIPPED (info); its owner alone reports the cause", async () => {
    let computed = 0;
    const shared = (context: VerificationContext) =>
      context.shared("thing", async () => {
        computed++;
        throw new Error("node unreachable");
      });
    const owner = check("owner", async (context) => {
      try {
        await shared(context);
        return [ok("owner")];
      } catch (error) {
        return [{ check: named("owner"), code: "BLOCK_UNAVAILABLE", severity: "reject", message: (error as Error).message }];
      }
    });
    const dependent = check("dependent", async (context) => {
      await context.need("the thing", () => shared(context));
      return [ok("dependent")];
    });
    const result = await runPipeline(stubContext(), [owner, dependent], OPTIONS);
    assert.deepEqual(result.findings[1], { check: "dependent", code: "SKIPPED", severity: "info", message: "skipped: the thing unavailable (reported by the check that owns it)" });
    assert.deepEqual(reasonsFromBitmap(result.reasons), ["BLOCK_UNAVAILABLE"], "the cause once, not every consequence");
    assert.equal(computed, 1, "a shared value is computed once per candidate");
  });

  it("a skipped check alone does not reject", async () => {
    const dependent = check("dependent", async (context) => {
      await context.need("source bundle", () => context.bundle());
      return [ok("dependent")];
    });
    const result = await runPipeline(stubContext({ bundle: new Error("no peer served it") }), [dependent], OPTIONS);
    assert.equal(result.findings[0]?.code, "SKIPPED");
    assert.equal(result.findings[0]?.severity, "info");
    assert.equal(result.outcome, Outcome.Approve);
    assert.equal(result.reasons, 0n);
  });

  it("an error merely named PrerequisiteUnavailable is a failure, not a skip (a forged skip)", async () => {
    const forged = check("forged", async () => {
      throw Object.assign(new Error("trust me"), { name: "PrerequisiteUnavailable", prerequisite: "anything" });
    });
    const real = check("real", async () => {
      throw new PrerequisiteUnavailable("code", new Error("gone"));
    });
    const result = await runPipeline(stubContext(), [forged, real], OPTIONS);
    assert.deepEqual(result.findings.map((f) => [f.check, f.code, f.severity]), [
      ["forged", "CHECK_FAILED", "reject"],
      ["real", "SKIPPED", "info"],
    ]);
  });

  it("the codehash is of the implementation's code, or of empty code when it has none or cannot be read", async () => {
    const none: Check[] = [];
    assert.equal((await runPipeline(stubContext(), none, OPTIONS)).codehash, keccak256(CODE));
    assert.equal((await runPipeline(stubContext({ code: "0x" }), none, OPTIONS)).codehash, EMPTY_CODEHASH);
    assert.equal((await runPipeline(stubContext({ code: new Error("timeout") }), none, OPTIONS)).codehash, EMPTY_CODEHASH);
    assert.equal(EMPTY_CODEHASH, keccak256("0x"));
  });

  it("an empty list of findings approves with no reasons", async () => {
    const result = await runPipeline(stubContext(), [], OPTIONS);
    assert.equal(result.outcome, Outcome.Approve);
    assert.equal(result.reasons, 0n);
    assert.equal(result.findingsDigest, keccak256(stringToHex("[]")));
  });
});

describe("policy: advisory checks", () => {
  const reject = (name: string, code: ReasonCode): Finding => ({ check: named(name), code, severity: "reject", message: `${name} failed` });
  const advisory = () => bundleWith({ checks: { bytecode: "advisory", "shadow-deployment": "advisory" } });

  it("a reject of an advisory check becomes a warning and approves, with no reason bits", async () => {
    const result = await runPipeline(stubContext({ bundle: advisory() }), [returns("bytecode", [reject("bytecode", "SELFDESTRUCT_REACHABLE")]), returns("source", [ok("source")])], OPTIONS);
    assert.deepEqual(result.findings[0], { ...reject("bytecode", "SELFDESTRUCT_REACHABLE"), severity: "warning" });
    assert.equal(result.outcome, Outcome.Approve);
    assert.equal(result.reasons, 0n);
  });

  it("the same reject under the strict policy rejects, with a different digest", async () => {
    const checks = [returns("bytecode", [reject("bytecode", "SELFDESTRUCT_REACHABLE")])];
    const strict = await runPipeline(stubContext(), checks, OPTIONS);
    const lenient = await runPipeline(stubContext({ bundle: advisory() }), checks, OPTIONS);
    assert.equal(strict.outcome, Outcome.Reject);
    assert.deepEqual(reasonsFromBitmap(strict.reasons), ["SELFDESTRUCT_REACHABLE"]);
    assert.notEqual(strict.findingsDigest, lenient.findingsDigest);
  });

  it("an advisory check's failure or timeout is a warning too; a required check's is not", async () => {
    const result = await runPipeline(
      stubContext({ bundle: advisory() }),
      [
        check("shadow-deployment", () => new Promise<Finding[]>(() => {})),
        check("bytecode", async () => {
          throw new Error("bad disassembly");
        }),
        check("storage-layout", async () => {
          throw new Error("bad layout");
        }),
      ],
      { checkTimeoutMs: 20 },
    );
    assert.deepEqual(result.findings.map((f) => [f.check, f.code, f.severity]), [
      ["shadow-deployment", "CHECK_TIMED_OUT", "warning"],
      ["bytecode", "CHECK_FAILED", "warning"],
      ["storage-layout", "CHECK_FAILED", "reject"],
    ]);
    assert.equal(result.outcome, Outcome.Reject);
    assert.deepEqual(reasonsFromBitmap(result.reasons), ["CHECK_FAILED"]);
  });

  it("info findings of an advisory check stay info; only rejects are softened", () => {
    const policy = advisory().policy;
    const findings: Finding[] = [ok("bytecode"), { check: "bytecode", code: "SKIPPED", severity: "info", message: "s" }, { check: "bytecode", code: "FORBIDDEN_OPCODE", severity: "warning", message: "w" }];
    assert.deepEqual(applyPolicy(findings, policy), findings);
  });

  it("without a bundle there is no policy: every check is required", async () => {
    const result = await runPipeline(stubContext({ bundle: new Error("unavailable") }), [returns("bytecode", [reject("bytecode", "SELFDESTRUCT_REACHABLE")])], OPTIONS);
    assert.equal(result.findings[0]?.severity, "reject");
    assert.equal(result.outcome, Outcome.Reject);
    assert.deepEqual(applyPolicy([reject("bytecode", "CODE_MISSING")], undefined), [reject("bytecode", "CODE_MISSING")]);
  });

  it("mandatory checks cannot be made advisory: the policy, and a bundle carrying it, do not parse", () => {
    for (const name of MANDATORY_CHECKS) {
      assert.throws(() => parsePolicy({ ...DEFAULT_POLICY, checks: { [name]: "advisory" } }), (error: unknown) => error instanceof PolicyError && error.field === `policy.checks.${name}`);
      assert.throws(() => bundleWith({ checks: { [name]: "advisory" } }), (error: unknown) => error instanceof BundleFormatError && error.field === "policy");
    }
  });

  it("a policy object that slipped past parsing still cannot soften a mandatory check by a prototype key", () => {
    const forged = { ...DEFAULT_POLICY, checks: Object.create({ source: "advisory" }) as Policy["checks"] };
    assert.deepEqual(applyPolicy([reject("source", "SOURCE_UNAVAILABLE")], forged)[0]?.severity, "reject");
  });
});

describe("findingsDigest", () => {
  const findings: Finding[] = [
    { check: "bytecode", code: "SELFDESTRUCT_REACHABLE", severity: "reject", message: "SELFDESTRUCT reachable at pc 12", evidence: { opcode: "SELFDESTRUCT", pc: "12" } },
    { check: "source", code: "OK", severity: "info", message: "source bundle available", evidence: { sourceHash: "0x01", compiler: "0.8.28" } },
    { check: "origin", code: "SKIPPED", severity: "info", message: "not checked" },
  ];
  const base = findingsDigest(findings);

  it("does not depend on the order of findings", () => {
    assert.equal(findingsDigest([...findings].reverse()), base);
    assert.equal(findingsDigest([findings[1]!, findings[2]!, findings[0]!]), base);
  });

  it("does not depend on the key order of a finding or of its evidence", () => {
    const reordered = findings.map((f) => {
      const evidence = f.evidence ? Object.fromEntries(Object.entries(f.evidence).reverse()) : undefined;
      return { ...(evidence ? { evidence } : {}), message: f.message, severity: f.severity, code: f.code, check: f.check } as Finding;
    });
    assert.equal(findingsDigest(reordered), base);
  });

  it("changes with any message, evidence, code, severity or check, and with a duplicated finding", () => {
    const variants: Finding[][] = [
      [{ ...findings[0]!, message: "SELFDESTRUCT reachable at pc 13" }, findings[1]!, findings[2]!],
      [{ ...findings[0]!, evidence: { opcode: "SELFDESTRUCT", pc: "13" } }, findings[1]!, findings[2]!],
      [{ ...findings[0]!, evidence: { opcode: "SELFDESTRUCT", pc: "12", extra: "" } }, findings[1]!, findings[2]!],
      [{ ...findings[0]!, evidence: { opcode: "SELFDESTRUCT" } }, findings[1]!, findings[2]!],
      [findings[0]!, findings[1]!, { ...findings[2]!, evidence: {} }],
      [{ ...findings[0]!, code: "FORBIDDEN_OPCODE" }, findings[1]!, findings[2]!],
      [{ ...findings[0]!, severity: "warning" }, findings[1]!, findings[2]!],
      [{ ...findings[0]!, check: "proxy-safety" }, findings[1]!, findings[2]!],
      [findings[0]!, findings[1]!],
      [...findings, findings[0]!],
      [],
    ];
    const digests = variants.map(findingsDigest);
    assert.ok(!digests.includes(base));
    assert.equal(new Set(digests).size, digests.length);
  });

  it("is not fooled by moving text between fields", () => {
    const a: Finding = { check: named("x"), code: "OK", severity: "info", message: "a,b", evidence: { k: "v" } };
    const b: Finding = { check: named("x"), code: "OK", severity: "info", message: "a", evidence: { k: "b,v" } };
    const c: Finding = { check: named("x"), code: "OK", severity: "info", message: "a", evidence: { "k,b": "v" } };
    assert.equal(new Set([findingsDigest([a]), findingsDigest([b]), findingsDigest([c])]).size, 3);
  });

  it("a pipeline's digest does not depend on which check finished first", async () => {
    const run = async (order: number[]) => {
      const gates = [latch(), latch()];
      const checks = [returns("x", []), returns("y", [])].map((c, i) =>
        check(["x", "y"][i]!, async () => {
          await gates[i]!.promise;
          return [{ check: c.name, code: "OK" as const, severity: "info" as const, message: c.name, evidence: { i: String(i) } }];
        }),
      );
      const running = runPipeline(stubContext(), checks, OPTIONS);
      for (const i of order) {
        gates[i]!.open();
        await new Promise((resolve) => setImmediate(resolve));
      }
      return running;
    };
    const [first, second] = [await run([0, 1]), await run([1, 0])];
    assert.equal(first.findingsDigest, second.findingsDigest);
  });
});

describe("reason bitmap", () => {
  const entries = Object.entries(ReasonCode) as [ReasonCode, number][];

  it("each code sets exactly its own bit, and bits are 0..n-1 without gaps or repeats", () => {
    for (const [code, bit] of entries) assert.equal(reasonBitmap([code]), 1n << BigInt(bit), code);
    assert.deepEqual(entries.map(([, bit]) => bit).sort((a, b) => a - b), entries.map((_, i) => i));
  });

  it("pins the on-chain bit positions of codes verdicts already carry", () => {
    assert.equal(ReasonCode.ORIGIN_INVALID, 0);
    assert.equal(ReasonCode.CHECK_TIMED_OUT, 3);
    assert.equal(ReasonCode.CHECK_FAILED, 4);
    assert.equal(ReasonCode.SOURCE_UNAVAILABLE, 5);
    assert.equal(ReasonCode.SELFDESTRUCT_REACHABLE, 12);
    assert.equal(ReasonCode.OZ_SELFDESTRUCT, 18);
    assert.equal(ReasonCode.BLOCK_UNAVAILABLE, 46);
  });

  it("a repeated code sets its bit once; no codes is zero", () => {
    assert.equal(reasonBitmap(["CHECK_FAILED", "CHECK_FAILED", "CODE_MISSING"]), (1n << 4n) | (1n << 1n));
    assert.equal(reasonBitmap([]), 0n);
  });

  it("round trips through reasonsFromBitmap, in bit order", () => {
    const all = entries.map(([code]) => code);
    assert.deepEqual(reasonsFromBitmap(reasonBitmap(all)), [...entries].sort((a, b) => a[1] - b[1]).map(([code]) => code));
    assert.deepEqual(reasonsFromBitmap(reasonBitmap(["OZ_SELFDESTRUCT", "SELFDESTRUCT_REACHABLE"])), ["SELFDESTRUCT_REACHABLE", "OZ_SELFDESTRUCT"]);
    assert.deepEqual(reasonsFromBitmap(0n), []);
  });

  it("names unknown bits by number, up to the top of a uint256", () => {
    const unknown = (1n << 100n) | (1n << 200n) | (1n << 255n) | 1n;
    assert.deepEqual(reasonsFromBitmap(unknown), ["ORIGIN_INVALID", "BIT_100", "BIT_200", "BIT_255"]);
    assert.equal(reasonsFromBitmap((1n << 256n) - 1n).length, 256);
  });

  it("a pipeline's reasons are the bits of its rejecting findings only (not warnings, OK or SKIPPED)", async () => {
    const result = await runPipeline(
      stubContext({ bundle: bundleWith({ checks: { bytecode: "advisory" } }) }),
      [
        returns("bytecode", [{ check: "bytecode", code: "DELEGATECALL_REACHABLE", severity: "reject", message: "softened" }]),
        returns("storage-layout", [{ check: "storage-layout", code: "STORAGE_INSERTED", severity: "reject", message: "x" }, { check: "storage-layout", code: "STORAGE_RENAMED", severity: "reject", message: "y" }]),
        returns("shadow-deployment", [{ check: "shadow-deployment", code: "INVARIANT_VIOLATED", severity: "info", message: "info only" }]),
      ],
      OPTIONS,
    );
    assert.deepEqual(reasonsFromBitmap(result.reasons), ["STORAGE_INSERTED", "STORAGE_RENAMED"]);
    assert.equal(result.reasons, reasonBitmap(["STORAGE_INSERTED", "STORAGE_RENAMED"]));
  });
});

describe("the pinned block", () => {
  it("may be up to an hour older than the candidate; older is PINNED_BLOCK_STALE, and no code is judged on it", async () => {
    const run = async (blockTimestamp: bigint) => (await implementationCodeCheck.run(stubContext({ blockTimestamp })))[0]!;
    assert.equal((await run(candidate.createdAt)).code, "OK");
    assert.equal((await run(candidate.createdAt - MAX_PINNED_BLOCK_AGE_SECONDS)).code, "OK");
    const stale = await run(candidate.createdAt - MAX_PINNED_BLOCK_AGE_SECONDS - 1n);
    assert.equal(stale.code, "PINNED_BLOCK_STALE");
    assert.equal(stale.severity, "reject");
    assert.equal(stale.evidence?.["blockTimestamp"], String(candidate.createdAt - MAX_PINNED_BLOCK_AGE_SECONDS - 1n));
  });
});

describe("policy check: the human gate", () => {
  const approvers = ["0x00000000000000000000000000000000000000aa", "0x00000000000000000000000000000000000000bb", "0x00000000000000000000000000000000000000cc"];

  it("a policy with a humanGate is no finding against the candidate: the gate comes after the report", async () => {
    const policy = parsePolicy({ ...DEFAULT_POLICY, requireHumanApproval: true, humanGate: { threshold: 2, approvers } });
    const findings = await policyCheck.run(stubContext({ bundle: bundleWith(policy) }));
    assert.equal(findings.some((f) => f.code === "HUMAN_APPROVAL_REQUIRED"), false);
    assert.match(findings[0]!.evidence?.["humanGate"] ?? "", /^2 of 3: /);
  });

  it("a legacy requireHumanApproval without approvers rejects, saying so", async () => {
    const findings = await policyCheck.run(stubContext({ bundle: bundleWith({ requireHumanApproval: true }) }));
    const gate = findings.find((f) => f.code === "HUMAN_APPROVAL_REQUIRED");
    assert.equal(gate?.severity, "reject");
    assert.match(gate!.message, /names no approvers/);
  });
});
