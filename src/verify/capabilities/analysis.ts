// Who can reach which capability, per external function of one implementation behind its proxy.
// Each function is explored symbolically (executor.ts); each capability its successful paths reach
// is put to z3 as one question: can an outsider reach it? An outsider is a caller who is none of
// the authorities named in the pinned state (owner, pending owner, admins, the upgrade authority),
// holds nothing keyed by its address (no role, no allowance, no balance), sends no value, and calls
// at the pinned block or any later one. When the answer is yes, two more questions say who and
// when: only one fixed address, or anyone; now, or only after the clock or block number moves.
import { hexToBytes, keccak256, type Hex } from "viem";
import { calldataWords } from "./calldata.ts";
import { classify, isBalanceEntry, isTokenCount, SLOTS, type CapabilityKind, type LayoutRoles } from "./effects.ts";
import { DEFAULT_BOUNDS, exploreCall, type Bound, type Bounds, type CallResult, type Condition } from "./executor.ts";
import { DEFAULT_RLIMIT, solve, type Formula } from "./solver.ts";
import { ADDRESS_MASK, Terms, type Term } from "./terms.ts";

export interface ImplementationUnderTest {
  /** The implementation's runtime code as deployed (immutables filled). */
  code: Hex;
  /** Its address: what the proxy's ERC-1967 slot holds while it runs. */
  address: bigint;
  /** Signature → selector (hex without 0x), the compiler's methodIdentifiers. */
  functions: Record<string, string>;
}

export interface PinnedState {
  proxy: bigint;
  chainId: bigint;
  timestamp: bigint;
  blockNumber: bigint;
  /** The proxy's storage at the pinned block. */
  storage(slot: bigint): Promise<bigint>;
  /** Addresses holding authority at the pinned block: an outsider is none of them. */
  authorities: bigint[];
  roles: LayoutRoles;
  /** The selector of the upgrade's own call: initializer paths it runs atomically are not open to anyone. */
  upgradeCallSelector?: number;
  /** Constant slots read as variables: state an outsider can change (a counter), so its pinned value fixes nothing. */
  openSlots?: readonly bigint[];
}

export type Reach =
  | { status: "none" }
  | { status: "unknown"; bound: string }
  | { status: "outsider"; caller: "any" | Hex; afterTime: boolean; afterState: boolean };

export interface FunctionCapabilities {
  signature: string;
  /** A bound the exploration hit: what it did not see may hold any capability. */
  incomplete?: string;
  reach: Partial<Record<CapabilityKind, Reach>>;
  /** Constant slots (no capability of their own) an outsider can change through this function. */
  outsiderWrites: bigint[];
}

export interface AnalysisOptions {
  bounds: Bounds;
  rlimit: number;
}

export const DEFAULT_ANALYSIS: AnalysisOptions = { bounds: DEFAULT_BOUNDS, rlimit: DEFAULT_RLIMIT };

/** How far past the pinned block "now" reaches: a capability open only later than this is time-triggered. */
const NOW_SECONDS = 3_600n;
const NOW_BLOCKS = 300n;

