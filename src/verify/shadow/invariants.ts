// Policy invariants on the shadow fork: each one is a view call (on the proxy unless it names
// another contract) whose single return value is read at the pinned block and again after the
// upgrade, then compared by its relation: unchanged, eq a value, gte or lte a bound. An invariant
// that cannot be encoded as written is a policy problem, reported as such, never a chain fact.
import { decodeFunctionResult, encodeFunctionData, getAddress, isAddress, isHex, pad, parseAbiItem, type AbiFunction, type Address, type Hex } from "viem";
import { ethCall, type JsonRpc } from "./fork.ts";
import type { Invariant, InvariantRelation } from "../../codec/policy.ts";
import { firstLine } from "./errors.ts";

export type InvariantValue = { value: string } | { reverted: string };

export interface InvariantResult {
  name: string;
  relation: InvariantRelation;
  /** What `after` is compared with, when known. */
  expected?: string;
  before: InvariantValue;
  /** Absent when the upgrade did not happen. */
  after?: InvariantValue;
  holds?: boolean;
  /** The invariant cannot be evaluated as written (a policy problem, not a chain fact). */
  problem?: string;
}

export type PreparedInvariant =
  | { ok: true; invariant: Invariant; abi: AbiFunction; data: Hex; outputType: string; expected?: string }
  | { ok: false; invariant: Invariant; problem: string };

/** Encodes an invariant's call once; a policy that cannot be encoded is a problem, not a chain fact. */
export function prepareInvariant(invariant: Invariant): PreparedInvariant {
  try {
    const item = parseAbiItem(invariant.function);
    if (item.type !== "function" || item.outputs.length !== 1 || item.outputs[0] === undefined) {
      return { ok: false, invariant, problem: "must be one function returning one value" };
    }
    if (item.inputs.length !== invariant.args.length) {
      return { ok: false, invariant, problem: `takes ${item.inputs.length} arguments, ${invariant.args.length} given` };
    }
    const args = item.inputs.map((input, i) => parseArgument(input.type, invariant.args[i] ?? ""));
    const outputType = item.outputs[0].type;
    const prepared: PreparedInvariant = { ok: true, invariant, abi: item, data: encodeFunctionData({ abi: [item], args }), outputType };
    if (invariant.value !== undefined) prepared.expected = normalise(outputType, parseArgument(outputType, invariant.value));
    if ((invariant.relation === "gte" || invariant.relation === "lte") && !/^u?int\d*$/.test(outputType)) {
      return { ok: false, invariant, problem: `${invariant.relation} compares integers, ${invariant.function} returns ${outputType}` };
    }
    return prepared;
  } catch (error) {
    return { ok: false, invariant, problem: firstLine(error) };
  }
}

/** The invariant's value at `block`: what its call returned, or why it returned nothing usable. */
export async function evaluateInvariant(rpc: JsonRpc, prepared: PreparedInvariant & { ok: true }, proxy: Address, block: Hex): Promise<InvariantValue> {
  const outcome = await ethCall(rpc, { to: prepared.invariant.to ?? proxy, data: prepared.data }, block);
  if (!outcome.ok) return { reverted: outcome.revert.reason };
  try {
    const value = decodeFunctionResult({ abi: [prepared.abi], data: outcome.data }) as unknown;
    return { value: normalise(prepared.outputType, value) };
  } catch {
    return { reverted: `returned ${outcome.data.length > 2 ? "an undecodable value" : "nothing"}` };
  }
}

/**
 * The report's results, in the policy's order: each invariant's value before and (when the
 * upgrade happened) after, the bound `after` is compared with, and whether it holds.
 */
export function invariantResults(
  invariants: readonly Invariant[],
  prepared: readonly PreparedInvariant[],
  before: readonly (InvariantValue | undefined)[],
  after: readonly (InvariantValue | undefined)[] | undefined,
): InvariantResult[] {
  return invariants.map((invariant, i) => {
    const p = prepared[i];
    const result: InvariantResult = { name: invariant.name, relation: invariant.relation, before: before[i] ?? { reverted: "not evaluated" } };
    if (p === undefined || !p.ok) {
      result.problem = p?.problem ?? "not prepared";
      return result;
    }
    const valueBefore = before[i];
    const valueAfter = after?.[i];
    const bound = p.expected ?? (invariant.relation === "eq" ? undefined : valueBefore && "value" in valueBefore ? valueBefore.value : undefined);
    if (bound !== undefined) result.expected = bound;
    if (valueAfter === undefined) return result;
    result.after = valueAfter;
    result.holds = invariantHolds(invariant.relation, bound, valueAfter);
    return result;
  });
}

/** Whether `after` satisfies the relation against `bound` (a revert or a missing bound never does); live monitoring reads it too. */
export function invariantHolds(relation: InvariantRelation, bound: string | undefined, after: InvariantValue): boolean {
  if (!("value" in after) || bound === undefined) return false;
  switch (relation) {
    case "unchanged":
    case "eq":
      return after.value === bound;
    case "gte":
      return BigInt(after.value) >= BigInt(bound);
    case "lte":
      return BigInt(after.value) <= BigInt(bound);
  }
}

/** Policy arguments are strings: decimal or 0x integers, 0x addresses and bytes, "true"/"false". */
export function parseArgument(type: string, text: string): unknown {
  if (/^u?int\d*$/.test(type)) {
    if (!/^(-?\d+|0x[0-9a-fA-F]+)$/.test(text)) throw new Error(`"${text}" is not an integer`);
    return BigInt(text);
  }
  if (type === "address") {
    if (!isAddress(text, { strict: false })) throw new Error(`"${text}" is not an address`);
    return getAddress(text);
  }
  if (type === "bool") {
    if (text !== "true" && text !== "false") throw new Error(`"${text}" is not true or false`);
    return text === "true";
  }
  if (/^bytes\d*$/.test(type)) {
    if (!isHex(text, { strict: true }) || text.length % 2 !== 0) throw new Error(`"${text}" is not 0x hex bytes`);
    return text.toLowerCase();
  }
  if (type === "string") return text;
  throw new Error(`arguments of type ${type} are not supported`);
}

function normalise(type: string, value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return String(value);
  if (type === "address" && typeof value === "string") return getAddress(value);
  const size = /^bytes(\d+)$/.exec(type)?.[1];
  if (size !== undefined && typeof value === "string") return pad(value.toLowerCase() as Hex, { dir: "right", size: Number(size) });
  return String(value);
}
