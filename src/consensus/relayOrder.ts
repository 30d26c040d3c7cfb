// Who relays a candidate's attestation, and when. Every node of a validator set derives the same
// order from the candidate id alone, so no coordination message is needed: the validator ranked
// 0 relays at once, the one ranked 1 steps in after one fallback step if nothing is recorded yet,
// and so on. A different candidate gives a different, independent order, which spreads the gas
// cost of relaying over the whole set.
import { concatHex, keccak256, numberToHex, size, type Hex } from "viem";
import { SentinelError } from "../errors.ts";
import { MAX_VALIDATORS } from "./validatorSet.ts";

/** Bytes of the validator index in the hashed seed: keccak256(candidateId ‖ uint32be(index)). */
const INDEX_BYTES = 4;

export type RelayOrderErrorCode = "INVALID_CANDIDATE_ID" | "INVALID_SET_SIZE" | "INVALID_VALIDATOR_INDEX" | "INVALID_DELAY";

export class RelayOrderError extends SentinelError<RelayOrderErrorCode> {
  override name = "RelayOrderError";
}

/**
 * Validator indices of a set of `setSize`, in relay order for `candidateId`: the indices sorted
 * by keccak256(candidateId ‖ uint32be(index)) ascending. Element 0 is the primary relayer.
 *
 * @example relayOrder(candidateId, 4) // a permutation of [0, 1, 2, 3], the same on every node
 */
export function relayOrder(candidateId: Hex, setSize: number): readonly number[] {
  if (size(candidateId) !== 32) throw new RelayOrderError("INVALID_CANDIDATE_ID", `candidate id must be 32 bytes, got ${size(candidateId)}`);
  if (!Number.isInteger(setSize) || setSize < 1 || setSize > MAX_VALIDATORS) {
    throw new RelayOrderError("INVALID_SET_SIZE", `set size must be an integer in [1, ${MAX_VALIDATORS}], got ${setSize}`);
  }
  // A node asks for a candidate's order several times (its aggregators, its relay rank per chain),
  // each a keccak per validator, and all nodes ask at the same moments: computed once.
  const key = `${candidateId.toLowerCase()}:${setSize}`;
  let order = computed.get(key);
  if (order === undefined) {
    order = Object.freeze(computeOrder(candidateId, setSize));
    if (computed.size >= MAX_COMPUTED) computed.delete(computed.keys().next().value!);
    computed.set(key, order);
  }
  return order;
}

/** Orders of the candidates a node is working on (a few at a time), oldest dropped first. */
const MAX_COMPUTED = 256;
const computed = new Map<string, readonly number[]>();

function computeOrder(candidateId: Hex, setSize: number): number[] {
  const scored = Array.from({ length: setSize }, (_, index) => ({
    index,
    score: keccak256(concatHex([candidateId, numberToHex(index, { size: INDEX_BYTES })])),
  }));
  // Hex strings of equal length compare like the numbers they encode (viem writes lowercase).
  scored.sort((a, b) => (a.score < b.score ? -1 : a.score > b.score ? 1 : a.index - b.index));
  return scored.map((entry) => entry.index);
}

/**
 * The rank of `validatorIndex` in the relay order of `candidateId`: 0 is the primary relayer,
 * `setSize - 1` the last fallback. Every index of the set gets a distinct rank.
 *
 * @example relayRank(candidateId, myIndex, set.keys.length) // → 0 means "relay now"
 */
export function relayRank(candidateId: Hex, validatorIndex: number, setSize: number): number {
  const order = relayOrder(candidateId, setSize);
  if (!Number.isInteger(validatorIndex) || validatorIndex < 0 || validatorIndex >= setSize) {
    throw new RelayOrderError("INVALID_VALIDATOR_INDEX", `validator index must be an integer in [0, ${setSize}), got ${validatorIndex}`);
  }
  return order.indexOf(validatorIndex);
}

/** How long the relayer of `rank` waits before relaying: `rank * stepMs` (rank 0 at once). */
export function relayDelayMs(rank: number, stepMs: number): number {
  if (!Number.isInteger(rank) || rank < 0) throw new RelayOrderError("INVALID_DELAY", `rank must be a non-negative integer, got ${rank}`);
  if (!Number.isFinite(stepMs) || stepMs < 0) throw new RelayOrderError("INVALID_DELAY", `step must be a non-negative number, got ${stepMs}`);
  return rank * stepMs;
}