export async function analyseFunction(
  implementation: ImplementationUnderTest,
  signature: string,
  state: PinnedState,
  options: AnalysisOptions = DEFAULT_ANALYSIS,
): Promise<FunctionCapabilities> {
  const selector = implementation.functions[signature];
  if (selector === undefined) throw new Error(`no function ${signature}`);
  // One term table per function: term ids, and so variable names, do not depend on what ran before.
  const terms = new Terms();
  const storage = (slot: bigint) => (slot === SLOTS.implementation ? Promise.resolve(implementation.address) : state.storage(slot));
  const result = await exploreCall({
    terms,
    code: hexToBytes(implementation.code),
    selector: Number.parseInt(selector, 16),
    words: calldataWords(signature, terms),
    address: state.proxy,
    chainId: state.chainId,
    storage,
    symbolicSlots: new Set([...SUPPLY_SLOTS, ...(state.openSlots ?? [])]),
    bounds: options.bounds,
  });
  const caller = terms.variable("caller");
  const groups = capabilityGroups(result, state, terms, Number.parseInt(selector, 16));
  const reach: FunctionCapabilities["reach"] = {};
  const outsider = [...outsiderFormulas(result, state, terms), ...balanceBounds(result, terms)];
  for (const [kind, paths] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const any: Formula = { kind: "any", groups: paths };
    const reachable = await solve({ all: [...outsider, any] }, ["caller"], options.rlimit);
    if (reachable.result === "unknown") {
      reach[kind] = { status: "unknown", bound: "solver rlimit" };
      continue;
    }
    if (reachable.result === "unsat") {
      reach[kind] = { status: "none" };
      continue;
    }
    const who = reachable.values.get("caller")!;
    const others = await solve({ all: [...outsider, any, { kind: "equal", a: caller, b: terms.constant(who), holds: false }] }, [], options.rlimit);
    const now = await solve({ all: [...outsider, any, ...nowFormulas(state, terms)] }, [], options.rlimit);
    // With the state outsiders can change as it is now: unsat means only after it moves (a counter).
    const pinned = state.openSlots?.length
      ? await solve({ all: [...outsider, any, ...(await pinnedOpenSlots(state, terms, storage))] }, [], options.rlimit)
      : undefined;
    reach[kind] = {
      status: "outsider",
      caller: others.result === "unsat" ? (`0x${who.toString(16).padStart(40, "0")}` as Hex) : "any",
      afterTime: now.result === "unsat",
      afterState: pinned?.result === "unsat",
    };
  }
  const outsiderWrites: bigint[] = [];
  for (const [slot, paths] of stateWrites(result, state, terms)) {
    const answer = await solve({ all: [...outsider, { kind: "any", groups: paths }] }, [], options.rlimit);
    if (answer.result !== "unsat") outsiderWrites.push(slot);
  }
  const incomplete = await incompleteFor(result, outsider, Number.parseInt(selector, 16), state, options);
  return { signature, ...(incomplete ? { incomplete } : {}), reach, outsiderWrites };
}

/**
 * The bounds that matter: those an outsider can reach (a cut path, or a write to a slot that could
 * not be told, whose conditions an outsider can meet). A loop only the owner can enter is no
 * unknown; an answer z3 could not give counts as reachable.
 */
async function incompleteFor(result: CallResult, outsider: Formula[], selector: number, state: PinnedState, options: AnalysisOptions): Promise<string | undefined> {
  const byBound = new Map<Bound, Formula[][]>();
  const add = (bound: Bound, conditions: readonly Condition[]) => {
    const list = byBound.get(bound) ?? [];
    list.push(conditions.map((c) => ({ kind: "nonzero", term: c.term, holds: c.holds })));
    byBound.set(bound, list);
  };
  for (const path of result.cut) add(path.bound, path.conditions);
  for (const path of result.paths) {
    if (selector === state.upgradeCallSelector && path.effects.some((e) => e.kind === "sstore" && e.slot.op === "const" && e.slot.value === SLOTS.initializable)) continue;
    if (path.effects.some((e) => e.kind === "sstore" && e.opaque)) add("memory", path.conditions);
  }
  const reached: string[] = [];
  for (const bound of [...byBound.keys()].sort()) {
    const answer = await solve({ all: [...outsider, { kind: "any", groups: byBound.get(bound)! }] }, [], options.rlimit);
    if (answer.result !== "unsat") reached.push(boundName(bound, options.bounds));
  }
  return reached.length > 0 ? reached.join("; ") : undefined;
}

async function pinnedOpenSlots(state: PinnedState, terms: Terms, storage: (slot: bigint) => Promise<bigint>): Promise<Formula[]> {
  const formulas: Formula[] = [];
  for (const slot of state.openSlots ?? []) {
    formulas.push({ kind: "equal", a: terms.variable(`storage@${slot.toString(16)}`), b: terms.constant(await storage(slot)), holds: true });
  }
  return formulas;
}

