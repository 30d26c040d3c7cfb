// access-control: a capability (authority slots, upgrades, roles, supply, others' balances, value
// out, calls to chosen targets) that a non-authority can reach under the new implementation and
// could not under the current one, each function as it runs behind the proxy on the pinned state.
//
// Results are cached by what they depend on (both code hashes, the pinned block, the authorities
// read from it, the bounds): a re-verification of the same candidate on the same node costs a few
// storage reads.
import { getAddress, hexToBigInt, pad, size, slice, type Hex } from "viem";
import type { Policy } from "../../codec/policy.ts";
import type { CompiledBuild, VerificationContext } from "../context.ts";
import type { Check, Finding } from "../pipeline.ts";
import { analyseFunction, analysisKey, DEFAULT_ANALYSIS, type AnalysisOptions, type FunctionCapabilities, type ImplementationUnderTest, type PinnedState, type Reach } from "./analysis.ts";
import { authoritySlots, layoutRoles, type CapabilityKind, type StorageLayoutEntry } from "./effects.ts";

const EFFECTS: Record<CapabilityKind, string> = {
  "authority-write": "write an owner/admin slot",
  upgrade: "change the implementation",
  "role-change": "grant or revoke a role",
  "supply-change": "change the total supply",
  "balance-debit": "lower another account's balance",
  "value-transfer": "send ether",
  "call-to-chosen-target": "call an address it chooses",
  "delegatecall-to-chosen-target": "delegatecall an address it chooses",
  selfdestruct: "self-destruct",
};

const CACHE_ENTRIES = 64;
const cache = new Map<Hex, Finding[]>();

export function accessControlCheck(options: AnalysisOptions = DEFAULT_ANALYSIS): Check {
  return { name: "access-control", run: (context) => run(context, options) };
}

async function run(context: VerificationContext, options: AnalysisOptions): Promise<Finding[]> {
  const need = <T>(name: string, value: () => Promise<T>) => context.need(name, value);
  const [bundle, block, code, currentCode, currentAddress, authority, next, reference] = await Promise.all([
    need("source bundle", () => context.bundle()),
    need("pinned block", () => context.block()),
    need("implementation code", () => context.code()),
    need("current implementation code", () => context.currentCode()),
    need("current implementation", () => context.currentImplementation()),
    need("upgrade authority", () => context.authority()),
    need("implementation build", () => context.implementationBuild()),
    need("reference build", () => context.referenceBuild()),
  ]);
  if (code === undefined || currentCode === undefined || currentAddress === undefined) {
    return [{ check: "access-control", code: "SKIPPED", severity: "info", message: "skipped: no code or no current implementation (reported by the checks that own them)" }];
  }
  const { candidate, client } = context;
  const storageCache = new Map<bigint, Promise<bigint>>();
  const storage = (slot: bigint): Promise<bigint> => {
    let value = storageCache.get(slot);
    if (value === undefined) {
      value = client
        .getStorageAt({ address: candidate.target, slot: pad(`0x${slot.toString(16)}`, { size: 32 }), blockNumber: candidate.blockNumber })
        .then((word) => (word === undefined ? 0n : hexToBigInt(word)));
      storageCache.set(slot, value);
    }
    return value;
  };
  const roles = layoutRoles([layoutOf(next), layoutOf(reference)]);
  const named = await Promise.all(authoritySlots(roles).map(storage));
  const authorities = [authority.authority, authority.admin, ...named.map((word) => `0x${(word & ((1n << 160n) - 1n)).toString(16)}`)]
    .filter((a): a is string => a !== undefined)
    .map((a) => BigInt(a))
    .filter((a) => a !== 0n);
  const state: PinnedState = {
    proxy: BigInt(candidate.target),
    chainId: candidate.chainId,
    timestamp: block.timestamp,
    blockNumber: block.number ?? candidate.blockNumber,
    storage,
    authorities,
    roles,
    ...(size(bundle.upgradeCall) >= 4 ? { upgradeCallSelector: Number(hexToBigInt(slice(bundle.upgradeCall, 0, 4))) } : {}),
  };
  const after: ImplementationUnderTest = { code, address: BigInt(candidate.implementation), functions: functionsOf(next) };
  const before: ImplementationUnderTest = { code: currentCode, address: BigInt(currentAddress), functions: functionsOf(reference) };
  const key = analysisKey(after, state, options);
  const keyBefore = analysisKey(before, state, options);
  const cacheKey = `${key}${keyBefore.slice(2)}` as Hex;
  const findings = cache.get(cacheKey) ?? (await compare(before, after, state, options));
  remember(cacheKey, findings);
  return applyCapabilityPolicy(findings, bundle.policy);
}

function remember(key: Hex, findings: Finding[]): void {
  cache.delete(key);
  cache.set(key, findings);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
}

