// Shadow deployment: the proposed upgrade, performed for real on a private fork of the target
// chain at the pinned block, by the account that would perform it. What it reads there (the
// upgrade's revert, invariants before and after, admin state before and after, admin entry points
// called by a non-authority before and after (authorityProbes.ts), a second upgrade, the storage
// the upgrade wrote) is a ShadowReport (report.ts); findings.ts and proxySafety.ts turn it into findings.
//
// Every node must reach the same findings: the fork is pinned, the fork's clock is set from the
// pinned block (never the wall clock), the only "arbitrary" caller is a fixed address, and a
// report carries chain facts only (no ports, pids, timings or transaction hashes).
//
// This module runs the deployment and reads the proxy's state; talking to the fork (JSON-RPC,
// eth_call, sending transactions) is fork.ts's, evaluating the policy's invariants invariants.ts's,
// the storage diff stateDiff.ts's. The fork itself is started through the injected `startFork`,
// whose owner (an AnvilProcesses) kills it if this run is cut short by its thread ending.
import {
  createPublicClient,
  custom,
  decodeEventLog,
  decodeFunctionResult,
  encodeFunctionData,
  getAddress,
  hexToBigInt,
  keccak256,
  numberToHex,
  parseAbi,
  sliceHex,
  stringToHex,
  toFunctionSelector,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import {
  ERC1967_ADMIN_SLOT,
  NoUpgradeAuthority,
  resolveUpgradeAuthority,
  type NoUpgradeAuthorityReason,
  type UpgradeAuthority,
  wordAddress,
} from "../../chains/authority.ts";
import type { Invariant } from "../../codec/policy.ts";
import { authorityProbes } from "./authorityProbes.ts";
import { ShadowDeploymentError } from "./errors.ts";
import { runOnForks, type ForkRunModules } from "./forkRun.ts";
import { ethCall, Fork, JsonRpc, pinnedBlock, type ForkTransaction, type PinnedBlock, type RpcLog } from "./fork.ts";
import { evaluateInvariant, invariantResults, prepareInvariant } from "./invariants.ts";
import { DEAD_ACCOUNT, ERC1967_IMPLEMENTATION_SLOT, INITIALIZABLE_V5_SLOT, initializableState, selectorConstants, transparentSelectorClash } from "./proxyFacts.ts";
import type { StorageOverride } from "./registryApproval.ts";
import type { AdminEvent, AdminState, ProxiableCheck, ProxyKind, ShadowReport } from "./report.ts";
import { stateDiff } from "./stateDiff.ts";

export interface ShadowParams {
  /** The target chain's RPC; it must serve state at `blockNumber` (an archive node for old blocks). */
  rpcUrl: string;
  chainId: number;
  /** The pinned block: the fork starts on it. */
  blockNumber: bigint;
  proxy: Address;
  /** The new implementation, already deployed on the target chain. */
  implementation: Address;
  /** The data of upgradeToAndCall, "0x" for none. */
  upgradeCall: Hex;
  invariants: readonly Invariant[];
  /** Bounds the whole run, fork start and stop included. */
  timeoutMs: number;
  /** The new implementation's selectors from its ABI; without them its dispatcher is scanned. */
  implementationSelectors?: readonly Hex[];
  /** Storage written on the fork just before the upgrade (see registryApproval.ts). */
  storageOverrides?: readonly StorageOverride[];
}

export type ShadowModules = ForkRunModules;

const UUPS_ABI = parseAbi([
  "function upgradeToAndCall(address newImplementation, bytes data) payable",
  "function upgradeTo(address newImplementation)",
  "function proxiableUUID() view returns (bytes32)",
  "function UPGRADE_INTERFACE_VERSION() view returns (string)",
  "function owner() view returns (address)",
]);
const PROXY_ADMIN_ABI = parseAbi([
  // OZ v5 ProxyAdmin; v4's has the same upgradeAndCall selector, and upgrade() for calls without data.
  "function upgradeAndCall(address proxy, address implementation, bytes data) payable",
  "function upgrade(address proxy, address implementation)",
]);
const UPGRADE_TO_SELECTOR = toFunctionSelector("upgradeTo(address)");
const PROXY_ADMIN_UPGRADE_SELECTOR = toFunctionSelector("upgrade(address,address)");

/** Ownership and role events that mean someone else may now control the proxy or its protocol. */
const ADMIN_EVENTS_ABI = parseAbi([
  "event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)",
  "event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner)",
  "event AdminChanged(address previousAdmin, address newAdmin)",
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleAdminChanged(bytes32 indexed role, bytes32 indexed previousAdminRole, bytes32 indexed newAdminRole)",
]);
const ADMIN_EVENT_TOPICS = new Set<string>(
  ADMIN_EVENTS_ABI.map((event) => keccak256(stringToHex(`${event.name}(${event.inputs.map((input) => input.type).join(",")})`))),
);

/**
 * Performs the upgrade on a fork of the target chain at the pinned block and reports what it saw.
 * The fork is always stopped before this returns or throws. Throws ShadowDeploymentError:
 * CHECK_TIMED_OUT past `timeoutMs` (the fork stopped first), BLOCK_UNAVAILABLE when the chain
 * has no such block, CHECK_FAILED when the chain or the fork fails; shadowFailureFindings turns
 * these into findings.
 *
 * @example
 * const forks = new AnvilProcesses(); // the caller's: forks.killAll() when the caller closes
 * const report = await runShadowDeployment(
 *   { rpcUrl, chainId: 1, blockNumber, proxy, implementation, upgradeCall: "0x", invariants: [], timeoutMs: 60_000 },
 *   { startAnvil: (options) => forks.start(options) },
 * )
 * const findings = shadowFindings(report, policy)
 */
export async function runShadowDeployment(params: ShadowParams, modules: ShadowModules): Promise<ShadowReport> {
  let forkRpc: JsonRpc | undefined;
  let stage = "reading the pinned block from the chain";
  // Where it was stuck, for the operator: the fork's start, or the request the fork did not answer.
  const where = () => {
    const waiting = forkRpc?.waitingFor();
    return forkRpc === undefined ? ` while ${stage}` : waiting ? `, waiting ${waiting.ms} ms for the fork to answer ${waiting.method}` : "";
  };
  const run = { what: "shadow deployment", rpcUrl: params.rpcUrl, chainId: params.chainId, blockNumber: params.blockNumber, timeoutMs: params.timeoutMs };
  return runOnForks(run, modules, async ({ pinned, startFork }) => {
    stage = "starting the fork";
    const rpc = await startFork();
    forkRpc = rpc;
    return shadow(rpc, params, pinned);
  }, where);
}

// --- the run ---------------------------------------------------------------------------------

async function shadow(rpc: JsonRpc, params: ShadowParams, pinned: PinnedBlock): Promise<ShadowReport> {
  // viem's reads go through the same one-at-a-time queue as ours.
  const client = createPublicClient({ transport: custom({ request: ({ method, params }) => forkRequest(rpc, method, params) }, { retryCount: 0 }) });
  const proxy = getAddress(params.proxy);
  const implementation = getAddress(params.implementation);
  const upgradeCall = params.upgradeCall.toLowerCase() as Hex;
  const chain = new Fork(rpc, pinned);

  const forkBlock = await pinnedBlock(rpc, pinned.number);
  if (forkBlock.hash !== pinned.hash) {
    throw new ShadowDeploymentError("CHECK_FAILED", `the fork's block ${pinned.number} is ${forkBlock.hash}, the chain's ${pinned.hash}: reorganised?`);
  }
  const atPin = numberToHex(pinned.number);

  // Before: who controls the proxy, what the invariants say, what the new implementation is.
  const authority = await upgradeAuthority(client, proxy, pinned.number);
  const before = await adminState(rpc, proxy, atPin);
  const proxyKind: ProxyKind = BigInt(before.admin) === 0n ? "uups" : "transparent";
  const prepared = params.invariants.map(prepareInvariant);
  const valuesBefore = await Promise.all(prepared.map((p) => (p.ok ? evaluateInvariant(rpc, p, proxy, atPin) : undefined)));

  const implementationCode = await rpc.request<Hex>("eth_getCode", [implementation, atPin]);
  const [v5Word, slot0Word] = await Promise.all([
    rpc.request<Hex>("eth_getStorageAt", [implementation, INITIALIZABLE_V5_SLOT, atPin]),
    rpc.request<Hex>("eth_getStorageAt", [implementation, numberToHex(0, { size: 32 }), atPin]),
  ]);
  const report: ShadowReport = {
    chainId: params.chainId,
    proxy,
    implementation,
    upgradeCall,
    forkBlockNumber: pinned.number,
    forkBlockHash: pinned.hash,
    proxyKind,
    before,
    initializable: initializableState(implementationCode, v5Word, slot0Word),
    upgrade: { status: "no-authority", reason: "no-code", message: "not attempted" }, // set on every path below
    invariants: [],
    adminEvents: [],
  };
  if (proxyKind === "uups") report.proxiable = await proxiable(rpc, implementation, atPin);
  // Without code every call "succeeds": CODE_MISSING is the implementation-code check's to report.
  if (upgradeCall !== "0x" && implementationCode !== "0x") {
    const outcome = await ethCall(rpc, { from: DEAD_ACCOUNT, to: implementation, data: upgradeCall }, atPin);
    report.upgradeCallOnImplementation = outcome.ok ? { status: "success" } : { status: "reverted", revert: outcome.revert };
  }
  if (proxyKind === "transparent") {
    const proxyCode = await rpc.request<Hex>("eth_getCode", [proxy, atPin]);
    report.selectorClash = transparentSelectorClash({ proxyCode, implementationCode, implementationSelectors: params.implementationSelectors });
  }

  // The upgrade, by its authority.
  if ("reason" in authority) {
    report.upgrade = { status: "no-authority", ...authority };
    report.invariants = invariantResults(params.invariants, prepared, valuesBefore, undefined);
    return report;
  }
  // Storage the fork assumes (a Sentinel-guarded proxy's approval of this very upgrade), written
  // after every "before" read and before the upgrade: not part of the upgrade's state diff.
  for (const write of params.storageOverrides ?? []) await rpc.request("anvil_setStorageAt", [write.address, write.slot, write.value]);
  const tx = await upgradeTransaction(rpc, authority, proxy, implementation, upgradeCall, before, atPin);
  const sent = await chain.send(tx);
  report.upgrade = { status: sent.status, authority: authority.authority, kind: authority.kind, to: tx.to, method: tx.method };
  if (sent.status === "reverted") {
    report.upgrade.revert = sent.revert;
    report.invariants = invariantResults(params.invariants, prepared, valuesBefore, undefined);
    return report;
  }

  // After: the same reads, the transaction's events and storage writes.
  const atUpgrade = numberToHex(sent.blockNumber);
  report.after = await adminState(rpc, proxy, atUpgrade);
  const valuesAfter = await Promise.all(prepared.map((p) => (p.ok ? evaluateInvariant(rpc, p, proxy, atUpgrade) : undefined)));
  report.invariants = invariantResults(params.invariants, prepared, valuesBefore, valuesAfter);
  report.adminEvents = adminEvents(sent.logs);
  report.stateDiff = await stateDiff(rpc, sent, [proxy, before.admin]);

  // Nobody else may do what the authority does: the admin entry points, by a non-authority, under
  // V1 and under V2 (eth_calls: no state, no block, no clock moves for what follows).
  const authorityAfter = await upgradeAuthority(client, proxy, sent.blockNumber);
  const authorityNow = "reason" in authorityAfter ? authority.authority : authorityAfter.authority;
  report.authorityProbes = await authorityProbes(
    rpc,
    { proxy, implementation: before.implementation, admin: before.admin, authority: authority.authority, newImplementation: implementation, block: atPin },
    { proxy, implementation: report.after.implementation, admin: report.after.admin, authority: authorityNow, newImplementation: implementation, block: atUpgrade },
  );

  // Once more, with whoever controls the proxy now: does the new code keep an upgrade path?
  if ("reason" in authorityAfter) {
    report.secondUpgrade = { status: "no-authority", ...authorityAfter };
  } else {
    const again = await upgradeTransaction(rpc, authorityAfter, proxy, implementation, "0x", report.after, atUpgrade);
    const second = await chain.send(again);
    report.secondUpgrade = { status: second.status, authority: authorityAfter.authority, kind: authorityAfter.kind, to: again.to, method: again.method };
    if (second.status === "reverted") report.secondUpgrade.revert = second.revert;
  }
  return report;
}

/** A request for viem: an RPC error is thrown with its code and data, as viem's http transport would. */
export async function forkRequest(rpc: JsonRpc, method: string, params: unknown): Promise<unknown> {
  const response = await rpc.raw(method, Array.isArray(params) ? params : []);
  if ("error" in response) throw Object.assign(new Error(response.error.message), response.error);
  return response.result;
}

export async function upgradeAuthority(
  client: PublicClient,
  proxy: Address,
  blockNumber: bigint,
): Promise<UpgradeAuthority | { reason: NoUpgradeAuthorityReason; message: string }> {
  try {
    return await resolveUpgradeAuthority(client, proxy, { blockNumber });
  } catch (error) {
    if (error instanceof NoUpgradeAuthority) return { reason: error.reason, message: error.message };
    throw error;
  }
}

export async function adminState(rpc: JsonRpc, proxy: Address, block: Hex): Promise<AdminState> {
  const [implementationWord, adminWord, owner] = await Promise.all([
    rpc.request<Hex>("eth_getStorageAt", [proxy, ERC1967_IMPLEMENTATION_SLOT, block]),
    rpc.request<Hex>("eth_getStorageAt", [proxy, ERC1967_ADMIN_SLOT, block]),
    readAddress(rpc, proxy, "owner", block),
  ]);
  const admin = wordAddress(adminWord);
  const state: AdminState = { admin, implementation: wordAddress(implementationWord) };
  if (owner !== undefined) state.owner = owner;
  if (BigInt(admin) !== 0n) {
    const adminOwner = await readAddress(rpc, admin, "owner", block);
    if (adminOwner !== undefined) state.adminOwner = adminOwner;
  }
  return state;
}

/** An address-returning view, or undefined when it reverts or does not answer an address. */
async function readAddress(rpc: JsonRpc, to: Address, functionName: "owner", block: Hex): Promise<Address | undefined> {
  const outcome = await ethCall(rpc, { to, data: encodeFunctionData({ abi: UUPS_ABI, functionName }) }, block);
  if (!outcome.ok || outcome.data.length !== 66 || hexToBigInt(outcome.data) >> 160n !== 0n) return undefined;
  return wordAddress(outcome.data);
}

async function proxiable(rpc: JsonRpc, implementation: Address, block: Hex): Promise<ProxiableCheck> {
  const outcome = await ethCall(rpc, { to: implementation, data: encodeFunctionData({ abi: UUPS_ABI, functionName: "proxiableUUID" }) }, block);
  if (!outcome.ok) return { status: "reverted", detail: outcome.revert.reason };
  if (outcome.data.length < 66) return { status: "no-answer", detail: outcome.data };
  const slot = sliceHex(outcome.data, 0, 32);
  return slot === ERC1967_IMPLEMENTATION_SLOT ? { status: "ok", detail: slot } : { status: "wrong-slot", detail: slot };
}

export interface UpgradeTx extends ForkTransaction {
  method: string;
}

/**
 * The transaction the authority sends: upgradeToAndCall on the proxy ("owner": UUPS, the
 * current implementation's function; "erc1967-admin": the transparent proxy's own), or
 * upgradeAndCall on the ProxyAdmin ("proxy-admin-owner"). OZ v4 differs without a call: its
 * *AndCall functions always make the call, empty or not (hitting the implementation's fallback),
 * so there upgradeTo / ProxyAdmin.upgrade are used, when the code that handles the call has them
 * and (where it can answer for itself) does not say UPGRADE_INTERFACE_VERSION 5.x.
 */
export async function upgradeTransaction(
  rpc: JsonRpc,
  authority: UpgradeAuthority,
  proxy: Address,
  implementation: Address,
  data: Hex,
  state: AdminState,
  block: Hex,
): Promise<UpgradeTx> {
  const from = authority.authority;
  if (authority.kind === "proxy-admin-owner") {
    const admin = state.admin;
    if (data === "0x" && (await isV4(rpc, admin, admin, PROXY_ADMIN_UPGRADE_SELECTOR, block))) {
      return { from, to: admin, data: encodeFunctionData({ abi: PROXY_ADMIN_ABI, functionName: "upgrade", args: [proxy, implementation] }), method: "upgrade(address,address)" };
    }
    return {
      from,
      to: admin,
      data: encodeFunctionData({ abi: PROXY_ADMIN_ABI, functionName: "upgradeAndCall", args: [proxy, implementation, data] }),
      method: "upgradeAndCall(address,address,bytes)",
    };
  }
  // A transparent proxy forwards UPGRADE_INTERFACE_VERSION() to its implementation: only its own code can tell.
  const v4 =
    authority.kind === "owner"
      ? await isV4(rpc, proxy, state.implementation, UPGRADE_TO_SELECTOR, block)
      : await hasSelector(rpc, proxy, UPGRADE_TO_SELECTOR, block);
  if (data === "0x" && v4) {
    return { from, to: proxy, data: encodeFunctionData({ abi: UUPS_ABI, functionName: "upgradeTo", args: [implementation] }), method: "upgradeTo(address)" };
  }
  return {
    from,
    to: proxy,
    data: encodeFunctionData({ abi: UUPS_ABI, functionName: "upgradeToAndCall", args: [implementation, data] }),
    method: "upgradeToAndCall(address,bytes)",
  };
}

/** OZ v4's upgrade interface: `code` has v4's call-less upgrade function and `to` does not answer UPGRADE_INTERFACE_VERSION 5.x. */
async function isV4(rpc: JsonRpc, to: Address, code: Address, v4Selector: Hex, block: Hex): Promise<boolean> {
  return (await hasSelector(rpc, code, v4Selector, block)) && !(await isV5(rpc, to, block));
}

async function isV5(rpc: JsonRpc, to: Address, block: Hex): Promise<boolean> {
  const outcome = await ethCall(rpc, { to, data: encodeFunctionData({ abi: UUPS_ABI, functionName: "UPGRADE_INTERFACE_VERSION" }) }, block);
  if (!outcome.ok) return false;
  try {
    return decodeFunctionResult({ abi: UUPS_ABI, functionName: "UPGRADE_INTERFACE_VERSION", data: outcome.data }).startsWith("5.");
  } catch {
    return false;
  }
}

async function hasSelector(rpc: JsonRpc, address: Address, selector: Hex, block: Hex): Promise<boolean> {
  return selectorConstants(await rpc.request<Hex>("eth_getCode", [address, block])).has(selector);
}

function adminEvents(logs: readonly RpcLog[]): AdminEvent[] {
  const events: AdminEvent[] = [];
  for (const log of logs) {
    if (log.topics[0] === undefined || !ADMIN_EVENT_TOPICS.has(log.topics[0].toLowerCase())) continue;
    const event: AdminEvent = { event: "", emitter: getAddress(log.address), logIndex: Number(BigInt(log.logIndex)), args: {} };
    try {
      const decoded = decodeEventLog({ abi: ADMIN_EVENTS_ABI, topics: log.topics as [Hex, ...Hex[]], data: log.data, strict: true });
      event.event = decoded.eventName;
      event.args = Object.fromEntries(Object.entries(decoded.args).map(([key, value]) => [key, String(value)]));
    } catch {
      // Same topic, other indexing: still an admin event, named by its topic.
      event.event = ADMIN_EVENTS_ABI.find((e) => keccak256(stringToHex(`${e.name}(${e.inputs.map((i) => i.type).join(",")})`)) === log.topics[0])?.name ?? log.topics[0];
    }
    events.push(event);
  }
  return events;
}
