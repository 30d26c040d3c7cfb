// Policy as code: what a protocol requires of its upgrades. A policy is a JSON document checked
// against the schema below, content-addressed (its hash is enrolled in the registry by the
// upgrade authority and signed inside every verdict), and strict by default: every check
// required, nothing the defaults do not allow.
//
// The schema lives in codec/, not verify/: a policy is a content-addressed document that travels
// inside the bundle (codec/bundle.ts parses it) and whose hash is signed, like the bundle and the
// candidate. The check names are part of that document (its `checks` keys), so their one list is
// here too; the pipeline, its findings and the policy engine (verify/pipeline.ts) import it.
//
// Over 500 lines because the signed document is one schema: every field with its bounds and its
// error is read in one file, as a protocol team and a reviewer read the policy they enroll.
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { SentinelError } from "../errors.ts";
import { contentHash } from "./canonicalJson.ts";

export const POLICY_SCHEMA = "sentinel.policy/1";

/** Every check the pipeline runs, by its stable name, in report order. */
export const CHECK_NAMES = [
  "origin",
  "policy",
  "source",
  "implementation-code",
  "reproducible-build",
  "bytecode",
  "upgrade-safety",
  "storage-layout",
  "proxy-safety",
  "shadow-deployment",
  "access-control",
  "behaviour",
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** Checks no policy can make advisory: without them a verdict says nothing about the code. */
export const MANDATORY_CHECKS: readonly CheckName[] = ["origin", "policy", "source", "implementation-code", "reproducible-build"];

export type CheckMode = "required" | "advisory";

/** Opcodes a policy may forbid when reachable in the new implementation. */
export const FORBIDDABLE_OPCODES = ["SELFDESTRUCT", "CALLCODE", "DELEGATECALL"] as const;
export type ForbiddableOpcode = (typeof FORBIDDABLE_OPCODES)[number];

export type InvariantRelation = "unchanged" | "eq" | "gte" | "lte";

/**
 * A view call evaluated on the shadow fork before and after the upgrade.
 * - unchanged: after = before
 * - eq: after = value
 * - gte / lte: after ≥ / ≤ value, or ≥ / ≤ before when no value is given
 */
export interface Invariant {
  name: string;
  /** Human-readable ABI of one view function returning one value: "function totalSupply() view returns (uint256)". */
  function: string;
  /** Arguments as strings: decimal integers, 0x hex for addresses and bytes, "true"/"false". */
  args: string[];
  /** The contract called; the proxy being upgraded when absent. */
  to?: Address;
  relation: InvariantRelation;
  value?: string;
}

export interface Policy {
  schema: typeof POLICY_SCHEMA;
  /** For people: which protocol this policy is for. */
  name: string;
  /** Incremented by the protocol on every change; informational, the hash is what binds. */
  version: number;
  /** Checks not listed are required. */
  checks: Partial<Record<CheckName, CheckMode>>;
  forbiddenOpcodes: ForbiddableOpcode[];
  allowSelectorRemoval: boolean;
  allowAdminChange: boolean;
  /**
   * After the automated checks pass, the verdict also waits for human approvers. True with a
   * `humanGate` (which names them); true without one is a legacy document that names no
   * approvers, so nothing can satisfy it: the policy check rejects with HUMAN_APPROVAL_REQUIRED.
   */
  requireHumanApproval: boolean;
  invariants: Invariant[];
  /**
   * m-of-k designated approvers (docs/approvals.md). Absent, not empty, when unused: the parsed
   * form of every policy written before the gate existed, and so its hash, stays what it was.
   */
  humanGate?: HumanGate;
  // The behaviour check's three fields are optional and absent from the default, so that adding
  // them left the default policy's hash (and every enrolled policy's) unchanged.
  /** Calls the behaviour check makes on the proxy under both implementations, next to the chain's recent transactions. */
  probes?: BehaviourProbe[];
  /** Functions whose behaviour the upgrade is meant to change, as signatures: "transfer(address,uint256)". */
  intendedChanges?: string[];
  /** How far the behaviour check moves the fork's clock and blocks past the upgrade (absent: its defaults). */
  latentSteps?: LatentStep[];
  /**
   * What the access-control check does when its analysis hits a bound (absent: "reject"). Optional,
   * and absent from the default, so that adding it left the default policy's hash unchanged.
   */
  capabilityUnknown?: CapabilityUnknownMode;
  /**
   * Capabilities the upgrade is meant to open to non-authorities, as "signature" (every capability
   * of that function) or "signature:kind" (one kind, src/verify/capabilities/effects.ts).
   */
  intendedCapabilities?: string[];
}

export type CapabilityUnknownMode = "reject" | "warn";

/** A call on the proxy, sent as `from` (impersonated on the fork), `repeat` times in a row. */
export interface BehaviourProbe {
  name: string;
  from: Address;
  /** Human-readable ABI of one function: "function transfer(address to, uint256 amount)". */
  function: string;
  /** Arguments as strings, as an invariant's. */
  args: string[];
  /** Wei sent with each call, decimal. */
  value?: string;
  /** 1 to MAX_PROBE_REPEAT; each repetition is compared, so a trigger counting calls shows. */
  repeat?: number;
}

/** A point after the upgrade: `seconds` later, `blocks` blocks later (blocks are mined one by one, so they cost). */
export interface LatentStep {
  seconds: number;
  blocks: number;
}

/** Who must approve an upgrade after the automated checks, and until when. */
export interface HumanGate {
  /** m: distinct approvers needed. */
  threshold: number;
  /** The k approvers: EOAs (ECDSA) or contract wallets such as a Safe (ERC-1271); checksummed, ascending. */
  approvers: Address[];
  /**
   * Approvals are gathered until the candidate's createdAt plus this many seconds (at most its
   * expiry less the node's closing margin); absent, until that margin before expiry.
   */
  windowSeconds?: number;
}

export const MAX_APPROVERS = 32;

export const MAX_INVARIANTS = 32;
export const MAX_INTENDED_CAPABILITIES = 64;
export const MAX_PROBES = 16;
export const MAX_PROBE_REPEAT = 16;
export const MAX_INTENDED_CHANGES = 64;
export const MAX_LATENT_STEPS = 6;
/** Mining a block costs the fork about 0.7 ms: past this the check would outgrow its time bound. */
export const MAX_LATENT_BLOCKS = 20_000;
/** Ten years. */
export const MAX_LATENT_SECONDS = 10 * 365 * 86_400;

/** The policy of a target whose authority enrolled none (policy hash zero): everything strict. */
export const DEFAULT_POLICY: Policy = Object.freeze({
  schema: POLICY_SCHEMA,
  name: "sentinel-default",
  version: 1,
  checks: {},
  // Sorted, as parsePolicy leaves them: the default is its own parsed form, so the hash enrolled
  // for it (policyHash(DEFAULT_POLICY)) is the hash of the default a bundle carries.
  forbiddenOpcodes: ["CALLCODE", "SELFDESTRUCT"],
  allowSelectorRemoval: false,
  allowAdminChange: false,
  requireHumanApproval: false,
  invariants: [],
}) as Policy;

export function policyHash(policy: Policy): Hex {
  return contentHash(policy);
}

/** A check's mode; any name is accepted (an unknown one is required), so the lookup is total. */
export function checkMode(policy: Policy, check: CheckName | (string & {})): CheckMode {
  // Own keys only: "constructor" or "toString" must not read Object.prototype's members.
  return (Object.hasOwn(policy.checks, check) ? (policy.checks as Record<string, CheckMode | undefined>)[check] : undefined) ?? "required";
}

/** A policy document that does not follow the schema; `field` names where, the message the fix. */
export class PolicyError extends SentinelError<"POLICY_INVALID", { field: string }> {
  override name = "PolicyError";
  readonly field: string;
  constructor(field: string, message: string) {
    super("POLICY_INVALID", `${field}: ${message}`, { field });
    this.field = field;
  }
}

/** Validates an untrusted policy document; throws PolicyError naming the field and the fix. */
export function parsePolicy(input: unknown): Policy {
  const p = object(input, "policy");
  only(p, "policy", [
    "schema",
    "name",
    "version",
    "checks",
    "forbiddenOpcodes",
    "allowSelectorRemoval",
    "allowAdminChange",
    "requireHumanApproval",
    "invariants",
    "humanGate",
    "probes",
    "intendedChanges",
    "latentSteps",
    "capabilityUnknown",
    "intendedCapabilities",
  ]);
  if (p["schema"] !== POLICY_SCHEMA) throw new PolicyError("policy.schema", `must be "${POLICY_SCHEMA}"`);
  const name = p["name"];
  if (typeof name !== "string" || name.length === 0 || name.length > 100) throw new PolicyError("policy.name", "must be a string of 1 to 100 characters");
  const version = p["version"];
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) throw new PolicyError("policy.version", "must be an integer ≥ 1");

  const checks: Policy["checks"] = {};
  for (const [check, mode] of Object.entries(object(p["checks"] ?? {}, "policy.checks"))) {
    if (!(CHECK_NAMES as readonly string[]).includes(check)) {
      throw new PolicyError(`policy.checks.${check}`, `unknown check (known: ${CHECK_NAMES.join(", ")})`);
    }
    if (mode !== "required" && mode !== "advisory") throw new PolicyError(`policy.checks.${check}`, 'must be "required" or "advisory"');
    if (mode === "advisory" && MANDATORY_CHECKS.includes(check as CheckName)) {
      throw new PolicyError(`policy.checks.${check}`, `cannot be advisory: ${MANDATORY_CHECKS.join(", ")} are always required`);
    }
    checks[check as CheckName] = mode;
  }

  const forbidden = array(p["forbiddenOpcodes"] ?? DEFAULT_POLICY.forbiddenOpcodes, "policy.forbiddenOpcodes");
  const forbiddenOpcodes: ForbiddableOpcode[] = [];
  for (const [i, opcode] of forbidden.entries()) {
    if (!(FORBIDDABLE_OPCODES as readonly unknown[]).includes(opcode)) {
      throw new PolicyError(`policy.forbiddenOpcodes[${i}]`, `must be one of ${FORBIDDABLE_OPCODES.join(", ")}`);
    }
    if (!forbiddenOpcodes.includes(opcode as ForbiddableOpcode)) forbiddenOpcodes.push(opcode as ForbiddableOpcode);
  }
  forbiddenOpcodes.sort();

  const invariantsInput = array(p["invariants"] ?? [], "policy.invariants");
  if (invariantsInput.length > MAX_INVARIANTS) throw new PolicyError("policy.invariants", `at most ${MAX_INVARIANTS} invariants`);
  const invariants = invariantsInput.map((value, i) => parseInvariant(value, `policy.invariants[${i}]`));
  const names = new Set<string>();
  for (const [i, invariant] of invariants.entries()) {
    if (names.has(invariant.name)) throw new PolicyError(`policy.invariants[${i}].name`, `"${invariant.name}" is used twice`);
    names.add(invariant.name);
  }

  const humanGate = p["humanGate"] === undefined ? undefined : parseHumanGate(p["humanGate"], "policy.humanGate");
  const requireHumanApproval = flag(p["requireHumanApproval"], "policy.requireHumanApproval", humanGate !== undefined);
  if (humanGate !== undefined && !requireHumanApproval) {
    throw new PolicyError("policy.requireHumanApproval", "cannot be false with a policy.humanGate (leave it out, or true)");
  }
  const policy: Policy = {
    schema: POLICY_SCHEMA,
    name,
    version,
    checks,
    forbiddenOpcodes,
    allowSelectorRemoval: flag(p["allowSelectorRemoval"], "policy.allowSelectorRemoval", false),
    allowAdminChange: flag(p["allowAdminChange"], "policy.allowAdminChange", false),
    requireHumanApproval,
    invariants,
    ...(humanGate !== undefined && { humanGate }),
  };
  if (p["capabilityUnknown"] !== undefined) {
    if (p["capabilityUnknown"] !== "reject" && p["capabilityUnknown"] !== "warn") throw new PolicyError("policy.capabilityUnknown", 'must be "reject" or "warn"');
    policy.capabilityUnknown = p["capabilityUnknown"];
  }
  if (p["intendedCapabilities"] !== undefined) {
    const intended = array(p["intendedCapabilities"], "policy.intendedCapabilities");
    if (intended.length > MAX_INTENDED_CAPABILITIES) throw new PolicyError("policy.intendedCapabilities", `at most ${MAX_INTENDED_CAPABILITIES} entries`);
    policy.intendedCapabilities = intended.map((entry, i) => {
      if (typeof entry !== "string" || !/^[A-Za-z_$][A-Za-z0-9_$]*\([^()]*(\([^()]*\)[^()]*)*\)(:[a-z-]+)?$/.test(entry) || entry.length > 200) {
        throw new PolicyError(`policy.intendedCapabilities[${i}]`, 'must be a function signature, optionally with ":kind", e.g. "mint(address,uint256):supply-change"');
      }
      return entry;
    });
  }
  if (p["probes"] !== undefined) {
    const probes = array(p["probes"], "policy.probes");
    if (probes.length > MAX_PROBES) throw new PolicyError("policy.probes", `at most ${MAX_PROBES} probes`);
    policy.probes = probes.map((value, i) => parseProbe(value, `policy.probes[${i}]`));
    const probeNames = new Set<string>();
    for (const [i, probe] of policy.probes.entries()) {
      if (probeNames.has(probe.name)) throw new PolicyError(`policy.probes[${i}].name`, `"${probe.name}" is used twice`);
      probeNames.add(probe.name);
    }
  }
  if (p["intendedChanges"] !== undefined) {
    const intended = array(p["intendedChanges"], "policy.intendedChanges");
    if (intended.length > MAX_INTENDED_CHANGES) throw new PolicyError("policy.intendedChanges", `at most ${MAX_INTENDED_CHANGES} entries`);
    policy.intendedChanges = intended.map((entry, i) => {
      if (typeof entry !== "string" || entry.length > 200 || !SIGNATURE_PATTERN.test(entry)) {
        throw new PolicyError(`policy.intendedChanges[${i}]`, 'must be a function signature, e.g. "transfer(address,uint256)"');
      }
      return entry;
    });
  }
  if (p["latentSteps"] !== undefined) {
    const steps = array(p["latentSteps"], "policy.latentSteps");
    if (steps.length > MAX_LATENT_STEPS) throw new PolicyError("policy.latentSteps", `at most ${MAX_LATENT_STEPS} steps`);
    policy.latentSteps = steps.map((value, i) => parseLatentStep(value, `policy.latentSteps[${i}]`));
    for (const [i, step] of policy.latentSteps.entries()) {
      const previous = policy.latentSteps[i - 1];
      // Blocks are mined 12 s apart, the last at the step's time: each step needs room for its blocks.
      if (previous !== undefined && (step.blocks <= previous.blocks || step.seconds - previous.seconds < 12 * (step.blocks - previous.blocks))) {
        throw new PolicyError(`policy.latentSteps[${i}]`, "each step must come after the one before: more blocks, and at least 12 s more per block more");
      }
    }
  }
  return policy;
}

