// What a shadow run saw on the fork: chain facts only (no ports, pids, timings or transaction
// hashes), so that every node reads the same report. run.ts writes it; findings.ts and
// proxySafety.ts turn it into the findings of the two checks it serves.
import type { Address, Hex } from "viem";
import type { NoUpgradeAuthorityReason, UpgradeAuthorityKind } from "../../chains/authority.ts";
import type { Revert } from "./fork.ts";
import type { InvariantResult } from "./invariants.ts";
import type { InitializableState, SelectorClash } from "./proxyFacts.ts";

export type ProxyKind = "uups" | "transparent";

/** Who controls the proxy, read at one block. Absent fields: the call did not answer. */
export interface AdminState {
  /** owner() called on the proxy. */
  owner?: Address;
  /** The ERC-1967 admin slot (the zero address when empty). */
  admin: Address;
  /** owner() of the admin, as with OZ's ProxyAdmin. */
  adminOwner?: Address;
  /** The ERC-1967 implementation slot. */
  implementation: Address;
}

export type UpgradeOutcome =
  | {
      status: "success" | "reverted";
      authority: Address;
      kind: UpgradeAuthorityKind;
      /** The contract called: the proxy, or its ProxyAdmin. */
      to: Address;
      method: string;
      revert?: Revert;
    }
  | { status: "no-authority"; reason: NoUpgradeAuthorityReason; message: string };

export interface AdminEvent {
  event: string;
  emitter: Address;
  logIndex: number;
  args: Record<string, string>;
}

export interface StorageChange {
  /** Lowercase hex. */
  address: Hex;
  /** 32-byte lowercase hex. */
  slot: Hex;
  before: Hex;
  after: Hex;
}

export interface StateDiff {
  /** "prestateTracer": anvil's diff-mode prestate trace names the slots; "known-slots": a fixed list was read. */
  method: "prestateTracer" | "known-slots";
  changes: StorageChange[];
  /** keccak256 of the canonical JSON of the changes (see stateDiffDigest). */
  digest: Hex;
}

export interface ProxiableCheck {
  status: "ok" | "reverted" | "no-answer" | "wrong-slot";
  /** The returned word, or the decoded revert. */
  detail: string;
}

/** One admin entry point called by a non-authority: "absent" when the answering code's dispatcher lacks it (not called). */
export type ProbeOutcome = { status: "absent" } | { status: "success" } | { status: "reverted"; reason: string };

export interface AuthorityProbe {
  /** The function, e.g. `upgradeToAndCall(address,bytes)` or `grantRole(DEFAULT_ADMIN_ROLE,caller)`. */
  entryPoint: string;
  /** Called on the proxy, or on its ERC-1967 admin (a ProxyAdmin). */
  on: "proxy" | "admin";
  to: Address;
  /** The non-authority caller: DEAD_ACCOUNT. */
  caller: Address;
  /** Under the current implementation, at the pinned block. */
  before: ProbeOutcome;
  /** Under the new implementation, at the block of the upgrade. */
  after: ProbeOutcome;
}

export interface ShadowReport {
  chainId: number;
  proxy: Address;
  implementation: Address;
  upgradeCall: Hex;
  forkBlockNumber: bigint;
  forkBlockHash: Hex;
  /** From the admin slot at the pinned block: set → transparent, empty → UUPS. */
  proxyKind: ProxyKind;
  before: AdminState;
  /** Absent when the upgrade did not happen. */
  after?: AdminState;
  /** UUPS only. */
  proxiable?: ProxiableCheck;
  initializable: InitializableState;
  /** The upgrade call made on the bare implementation by DEAD_ACCOUNT; absent without an upgrade call. */
  upgradeCallOnImplementation?: { status: "success" | "reverted"; revert?: Revert };
  upgrade: UpgradeOutcome;
  invariants: InvariantResult[];
  /** Ownership and role events of the upgrade transaction, any emitter. */
  adminEvents: AdminEvent[];
  /** The upgrade once more, to the same implementation without a call; absent when the first did not happen. */
  secondUpgrade?: UpgradeOutcome;
  /** Storage written by the upgrade transaction; absent when it did not happen. */
  stateDiff?: StateDiff;
  /** Transparent proxies only. */
  selectorClash?: SelectorClash;
  /** Admin entry points called by a non-authority before and after the upgrade (authorityProbes.ts); absent when the upgrade did not happen. */
  authorityProbes?: AuthorityProbe[];
}
