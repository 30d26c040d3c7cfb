// The upgrade authority, proven on the fork: the admin entry points of the proxy (upgrade,
// ownership, default-admin roles) and of its ProxyAdmin, called by an account that is not the
// authority, under the current implementation (the pinned block) and under the new one (the block
// of the upgrade). An entry point that reverted before and succeeds after is authority the upgrade
// gave away. The upgrade's second attempt, by the real authority, only proves a path exists; these
// prove nobody else has one.
//
// Probes are eth_calls at a fixed block: they change no state, mine no block and move no clock, so
// the rest of the shadow deployment sees exactly what it saw without them (stronger than a
// transaction between evm_snapshot and evm_revert, which would still advance the fork's blocks).
// The caller is DEAD_ACCOUNT on every node.
import { encodeFunctionData, keccak256, parseAbi, stringToHex, zeroHash, type Address, type Hex } from "viem";
import { DEAD_ACCOUNT } from "../accounts.ts";
import { functionSelectors } from "../bytecode/index.ts";
import { ethCall, type JsonRpc } from "./fork.ts";
import type { AuthorityProbe, ProbeOutcome } from "./report.ts";

const PROBE_ABI = parseAbi([
  "function upgradeToAndCall(address newImplementation, bytes data) payable",
  "function upgradeTo(address newImplementation)",
  "function transferOwnership(address newOwner)",
  "function acceptOwnership()",
  "function renounceOwnership()",
  "function grantRole(bytes32 role, address account)",
  "function renounceRole(bytes32 role, address callerConfirmation)",
  "function beginDefaultAdminTransfer(address newAdmin)",
  "function acceptDefaultAdminTransfer()",
  // ProxyAdmin: v5 has upgradeAndCall only; v4 also upgrade and changeProxyAdmin.
  "function upgradeAndCall(address proxy, address implementation, bytes data) payable",
  "function upgrade(address proxy, address implementation)",
  "function changeProxyAdmin(address proxy, address newAdmin)",
]);

/** OZ's conventional upgrader role, next to DEFAULT_ADMIN_ROLE (zero): the two roles that hold upgrade authority. */
const UPGRADER_ROLE: Hex = keccak256(stringToHex("UPGRADER_ROLE"));

/** The accounts and contracts one round of probes needs, at one block. */
export interface ProbeTargets {
  proxy: Address;
  /** The code a non-admin's call to the proxy reaches: the implementation in the ERC-1967 slot. */
  implementation: Address;
  /** The ERC-1967 admin (a ProxyAdmin), or the zero address. */
  admin: Address;
  /** The upgrade authority: whose role a renounceRole probe tries to give up. */
  authority: Address;
  /** The implementation the upgrade probes try to install (the candidate's). */
  newImplementation: Address;
}

interface Probe {
  entryPoint: string;
  on: "proxy" | "admin";
  data: Hex;
}

function probes(targets: ProbeTargets): Probe[] {
  const outsider = DEAD_ACCOUNT;
  const { proxy, newImplementation: next, authority } = targets;
  const call = (on: Probe["on"], entryPoint: string, data: Hex): Probe => ({ entryPoint, on, data });
  const proxyProbes: Probe[] = [
    call("proxy", "upgradeToAndCall(address,bytes)", encodeFunctionData({ abi: PROBE_ABI, functionName: "upgradeToAndCall", args: [next, "0x"] })),
    call("proxy", "upgradeTo(address)", encodeFunctionData({ abi: PROBE_ABI, functionName: "upgradeTo", args: [next] })),
    call("proxy", "transferOwnership(address)", encodeFunctionData({ abi: PROBE_ABI, functionName: "transferOwnership", args: [outsider] })),
    call("proxy", "acceptOwnership()", encodeFunctionData({ abi: PROBE_ABI, functionName: "acceptOwnership" })),
    call("proxy", "renounceOwnership()", encodeFunctionData({ abi: PROBE_ABI, functionName: "renounceOwnership" })),
    call("proxy", "grantRole(DEFAULT_ADMIN_ROLE,caller)", encodeFunctionData({ abi: PROBE_ABI, functionName: "grantRole", args: [zeroHash, outsider] })),
    call("proxy", "grantRole(UPGRADER_ROLE,caller)", encodeFunctionData({ abi: PROBE_ABI, functionName: "grantRole", args: [UPGRADER_ROLE, outsider] })),
    call("proxy", "renounceRole(DEFAULT_ADMIN_ROLE,authority)", encodeFunctionData({ abi: PROBE_ABI, functionName: "renounceRole", args: [zeroHash, authority] })),
    call("proxy", "beginDefaultAdminTransfer(address)", encodeFunctionData({ abi: PROBE_ABI, functionName: "beginDefaultAdminTransfer", args: [outsider] })),
    call("proxy", "acceptDefaultAdminTransfer()", encodeFunctionData({ abi: PROBE_ABI, functionName: "acceptDefaultAdminTransfer" })),
  ];
  if (BigInt(targets.admin) === 0n) return proxyProbes;
  return [
    ...proxyProbes,
    call("admin", "upgradeAndCall(address,address,bytes)", encodeFunctionData({ abi: PROBE_ABI, functionName: "upgradeAndCall", args: [proxy, next, "0x"] })),
    call("admin", "upgrade(address,address)", encodeFunctionData({ abi: PROBE_ABI, functionName: "upgrade", args: [proxy, next] })),
    call("admin", "transferOwnership(address)", encodeFunctionData({ abi: PROBE_ABI, functionName: "transferOwnership", args: [outsider] })),
    call("admin", "changeProxyAdmin(address,address)", encodeFunctionData({ abi: PROBE_ABI, functionName: "changeProxyAdmin", args: [proxy, outsider] })),
  ];
}

