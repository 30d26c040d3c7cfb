// Shadow deployment: the proposed upgrade, performed for real on a private fork of the target
// chain at the pinned block, by the account that would perform it. What it reads there (the
// upgrade's revert, invariants before and after, admin state before and after, a second upgrade,
// the storage the upgrade wrote) is a ShadowReport; shadowFindings turns it into findings.
//
// Every node must reach the same findings: the fork is pinned, the fork's clock is set from the
// pinned block (never the wall clock), the only "arbitrary" caller is a fixed address, and a
// report carries chain facts only (no ports, pids, timings or transaction hashes).
//
// This module runs the deployment and reads the proxy's state; talking to the fork (JSON-RPC,
// eth_call, sending transactions) is fork.ts's, evaluating the policy's invariants invariants.ts's.
import {
  createPublicClient,
  decodeEventLog,
  decodeFunctionResult,
  encodeFunctionData,
  getAddress,
  hexToBigInt,
  custom,
  keccak256,
  numberToHex,
  pad,
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
  type UpgradeAuthorityKind,
  wordAddress,
} from "../chains/authority.ts";
import { startAnvil, type AnvilInstance, type AnvilOptions } from "../devnet/anvil.ts";
import { ethCall, Fork, JsonRpc, pinnedBlock, type ForkTransaction, type PinnedBlock, type Revert, type RpcLog, type Sent } from "./fork.ts";
import { evaluateInvariant, invariantResults, prepareInvariant, type InvariantResult, type InvariantValue } from "./invariants.ts";
import type { Finding } from "./pipeline.ts";
import type { Invariant, Policy } from "../codec/policy.ts";
import {
  DEAD_ACCOUNT,
  ERC1967_IMPLEMENTATION_SLOT,
  INITIALIZABLE_V5_SLOT,
  initializableState,
  PROXY_SAFETY_CHECK,
  proxySafetyFindings,
  selectorConstants,
  transparentSelectorClash,
  type InitializableState,
  type SelectorClash,
} from "./proxySafety.ts";
import type { StorageOverride } from "./registryApproval.ts";
import { firstLine, ShadowDeploymentError, type ShadowErrorCode } from "./shadowErrors.ts";

// Part of this module's API, defined where they are produced.
export { decodeRevert, type Revert } from "./fork.ts";
export type { InvariantResult, InvariantValue } from "./invariants.ts";
export { ShadowDeploymentError, type ShadowErrorCode } from "./shadowErrors.ts";

export const SHADOW_DEPLOYMENT_CHECK = "shadow-deployment";

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

export interface ShadowModules {
  startAnvil: (options: AnvilOptions) => Promise<AnvilInstance>;
}

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
}

/** Revert data in evidence is cut here: the new code chooses it. */
const MAX_EVIDENCE_HEX_BYTES = 256;

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

/** Slots read when anvil cannot trace: ERC-1967's three, OZ v5's Initializable and Ownable(2Step) namespaces, slots 0–15. */
const KNOWN_SLOTS: readonly Hex[] = [
  ERC1967_IMPLEMENTATION_SLOT,
  ERC1967_ADMIN_SLOT,
  "0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6cb3582b35133d50", // eip1967.proxy.beacon - 1
  INITIALIZABLE_V5_SLOT,
  "0x9016d09d72d40fdae2fd8ceac6b6234c7706214fd39c1cd1e609a0528c199300", // openzeppelin.storage.Ownable
  "0x237e158222e3e6968b72b9db0d8043aacf074ad9f650f0d1606b4d82ee432c00", // openzeppelin.storage.Ownable2Step
  ...Array.from({ length: 16 }, (_, i) => numberToHex(i, { size: 32 })),
];

/**
 * Performs the upgrade on a fork of the target chain at the pinned block and reports what it saw.
 * The fork is always stopped before this returns or throws. Throws ShadowDeploymentError:
 * CHECK_TIMED_OUT past `timeoutMs` (the fork stopped first), BLOCK_UNAVAILABLE when the chain
 * has no such block, CHECK_FAILED when the chain or the fork fails; shadowFailureFindings turns
 * these into findings.
 *
 * @example
 * const report = await runShadowDeployment({ rpcUrl, chainId: 1, blockNumber, proxy, implementation, upgradeCall: "0x", invariants: [], timeoutMs: 60_000 })
 * const findings = shadowFindings(report, policy)
 */
