// What the behaviour differential saw on the fork: chain facts only (no ports, pids, timings or
// fork transaction hashes), so that every node reads the same report. run.ts writes it;
// findings.ts compares its two sides.
import type { Address, Hex } from "viem";
import type { InvariantValue } from "../shadow/index.ts";

/** One call made under both implementations: a recent transaction to the proxy, or a policy probe. */
export interface BehaviourCall {
  kind: "replay" | "probe";
  /** The chain transaction's hash, or the probe's name. */
  label: string;
  from: Address;
  data: Hex;
  /** Wei, decimal. */
  value: string;
  /** The first four bytes of `data`. */
  selector: Hex;
  /** The probe's signature when known: "transfer(address,uint256)". */
  signature?: string;
  /** Calls in a row, each compared (probes only; replays are made once). */
  repeat: number;
}

/** What one call did on one side: everything a user or another contract can observe, except gas. */
export interface Effect {
  status: "success" | "reverted";
  /** Return data, or revert data. */
  output: Hex;
  logs: { address: Hex; topics: Hex[]; data: Hex }[];
  /** Storage slots the call changed, with their new value: [address, slot, after], sorted. */
  storage: [Hex, Hex, Hex][];
  /** ETH balances the call changed: [address, signed delta in wei], sorted. */
  balances: [Hex, string][];
}

/** A point in time after the upgrade, relative to the upgrade's block. */
export interface Offset {
  seconds: number;
  blocks: number;
}

export interface StepOutcome {
  offset: Offset;
  /** The policy's invariants at this point, on each side (absent: the invariant cannot be evaluated as written). */
  invariants: { name: string; v1?: InvariantValue; v2?: InvariantValue; holds?: boolean }[];
  /** effects[c][r]: call c's r-th repetition, on each side. */
  effects: { v1: Effect; v2: Effect }[][];
}

export interface BehaviourReport {
  proxy: Address;
  implementation: Address;
  forkBlockNumber: bigint;
  /** Why nothing was compared (the upgrade did not happen: the shadow deployment reports that). */
  notCompared?: string;
  /** The calls compared, in order: replays oldest first, then probes. */
  calls: BehaviourCall[];
  /** Probes the policy declares that cannot be made as written (its problem, not a chain fact). */
  probeProblems: { probe: string; problem: string }[];
  /** Calls not compared, and why (a function V1 did not have, one V2 removed, no selector). */
  skipped: { label: string; selector: Hex; why: string }[];
  /** The upgrade's own point first (offset zero), then each latent step. */
  steps: StepOutcome[];
}