/**
 * Every probe's outcome at one block. A probe whose selector the answering code's dispatcher does
 * not compare (bytecode/selectors.ts) is "absent" and not called: a fallback that accepts
 * anything is not an entry point.
 */
export async function runProbes(rpc: JsonRpc, targets: ProbeTargets, block: Hex): Promise<Map<string, { to: Address; outcome: ProbeOutcome }>> {
  const code = new Map<Address, Set<Hex>>();
  const selectorsOf = async (address: Address) => {
    let selectors = code.get(address);
    if (selectors === undefined) code.set(address, (selectors = new Set(functionSelectors(await rpc.request<Hex>("eth_getCode", [address, block])))));
    return selectors;
  };
  const outcomes = new Map<string, { to: Address; outcome: ProbeOutcome }>();
  for (const probe of probes(targets)) {
    const to = probe.on === "proxy" ? targets.proxy : targets.admin;
    const answering = probe.on === "proxy" ? targets.implementation : targets.admin;
    const key = `${probe.on}:${probe.entryPoint}`;
    if (!(await selectorsOf(answering)).has(probe.data.slice(0, 10).toLowerCase() as Hex)) {
      outcomes.set(key, { to, outcome: { status: "absent" } });
      continue;
    }
    const result = await ethCall(rpc, { from: DEAD_ACCOUNT, to, data: probe.data }, block);
    outcomes.set(key, { to, outcome: result.ok ? { status: "success" } : { status: "reverted", reason: result.revert.reason } });
  }
  return outcomes;
}

/**
 * Both rounds, entry point by entry point, in the probes' fixed order. Not run when the caller
 * is the authority (or the owner) in either state: then no call proves anything.
 */
export async function authorityProbes(rpc: JsonRpc, before: ProbeTargets & { block: Hex }, after: ProbeTargets & { block: Hex }): Promise<AuthorityProbe[]> {
  const insiders = [before.authority, after.authority].map((address) => address.toLowerCase());
  if (insiders.includes(DEAD_ACCOUNT.toLowerCase())) return [];
  const under = await runProbes(rpc, before, before.block);
  const over = await runProbes(rpc, after, after.block);
  const results: AuthorityProbe[] = [];
  for (const [key, { outcome: beforeOutcome }] of under) {
    const afterProbe = over.get(key);
    if (afterProbe === undefined) continue;
    const [on, entryPoint] = [key.slice(0, key.indexOf(":")) as "proxy" | "admin", key.slice(key.indexOf(":") + 1)];
    results.push({ entryPoint, on, to: afterProbe.to, caller: DEAD_ACCOUNT, before: beforeOutcome, after: afterProbe.outcome });
  }
  return results;
}

/** A probe the upgrade opened: it succeeds under the new implementation, and did not under the current one. */
export function weakened(probe: AuthorityProbe): boolean {
  return probe.after.status === "success" && probe.before.status !== "success";
}