export async function runShadowDeployment(params: ShadowParams, modules: ShadowModules = { startAnvil }): Promise<ShadowReport> {
  const controller = new AbortController();
  let fork: AnvilInstance | undefined;
  let forkRpc: JsonRpc | undefined;
  let stage = "reading the pinned block from the chain";
  let timer: NodeJS.Timeout | undefined;
  // Where it was stuck, for the operator: the fork's start, or the request the fork did not answer.
  const timedOut = () => {
    const waiting = forkRpc?.waitingFor();
    const where = forkRpc === undefined ? ` while ${stage}` : waiting ? `, waiting ${waiting.ms} ms for the fork to answer ${waiting.method}` : "";
    return new ShadowDeploymentError("CHECK_TIMED_OUT", `shadow deployment timed out after ${params.timeoutMs} ms${where}`);
  };
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = timedOut();
      controller.abort();
      reject(error);
    }, params.timeoutMs);
  });
  const work = (async () => {
    const forkBlock = await pinnedBlock(new JsonRpc(params.rpcUrl, controller.signal), params.blockNumber);
    stage = "starting the fork";
    const started = await modules.startAnvil({
      chainId: params.chainId,
      forkUrl: params.rpcUrl,
      forkBlockNumber: params.blockNumber,
      // A fork cache could outlive a reorg of the pinned block: every node reads the chain afresh.
      // No dev accounts: anvil would otherwise overwrite ten accounts' balances in the forked state.
      // No compute-unit throttle (330/s by default, meant for public providers): the node's own
      // RPC serves it, and a throttled fork only makes the check slower. A state request to the
      // chain that gets no answer is retried after 8 s rather than anvil's default 45 s, which is
      // this whole check's bound: under load a request can be lost on a reused connection.
      extraArgs: ["--no-storage-caching", "--accounts", "0", "--no-rate-limit", "--timeout", "8000", "--retries", "5"],
      signal: controller.signal,
    });
    fork = started;
    if (controller.signal.aborted) throw new ShadowDeploymentError("CHECK_TIMED_OUT", "timed out while the fork started");
    forkRpc = new JsonRpc(started.rpcUrl, controller.signal);
    return await shadow(forkRpc, params, forkBlock);
  })();
  try {
    return await Promise.race([work, deadline]);
  } catch (error) {
    if (error instanceof ShadowDeploymentError) throw error;
    if (controller.signal.aborted) throw new ShadowDeploymentError("CHECK_TIMED_OUT", `shadow deployment timed out after ${params.timeoutMs} ms`);
    throw new ShadowDeploymentError("CHECK_FAILED", `shadow deployment failed: ${firstLine(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
    controller.abort();
    // After the abort every RPC fails at once and a starting anvil is killed, so `work` settles
    // promptly; waiting for it means no fork is started after this returns.
    await work.catch(() => undefined);
    await fork?.stop();
  }
}

/** Findings of both checks the shadow deployment serves: "shadow-deployment" and "proxy-safety". */
export function shadowFindings(report: ShadowReport, policy: Pick<Policy, "allowAdminChange">): Finding[] {
  return [...shadowDeploymentFindings(report), ...proxySafetyFindings(report, policy)];
}

/**
 * The "shadow-deployment" findings:
 * - [REJECT] UPGRADE_REVERTED: nobody can upgrade, the upgrade reverts, or it leaves another implementation in the slot;
 * - [REJECT] INVARIANT_VIOLATED: one per invariant that does not hold after the upgrade;
 * - [REJECT] POLICY_INVALID: an invariant that cannot be evaluated as written;
 * - [REJECT] NOT_UPGRADEABLE_AFTER: the upgraded proxy cannot be upgraded again;
 * - always one info finding carrying the fork block and the state-diff digest.
 */
export function shadowDeploymentFindings(report: ShadowReport): Finding[] {
  const check = SHADOW_DEPLOYMENT_CHECK;
  const findings: Finding[] = [];
  const upgrade = report.upgrade;
  if (upgrade.status === "no-authority") {
    findings.push({ check, code: "UPGRADE_REVERTED", severity: "reject", message: `nobody can perform the upgrade: ${upgrade.message}`, evidence: { reason: upgrade.reason } });
  } else if (upgrade.status === "reverted") {
    findings.push({
      check,
      code: "UPGRADE_REVERTED",
      severity: "reject",
      message: `the upgrade reverts: ${upgrade.revert?.reason ?? "no revert data"}`,
      evidence: upgradeEvidence(upgrade),
    });
  } else if (report.after && report.after.implementation !== report.implementation) {
    findings.push({
      check,
      code: "UPGRADE_REVERTED",
      severity: "reject",
      message: `the upgrade succeeded but the implementation slot holds ${report.after.implementation}, not ${report.implementation}`,
      evidence: { expected: report.implementation, actual: report.after.implementation },
    });
  }

  for (const result of report.invariants) {
    const evidence = invariantEvidence(result);
    if (result.problem !== undefined) {
      findings.push({ check, code: "POLICY_INVALID", severity: "reject", message: `invariant ${result.name}: ${result.problem}`, evidence });
    } else if (result.holds === false) {
      const expected = result.expected === undefined ? "" : ` ${result.expected}`;
      findings.push({
        check,
        code: "INVARIANT_VIOLATED",
        severity: "reject",
        message: `invariant ${result.name} (${result.relation}${expected}) does not hold: ${valueText(result.before)} before, ${result.after ? valueText(result.after) : "nothing"} after`,
        evidence,
      });
    }
  }

  const second = report.secondUpgrade;
  if (second?.status === "no-authority") {
    findings.push({ check, code: "NOT_UPGRADEABLE_AFTER", severity: "reject", message: `after the upgrade nobody can upgrade the proxy: ${second.message}`, evidence: { reason: second.reason } });
  } else if (second?.status === "reverted") {
    findings.push({
      check,
      code: "NOT_UPGRADEABLE_AFTER",
      severity: "reject",
      message: `after the upgrade, upgrading again reverts: ${second.revert?.reason ?? "no revert data"}`,
      evidence: upgradeEvidence(second),
    });
  }

  const summary: Record<string, string> = {
    forkBlockNumber: report.forkBlockNumber.toString(),
    forkBlockHash: report.forkBlockHash,
    proxyKind: report.proxyKind,
    stateDiffDigest: report.stateDiff?.digest ?? "",
    stateDiffMethod: report.stateDiff?.method ?? "",
    storageChanges: String(report.stateDiff?.changes.length ?? 0),
  };
  if (upgrade.status !== "no-authority") Object.assign(summary, { authority: upgrade.authority, authorityKind: upgrade.kind });
  findings.push({ check, code: "OK", severity: "info", message: `shadow deployment on a fork at block ${report.forkBlockNumber}`, evidence: summary });
  return findings;
}

/** Findings for both checks when the shadow deployment could not run to the end. */
export function shadowFailureFindings(error: unknown): Finding[] {
  const code: ShadowErrorCode = error instanceof ShadowDeploymentError ? error.code : "CHECK_FAILED";
  const message = firstLine(error);
  return [SHADOW_DEPLOYMENT_CHECK, PROXY_SAFETY_CHECK].map((check) => ({ check, code, severity: "reject" as const, message }));
}

/**
 * The digest of a set of storage changes: keccak256 of canonical JSON, addresses and slots
 * sorted, all hex lowercase and 32-byte words, unchanged slots dropped.
 */
export function stateDiffDigest(changes: readonly StorageChange[]): Hex {
  return keccak256(stringToHex(JSON.stringify({ schema: "sentinel.state-diff/1", changes: canonicalChanges(changes) })));
}

function canonicalChanges(changes: readonly StorageChange[]): [string, string, string, string][] {
  return changes
    .map((c): [string, string, string, string] => [c.address.toLowerCase(), word(c.slot), word(c.before), word(c.after)])
    .filter(([, , before, after]) => before !== after)
    .sort((a, b) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
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

  // Once more, with whoever controls the proxy now: does the new code keep an upgrade path?
  const authorityAfter = await upgradeAuthority(client, proxy, sent.blockNumber);
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
async function forkRequest(rpc: JsonRpc, method: string, params: unknown): Promise<unknown> {
  const response = await rpc.raw(method, Array.isArray(params) ? params : []);
  if ("error" in response) throw Object.assign(new Error(response.error.message), response.error);
  return response.result;
}

async function upgradeAuthority(
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

async function adminState(rpc: JsonRpc, proxy: Address, block: Hex): Promise<AdminState> {
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

interface UpgradeTx extends ForkTransaction {
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
async function upgradeTransaction(
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

/** debug_traceTransaction's prestateTracer result, one side of the diff. */
type PrestateAccounts = Record<string, { storage?: Record<string, Hex> }>;

/**
 * The storage the upgrade transaction changed. anvil's diff-mode prestate trace names the
 * touched slots; their values are then read from the blocks before and after the transaction
 * (each transaction is alone in its block), so the digest does not depend on how a tracer
 * encodes values. Without the tracer, a fixed list of well-known slots is read instead.
 */
async function stateDiff(rpc: JsonRpc, sent: Sent & { status: "success" }, fallbackAccounts: readonly Address[]): Promise<StateDiff> {
  let method: StateDiff["method"] = "prestateTracer";
  let touched: [Hex, Hex][] = [];
  const traced = await rpc.raw("debug_traceTransaction", [sent.hash, { tracer: "prestateTracer", tracerConfig: { diffMode: true } }]);
  const diff = "result" in traced ? (traced.result as { pre?: PrestateAccounts; post?: PrestateAccounts }) : undefined;
  if (diff?.pre !== undefined && diff.post !== undefined) {
    for (const side of [diff.pre, diff.post]) {
      for (const [address, account] of Object.entries(side)) {
        for (const slot of Object.keys(account.storage ?? {})) touched.push([address.toLowerCase() as Hex, word(slot as Hex) as Hex]);
      }
    }
  } else {
    method = "known-slots";
    const accounts = fallbackAccounts.filter((account) => BigInt(account) !== 0n).map((a) => a.toLowerCase() as Hex);
    touched = accounts.flatMap((address) => KNOWN_SLOTS.map((slot): [Hex, Hex] => [address, slot]));
  }
  const unique = [...new Map(touched.map(([address, slot]) => [`${address}:${slot}`, [address, slot] as const])).values()];
  const beforeBlock = numberToHex(sent.blockNumber - 1n);
  const afterBlock = numberToHex(sent.blockNumber);
  const changes = await Promise.all(
    unique.map(async ([address, slot]): Promise<StorageChange> => {
      const [before, after] = await Promise.all([
        rpc.request<Hex>("eth_getStorageAt", [address, slot, beforeBlock]),
        rpc.request<Hex>("eth_getStorageAt", [address, slot, afterBlock]),
      ]);
      return { address, slot, before: word(before) as Hex, after: word(after) as Hex };
    }),
  );
  const canonical = canonicalChanges(changes).map(([address, slot, before, after]) => ({ address, slot, before, after }) as StorageChange);
  return { method, changes: canonical, digest: stateDiffDigest(canonical) };
}

// --- evidence and words ----------------------------------------------------------------------

function valueText(value: InvariantValue): string {
  return "value" in value ? value.value : `reverted (${value.reverted})`;
}

function invariantEvidence(result: InvariantResult): Record<string, string> {
  const evidence: Record<string, string> = { invariant: result.name, relation: result.relation, before: valueText(result.before) };
  if (result.after) evidence["after"] = valueText(result.after);
  if (result.expected !== undefined) evidence["expected"] = result.expected;
  return evidence;
}

function upgradeEvidence(upgrade: UpgradeOutcome & { status: "success" | "reverted" }): Record<string, string> {
  const data = upgrade.revert?.data ?? "0x";
  return {
    authority: upgrade.authority,
    authorityKind: upgrade.kind,
    to: upgrade.to,
    method: upgrade.method,
    revertReason: upgrade.revert?.reason ?? "",
    revertSelector: data.length >= 10 ? data.slice(0, 10) : "",
    revertData: data.length > 2 + MAX_EVIDENCE_HEX_BYTES * 2 ? `${data.slice(0, 2 + MAX_EVIDENCE_HEX_BYTES * 2)}…` : data,
  };
}

function word(value: Hex | string): string {
  return pad(value.toLowerCase() as Hex, { size: 32 });
}
