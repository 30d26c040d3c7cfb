// Which effects are capabilities worth gating, and what makes one material. Slots are recognised
// by OpenZeppelin v5's ERC-7201 namespaces and the ERC-1967 slots (every upgradeable OZ v5
// contract keeps its authority and balances there), and, for contracts with their own plain
// storage, by the compiler's storage layout: a variable whose name says owner/admin, balances or
// total supply.
import { ADDRESS_MASK, type Term, type Terms } from "./terms.ts";
import type { Effect } from "./executor.ts";
import type { Formula } from "./solver.ts";

export type CapabilityKind =
  /** A write to an owner, pending-owner, admin or beacon slot. */
  | "authority-write"
  /** A write to the ERC-1967 implementation slot. */
  | "upgrade"
  /** A role granted or revoked (AccessControl's role mapping). */
  | "role-change"
  /** Total supply changed: a mint or a burn. */
  | "supply-change"
  /** The balance of an account other than the caller goes down. */
  | "balance-debit"
  /** A CALL that sends value. */
  | "value-transfer"
  /** A CALL or DELEGATECALL to an address taken from calldata. */
  | "call-to-chosen-target"
  | "delegatecall-to-chosen-target"
  | "selfdestruct";

const slot = (hex: string) => BigInt(hex);

/** OZ v5 namespaces (keccak256(abi.encode(uint256(keccak256(id)) - 1)) & ~0xff). */
export const SLOTS = {
  ownable: slot("0x9016d09d72d40fdae2fd8ceac6b6234c7706214fd39c1cd1e609a0528c199300"),
  ownable2Step: slot("0x237e158222e3e6968b72b9db0d8043aacf074ad9f650f0d1606b4d82ee432c00"),
  accessControl: slot("0x02dd7bc7dec4dceedda775e58dd541e08a116c6c53815c0bd028192f7b626800"),
  defaultAdminRules: slot("0xeef3dac4538c82c8ace4063ab0acd2d15cdb5883aa1dff7c2673abb3d8698400"),
  erc20: slot("0x52c63247e1f47db19d5ce0460030c497f067ca4cebf71ba98eeadabe20bace00"),
  /** ERC721Storage: _name, _symbol, _owners (+2), _balances (+3), _tokenApprovals, _operatorApprovals. */
  erc721: slot("0x80bb2b638cc20bc4d0a60d66940f3ab4a00c1d7b313497ca82fb0b4ab0079300"),
  initializable: slot("0xf0c57e16840df040f15088dc2f81fe391c3923bec73e23a9662efc9c229c6a00"),
  implementation: slot("0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"),
  admin: slot("0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103"),
  beacon: slot("0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6cb3582b35133d50"),
} as const;

/** Plain-storage variables (from the compiler's storage layout) that play the same parts. */
export interface LayoutRoles {
  authority: bigint[];
  balances: bigint[];
  supply: bigint[];
}

export interface StorageLayoutEntry {
  label: string;
  slot: string;
  offset: number;
  type: string;
}

export function layoutRoles(layouts: readonly (readonly StorageLayoutEntry[])[]): LayoutRoles {
  const roles: LayoutRoles = { authority: [], balances: [], supply: [] };
  for (const entry of layouts.flat()) {
    const at = BigInt(entry.slot);
    if (/owner|admin|governor|guardian/i.test(entry.label) && entry.type.startsWith("t_address")) roles.authority.push(at);
    else if (/balance/i.test(entry.label) && entry.type.startsWith("t_mapping")) roles.balances.push(at);
    else if (/totalsupply/i.test(entry.label.replace(/_/g, ""))) roles.supply.push(at);
  }
  return roles;
}

/** The slots whose current values name authorities (owner, pending owner, admin): outsiders are none of them. */
export function authoritySlots(roles: LayoutRoles): bigint[] {
  return [SLOTS.ownable, SLOTS.ownable2Step, SLOTS.defaultAdminRules, SLOTS.defaultAdminRules + 1n, SLOTS.admin, ...roles.authority];
}

export interface Capability {
  kind: CapabilityKind;
  /** What makes it more than a no-op (value actually changes, an amount above zero, another account). */
  material: Formula[];
}