/**
 * Writes to constant slots that are no capability and no authority (a counter, a flag): per slot,
 * the paths that change it. Initializer paths are left out as in capabilityGroups.
 */
function stateWrites(result: CallResult, state: PinnedState, terms: Terms): [bigint, Formula[][]][] {
  const caller = terms.variable("caller");
  const writes = new Map<bigint, Formula[][]>();
  for (const path of result.paths) {
    if (path.effects.some((e) => e.kind === "sstore" && e.slot.op === "const" && e.slot.value === SLOTS.initializable)) continue;
    const conditions: Formula[] = path.conditions.map((c) => ({ kind: "nonzero", term: c.term, holds: c.holds }));
    for (const effect of path.effects) {
      if (effect.kind !== "sstore" || effect.slot.op !== "const" || classify(effect, state.roles, terms, caller) !== undefined) continue;
      const slot = effect.slot.value!;
      if (slot === SLOTS.initializable || SUPPLY_SLOTS.has(slot) || state.openSlots?.includes(slot)) continue;
      const list = writes.get(slot) ?? [];
      list.push([...conditions, { kind: "equal", a: effect.value, b: effect.previous, holds: false }]);
      writes.set(slot, list);
    }
  }
  return [...writes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function boundName(bound: Bound, bounds: Bounds): string {
  switch (bound) {
    case "paths": return `path budget (${bounds.paths} paths)`;
    case "steps": return `step budget (${bounds.steps} steps)`;
    case "unroll": return `loop unrolling (${bounds.unroll} iterations)`;
    case "jump": return "a computed jump or an unmodelled opcode";
    case "memory": return "a storage write to a slot hashed from memory written at a computed offset";
  }
}

/** Per capability kind, the paths (each its conditions and what makes the effect material) reaching it. */
function capabilityGroups(result: CallResult, state: PinnedState, terms: Terms, selector: number): Map<CapabilityKind, Formula[][]> {
  const caller = terms.variable("caller");
  const groups = new Map<CapabilityKind, Formula[][]>();
  for (const path of result.paths) {
    const runsInitializer = path.effects.some((e) => e.kind === "sstore" && e.slot.op === "const" && e.slot.value === SLOTS.initializable);
    // The upgrade runs its own call atomically: nobody else can call that initializer first.
    if (runsInitializer && selector === state.upgradeCallSelector) continue;
    const conditions: Formula[] = path.conditions.map((c) => ({ kind: "nonzero", term: c.term, holds: c.holds }));
    for (const effect of path.effects) {
      const capability = classify(effect, state.roles, terms, caller);
      if (capability === undefined) continue;
      const list = groups.get(capability.kind) ?? [];
      list.push([...conditions, ...capability.material]);
      groups.set(capability.kind, list);
    }
  }
  return groups;
}

function outsiderFormulas(result: CallResult, state: PinnedState, terms: Terms): Formula[] {
  const caller = terms.variable("caller");
  const c = (value: bigint) => terms.constant(value);
  const formulas: Formula[] = [
    { kind: "equal", a: terms.apply("and", caller, c(ADDRESS_MASK)), b: caller, holds: true },
    { kind: "nonzero", term: caller, holds: true },
    { kind: "equal", a: caller, b: c(state.proxy), holds: false },
    // An outsider's own account: an EOA, so tx.origin is the caller.
    { kind: "equal", a: terms.variable("origin"), b: caller, holds: true },
    // The pinned block or later, within a realistic range.
    { kind: "nonzero", term: terms.apply("lt", terms.variable("timestamp"), c(state.timestamp)), holds: false },
    { kind: "ult", a: terms.variable("timestamp"), b: c(1n << 40n) },
    { kind: "nonzero", term: terms.apply("lt", terms.variable("number"), c(state.blockNumber)), holds: false },
    { kind: "ult", a: terms.variable("number"), b: c(1n << 40n) },
  ];
  for (const authority of [...new Set(state.authorities)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    formulas.push({ kind: "equal", a: caller, b: c(authority), holds: false });
  }
  // Nothing keyed by the outsider's address (no role, allowance, balance or nonce of its own), and
  // the outsider's address stored nowhere (owner of no token, approved for none, pending nothing).
  for (const [variable, slot] of result.reads) {
    if (slot.hasCaller) formulas.push({ kind: "equal", a: variable, b: c(0n), holds: true });
    else if (slot.op !== "const") {
      formulas.push({ kind: "equal", a: terms.apply("and", variable, c(ADDRESS_MASK)), b: caller, holds: false });
      // Keyed by a value that may turn out to be the caller (renounceRole(role, account) with
      // account = caller): then it is the outsider's own entry, and zero too.
      const keys = mappingKeys(slot);
      if (keys.length > 0) {
        const notCaller: Formula[] = keys.map((key) => ({ kind: "equal", a: terms.apply("and", key, c(ADDRESS_MASK)), b: caller, holds: false }));
        formulas.push({ kind: "any", groups: [notCaller, [{ kind: "equal", a: variable, b: c(0n), holds: true }]] });
      }
    }
  }
  return formulas;
}

/** The keys along a slot's chain of mapping hashes (and struct offsets added to them). */
function mappingKeys(slot: Term): Term[] {
  if (slot.op === "keccak" && slot.size === 64) return [slot.args[0]!, ...mappingKeys(slot.args[1]!)];
  if (slot.op === "add") return slot.args.flatMap(mappingKeys);
  return [];
}

/**
 * The total supply is not an authority fact: any future supply can be the one a call meets, so it
 * is a variable, not the pinned value (a backdoor that moves tokens is one whether or not anyone
 * holds tokens at the pinned block).
 */
const SUPPLY_SLOTS: ReadonlySet<bigint> = new Set([SLOTS.erc20 + 2n]);

/**
 * ERC-20's invariant, which every state OZ's ERC-20 reaches satisfies: no balance above the total
 * supply. Without it a mint's unchecked `balance += value` could wrap and look like a debit.
 */
function balanceBounds(result: CallResult, terms: Terms): Formula[] {
  const supply = terms.variable(`storage@${(SLOTS.erc20 + 2n).toString(16)}`);
  const formulas: Formula[] = [];
  for (const [variable, slot] of result.reads) {
    if (isBalanceEntry(slot, terms)) formulas.push({ kind: "nonzero", term: terms.apply("lt", supply, variable), holds: false });
    if (isTokenCount(slot, terms)) formulas.push({ kind: "ult", a: variable, b: terms.constant(1n << 128n) });
  }
  return formulas;
}

function nowFormulas(state: PinnedState, terms: Terms): Formula[] {
  return [
    { kind: "ult", a: terms.variable("timestamp"), b: terms.constant(state.timestamp + NOW_SECONDS + 1n) },
    { kind: "ult", a: terms.variable("number"), b: terms.constant(state.blockNumber + NOW_BLOCKS + 1n) },
  ];
}

/** What an analysis depends on, hashed: its cache key. */
export function analysisKey(implementation: ImplementationUnderTest, state: PinnedState, options: AnalysisOptions): Hex {
  const parts = [
    keccak256(implementation.code),
    implementation.address.toString(16),
    state.proxy.toString(16),
    state.chainId.toString(),
    state.blockNumber.toString(),
    state.timestamp.toString(),
    [...state.authorities].sort().map((a) => a.toString(16)).join(","),
    JSON.stringify(state.roles, (_, v: unknown) => (typeof v === "bigint" ? v.toString(16) : v)),
    String(state.upgradeCallSelector ?? ""),
    JSON.stringify(options),
    Object.keys(implementation.functions).sort().join(","),
  ];
  return keccak256(new TextEncoder().encode(parts.join("|")));
}