/** A function's canonical signature: name and parameter types, tuples allowed one level deep. */
const SIGNATURE_PATTERN = /^[A-Za-z_$][A-Za-z0-9_$]*\([^()]*(\([^()]*\)[^()]*)*\)$/;
const PROBE_FUNCTION_PATTERN = /^function [A-Za-z_$][A-Za-z0-9_$]*\([^()]*\)( external| public)?( payable| nonpayable| view)?( returns \([^()]*\))?$/;

function parseProbe(value: unknown, field: string): BehaviourProbe {
  const v = object(value, field);
  only(v, field, ["name", "from", "function", "args", "value", "repeat"]);
  const name = v["name"];
  if (typeof name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new PolicyError(`${field}.name`, "must be 1 to 64 letters, digits, _ . -");
  if (typeof v["from"] !== "string" || !isAddress(v["from"], { strict: false })) throw new PolicyError(`${field}.from`, "must be an address");
  const fn = v["function"];
  if (typeof fn !== "string" || fn.length > 300 || !PROBE_FUNCTION_PATTERN.test(fn)) {
    throw new PolicyError(`${field}.function`, 'must be one function, e.g. "function transfer(address to, uint256 amount)"');
  }
  const args = array(v["args"] ?? [], `${field}.args`).map((arg, i) => {
    if (typeof arg !== "string") throw new PolicyError(`${field}.args[${i}]`, "must be a string");
    return arg;
  });
  const probe: BehaviourProbe = { name, from: getAddress(v["from"]), function: fn, args };
  if (v["value"] !== undefined) {
    if (typeof v["value"] !== "string" || !/^\d{1,78}$/.test(v["value"])) throw new PolicyError(`${field}.value`, "must be a decimal amount of wei");
    probe.value = v["value"];
  }
  if (v["repeat"] !== undefined) {
    const repeat = v["repeat"];
    if (typeof repeat !== "number" || !Number.isSafeInteger(repeat) || repeat < 1 || repeat > MAX_PROBE_REPEAT) {
      throw new PolicyError(`${field}.repeat`, `must be an integer from 1 to ${MAX_PROBE_REPEAT}`);
    }
    probe.repeat = repeat;
  }
  return probe;
}

function parseLatentStep(value: unknown, field: string): LatentStep {
  const v = object(value, field);
  only(v, field, ["seconds", "blocks"]);
  const { seconds, blocks } = v;
  if (typeof seconds !== "number" || !Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_LATENT_SECONDS) {
    throw new PolicyError(`${field}.seconds`, `must be an integer from 1 to ${MAX_LATENT_SECONDS}`);
  }
  if (typeof blocks !== "number" || !Number.isSafeInteger(blocks) || blocks < 1 || blocks > MAX_LATENT_BLOCKS) {
    throw new PolicyError(`${field}.blocks`, `must be an integer from 1 to ${MAX_LATENT_BLOCKS}`);
  }
  // Blocks are 12 s apart on the fork: the step's time must leave room for its blocks.
  if (seconds < blocks * 12) throw new PolicyError(`${field}.seconds`, `must be at least 12 × blocks (${blocks * 12})`);
  return { seconds, blocks };
}

function parseHumanGate(value: unknown, field: string): HumanGate {
  const v = object(value, field);
  only(v, field, ["threshold", "approvers", "windowSeconds"]);
  const list = array(v["approvers"], `${field}.approvers`);
  if (list.length === 0 || list.length > MAX_APPROVERS) throw new PolicyError(`${field}.approvers`, `must name 1 to ${MAX_APPROVERS} approvers`);
  const approvers: Address[] = [];
  for (const [i, approver] of list.entries()) {
    if (typeof approver !== "string" || !isAddress(approver, { strict: false })) throw new PolicyError(`${field}.approvers[${i}]`, "must be an address");
    const address = getAddress(approver);
    if (approvers.includes(address)) throw new PolicyError(`${field}.approvers[${i}]`, `${address} is listed twice`);
    approvers.push(address);
  }
  // Ascending, so that the same set of approvers is the same policy hash in any order.
  approvers.sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  const threshold = v["threshold"];
  if (typeof threshold !== "number" || !Number.isSafeInteger(threshold) || threshold < 1 || threshold > approvers.length) {
    throw new PolicyError(`${field}.threshold`, `must be an integer from 1 to the number of approvers (${approvers.length})`);
  }
  const gate: HumanGate = { threshold, approvers };
  if (v["windowSeconds"] !== undefined) {
    const window = v["windowSeconds"];
    if (typeof window !== "number" || !Number.isSafeInteger(window) || window < 60) throw new PolicyError(`${field}.windowSeconds`, "must be an integer number of seconds ≥ 60");
    gate.windowSeconds = window;
  }
  return gate;
}

const FUNCTION_PATTERN = /^function [A-Za-z_$][A-Za-z0-9_$]*\([^()]*\) (external )?(view|pure) returns \((u?int\d*|address|bool|bytes\d+)( [A-Za-z_$][A-Za-z0-9_$]*)?\)$/;
const RELATIONS: readonly InvariantRelation[] = ["unchanged", "eq", "gte", "lte"];

function parseInvariant(value: unknown, field: string): Invariant {
  const v = object(value, field);
  only(v, field, ["name", "function", "args", "to", "relation", "value"]);
  const name = v["name"];
  if (typeof name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new PolicyError(`${field}.name`, "must be 1 to 64 letters, digits, _ . -");
  const fn = v["function"];
  if (typeof fn !== "string" || !FUNCTION_PATTERN.test(fn)) {
    throw new PolicyError(`${field}.function`, 'must be one view function returning one value, e.g. "function totalSupply() view returns (uint256)"');
  }
  const args = array(v["args"] ?? [], `${field}.args`).map((arg, i) => {
    if (typeof arg !== "string") throw new PolicyError(`${field}.args[${i}]`, "must be a string");
    return arg;
  });
  const relation = v["relation"];
  if (!RELATIONS.includes(relation as InvariantRelation)) throw new PolicyError(`${field}.relation`, `must be one of ${RELATIONS.join(", ")}`);
  const invariant: Invariant = { name, function: fn, args, relation: relation as InvariantRelation };
  if (v["to"] !== undefined) {
    if (typeof v["to"] !== "string" || !isAddress(v["to"], { strict: false })) throw new PolicyError(`${field}.to`, "must be an address");
    invariant.to = getAddress(v["to"]);
  }
  if (v["value"] !== undefined) {
    if (typeof v["value"] !== "string") throw new PolicyError(`${field}.value`, "must be a string");
    invariant.value = v["value"];
  }
  if (relation === "eq" && invariant.value === undefined) throw new PolicyError(`${field}.value`, 'is required with relation "eq"');
  if (relation === "unchanged" && invariant.value !== undefined) throw new PolicyError(`${field}.value`, 'has no meaning with relation "unchanged"');
  return invariant;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new PolicyError(field, "must be an object");
  return value as Record<string, unknown>;
}

function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new PolicyError(field, "must be an array");
  return value;
}

function flag(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new PolicyError(field, "must be true or false");
  return value;
}

function only(value: Record<string, unknown>, field: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new PolicyError(`${field}.${key}`, `unknown field (expected one of ${keys.join(", ")})`);
  }
}