/** The capability an effect exercises, if any. `caller` is the CALLER variable. */
export function classify(effect: Effect, roles: LayoutRoles, terms: Terms, caller: Term): Capability | undefined {
  const changes = (e: { value: Term; previous: Term }): Formula[] => [{ kind: "equal", a: e.value, b: e.previous, holds: false }];
  if (effect.kind === "selfdestruct") return { kind: "selfdestruct", material: [] };
  if (effect.kind === "call") {
    // Ether out first: a call that may send value is named for the value, whoever receives it.
    if (effect.opcode !== "DELEGATECALL" && !(effect.value.op === "const" && effect.value.value === 0n)) {
      return { kind: "value-transfer", material: [{ kind: "nonzero", term: effect.value, holds: true }] };
    }
    if (fromCalldata(effect.target)) {
      return { kind: effect.opcode === "DELEGATECALL" ? "delegatecall-to-chosen-target" : "call-to-chosen-target", material: [] };
    }
    return undefined;
  }
  const { slot } = effect;
  if (slot.op === "const") {
    const at = slot.value!;
    if (at === SLOTS.implementation) return { kind: "upgrade", material: changes(effect) };
    if (authoritySlots(roles).includes(at) || at === SLOTS.beacon) return { kind: "authority-write", material: changes(effect) };
    if (at === SLOTS.erc20 + 2n || roles.supply.includes(at)) return { kind: "supply-change", material: changes(effect) };
  }
  if (isRoleAdmin(slot, terms)) return { kind: "role-change", material: changes(effect) };
  const mapping = mappingOf(slot, terms);
  if (mapping === undefined) return undefined;
  const base = mapping.base;
  if (base.op === "const" && (base.value === SLOTS.erc20 || base.value === SLOTS.erc721 + 3n || roles.balances.includes(base.value!))) {
    // Another account's balance goes down: the key is not the caller and the new value is below the old.
    const key = terms.apply("and", mapping.key, terms.constant(ADDRESS_MASK));
    return {
      kind: "balance-debit",
      material: [
        { kind: "equal", a: key, b: caller, holds: false },
        { kind: "ult", a: effect.value, b: effect.previous },
      ],
    };
  }
  // _roles[role].hasRole[account]: keccak(account . keccak(role . namespace)).
  const outer = mappingOf(base, terms);
  if (outer !== undefined && outer.base.op === "const" && outer.base.value === SLOTS.accessControl) return { kind: "role-change", material: changes(effect) };
  return undefined;
}

/** _roles[role].adminRole: the RoleData struct's second slot, keccak(role . namespace) + 1. */
function isRoleAdmin(slot: Term, terms: Terms): boolean {
  let entry: Term | undefined;
  if (slot.op === "const") entry = terms.constant(slot.value! - 1n);
  else if (slot.op === "add") {
    const [a, b] = slot.args as [Term, Term];
    const [one, other] = a.op === "const" ? [a, b] : [b, a];
    if (one.op === "const" && one.value === 1n) entry = other;
  }
  const mapping = entry && mappingOf(entry, terms);
  return mapping !== undefined && mapping.base.op === "const" && mapping.base.value === SLOTS.accessControl;
}

/** An ERC-20 balance: an entry of OZ's balances mapping (only its own balances have a total supply to bound them). */
export function isBalanceEntry(slot: Term, terms: Terms): boolean {
  const mapping = mappingOf(slot, terms);
  return mapping !== undefined && mapping.base.op === "const" && mapping.base.value === SLOTS.erc20;
}

/** An ERC-721 balance: a count of tokens, far below 2^128 (so `+= 1` never wraps). */
export function isTokenCount(slot: Term, terms: Terms): boolean {
  const mapping = mappingOf(slot, terms);
  return mapping !== undefined && mapping.base.op === "const" && mapping.base.value === SLOTS.erc721 + 3n;
}

/** A mapping entry's slot, keccak(key . base), split in its parts; a constant one by the hash the executor folded. */
function mappingOf(slot: Term, terms: Terms): { key: Term; base: Term } | undefined {
  if (slot.op === "const") {
    const folded = terms.preimage(slot.value!);
    return folded?.size === 64 ? { key: folded.args[0]!, base: folded.args[1]! } : undefined;
  }
  if (slot.op !== "keccak" || slot.size !== 64) return undefined;
  return { key: slot.args[0]!, base: slot.args[1]! };
}

function fromCalldata(term: Term): boolean {
  if (term.op === "var") return term.name!.startsWith("cd") || term.name!.startsWith("calldata");
  return term.args.some(fromCalldata);
}