/** Every function of the new implementation; the current one's functions only where needed for a comparison. */
export async function compare(before: ImplementationUnderTest, after: ImplementationUnderTest, state: PinnedState, options: AnalysisOptions): Promise<Finding[]> {
  const signatures = Object.keys(after.functions).sort();
  let results: FunctionCapabilities[] = [];
  for (const signature of signatures) results.push(await analyseFunction(after, signature, state, options));
  // State an outsider can change (a counter, a flag) is no fixed fact: read it as a variable, and
  // analyse again, so a gate that opens after enough calls is seen. One more round is enough for
  // slots the pinned state lets outsiders write; a chain of them would need more (docs).
  const open = [...new Set(results.flatMap((result) => result.outsiderWrites))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (open.length > 0) {
    state = { ...state, openSlots: open };
    results = [];
    for (const signature of signatures) results.push(await analyseFunction(after, signature, state, options));
  }
  const findings: Finding[] = [];
  const previous = new Map<string, Promise<FunctionCapabilities>>();
  const beforeOf = (signature: string) => {
    let result = previous.get(signature);
    if (result === undefined) {
      result = analyseFunction(before, signature, state, options);
      previous.set(signature, result);
    }
    return result;
  };
  for (const now of results) {
    const { signature } = now;
    if (now.incomplete !== undefined) findings.push(unknown(signature, `exploration stopped at a bound: ${now.incomplete}`));
    for (const kind of Object.keys(now.reach).sort() as CapabilityKind[]) {
      const reach = now.reach[kind]!;
      if (reach.status === "unknown") findings.push(unknown(signature, `${EFFECTS[kind]}: ${reach.bound}`));
      if (reach.status !== "outsider") continue;
      const then = before.functions[signature] === undefined ? undefined : await beforeOf(signature);
      const was: Reach = then?.reach[kind] ?? { status: "none" };
      if (was.status === "unknown" || (was.status === "none" && then?.incomplete !== undefined)) {
        findings.push(unknown(signature, `${EFFECTS[kind]}: the current implementation's analysis is incomplete (${was.status === "unknown" ? was.bound : then!.incomplete})`));
        continue;
      }
      if (was.status === "outsider" && !(was.caller !== "any" && reach.caller === "any")) continue;
      findings.push(gained(signature, kind, reach, was));
    }
  }
  if (findings.length === 0) {
    findings.push({ check: "access-control", code: "OK", severity: "info", message: `${signatures.length} functions analysed: no capability a non-authority could not reach before` });
  }
  return findings;
}

function gained(signature: string, kind: CapabilityKind, reach: Extract<Reach, { status: "outsider" }>, was: Reach): Finding {
  const who = reach.caller === "any" ? "any caller" : `the hard-coded address ${getAddress(reach.caller)}`;
  const when = reach.afterTime
    ? "only after the timestamp or block number moves past the pinned block's"
    : reach.afterState
      ? "only after state any caller can change (a counter) moves"
      : "now";
  const before = was.status === "outsider" ? `only ${was.caller} before the upgrade` : "no non-authority before the upgrade";
  return {
    check: "access-control",
    code: "CAPABILITY_GAINED",
    severity: "reject",
    message: `${signature}: ${who} can ${EFFECTS[kind]} (${when}); ${before}`,
    evidence: { function: signature, effect: kind, caller: reach.caller === "any" ? "any" : getAddress(reach.caller), when: reach.afterTime ? "after-time" : reach.afterState ? "after-state" : "now" },
  };
}

function unknown(signature: string, why: string): Finding {
  return { check: "access-control", code: "ANALYSIS_UNKNOWN", severity: "reject", message: `${signature}: unknown, ${why}`, evidence: { function: signature, bound: why } };
}

/** Intended capabilities approve; unknowns warn if the policy says so. */
export function applyCapabilityPolicy(findings: Finding[], policy: Policy): Finding[] {
  const intended = new Set(policy.intendedCapabilities ?? []);
  return findings.map((finding) => {
    const fn = finding.evidence?.["function"];
    if (finding.code === "CAPABILITY_GAINED" && fn !== undefined && (intended.has(fn) || intended.has(`${fn}:${finding.evidence?.["effect"]}`))) {
      return { ...finding, severity: "info" as const, message: `${finding.message} (intended, by the policy)` };
    }
    if (finding.code === "ANALYSIS_UNKNOWN" && policy.capabilityUnknown === "warn") return { ...finding, severity: "warning" as const };
    return finding;
  });
}

function functionsOf(build: CompiledBuild): Record<string, string> {
  return build.contract.evm?.methodIdentifiers ?? {};
}

function layoutOf(build: CompiledBuild): StorageLayoutEntry[] {
  return (build.contract.storageLayout?.storage ?? []) as StorageLayoutEntry[];
}