/** One problem of a policy document: where, and the fix. */
export interface PolicyProblem {
  field: string;
  message: string;
}

/**
 * Every problem of a policy document, not only the first: each part is checked alone by
 * parsePolicy (inside a document otherwise valid), so the one parser stays the one definition of
 * a valid policy and this can never accept what it refuses. Empty when parsePolicy accepts it.
 */
export function policyProblems(input: unknown): PolicyProblem[] {
  const problems = new Map<string, PolicyProblem>();
  const attempt = (document: unknown, rename: (field: string) => string = (field) => field) => {
    try {
      parsePolicy(document);
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      const field = rename(error.field);
      const message = error.message.slice(error.field.length + 2);
      problems.set(`${field}\n${message}`, { field, message });
    }
  };
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    attempt(input);
    return [...problems.values()];
  }
  const p = input as Record<string, unknown>;
  const base = { schema: POLICY_SCHEMA, name: "policy", version: 1 };
  for (const key of ["schema", "name", "version"]) if (!(key in p)) attempt({ ...base, [key]: undefined });
  for (const key of Object.keys(p)) {
    if (key === "checks" || key === "forbiddenOpcodes" || key === "invariants") continue;
    attempt({ ...base, [key]: p[key] });
  }
  const checks = p["checks"];
  if (typeof checks === "object" && checks !== null && !Array.isArray(checks)) {
    for (const [check, mode] of Object.entries(checks)) attempt({ ...base, checks: { [check]: mode } });
  } else if (checks !== undefined) attempt({ ...base, checks });
  const forbidden = p["forbiddenOpcodes"];
  if (Array.isArray(forbidden)) {
    for (const [i, opcode] of forbidden.entries()) attempt({ ...base, forbiddenOpcodes: [opcode] }, (f) => f.replace("[0]", `[${i}]`));
  } else if (forbidden !== undefined) attempt({ ...base, forbiddenOpcodes: forbidden });
  const invariants = p["invariants"];
  if (Array.isArray(invariants)) {
    if (invariants.length > MAX_INVARIANTS) problems.set("invariants", { field: "policy.invariants", message: `at most ${MAX_INVARIANTS} invariants` });
    const names = new Map<unknown, number>();
    for (const [i, invariant] of invariants.entries()) {
      const rename = (f: string) => f.replace("policy.invariants[0]", `policy.invariants[${i}]`);
      if (typeof invariant !== "object" || invariant === null || Array.isArray(invariant)) {
        attempt({ ...base, invariants: [invariant] }, rename);
        continue;
      }
      const v = invariant as Record<string, unknown>;
      const template: Record<string, unknown> = { name: "invariant", function: "function f() view returns (uint256)", relation: "unchanged" };
      for (const key of ["name", "function"]) if (!(key in v)) attempt({ ...base, invariants: [{ ...template, [key]: undefined }] }, rename);
      for (const key of Object.keys(v)) {
        if (key === "relation" || key === "value") continue;
        attempt({ ...base, invariants: [{ ...template, [key]: v[key] }] }, rename);
      }
      attempt({ ...base, invariants: [{ ...template, relation: v["relation"], value: v["value"] }] }, rename);
      const first = names.get(v["name"]);
      if (first !== undefined) problems.set(`dup${i}`, { field: `policy.invariants[${i}].name`, message: `"${String(v["name"])}" is used twice (first at [${first}])` });
      else names.set(v["name"], i);
    }
  } else if (invariants !== undefined) attempt({ ...base, invariants });
  // Rules between fields (a humanGate with requireHumanApproval false) show only in the whole.
  if (problems.size === 0) attempt(input);
  return [...problems.values()];
}
