// Proxy safety: facts about the proxy and the new implementation that make an upgrade unsafe
// however correct the new code is. The facts are read on the shadow fork (src/verify/shadow.ts);
// this module holds the pure parts: the well-known slots and selectors, bytecode scans, and the
// findings of the "proxy-safety" check.
import { getAddress, hexToBigInt, toEventSelector, toFunctionSelector, type Address, type Hex } from "viem";
import { ERC1967_IMPLEMENTATION_SLOT } from "../chains/authority.ts";
import { disassemble, functionSelectors } from "./bytecode.ts";
import type { Finding } from "./pipeline.ts";
import type { Policy } from "../codec/policy.ts";
import type { ShadowReport } from "./shadow.ts";

export const PROXY_SAFETY_CHECK = "proxy-safety";

export { ERC1967_IMPLEMENTATION_SLOT };

/**
 * OZ v5 Initializable's ERC-7201 namespace:
 * keccak256(abi.encode(uint256(keccak256("openzeppelin.storage.Initializable")) - 1)) & ~bytes32(uint256(0xff)).
 * The word holds `uint64 _initialized` (low 8 bytes) and `bool _initializing` (the byte above).
 */
export const INITIALIZABLE_V5_SLOT: Hex = "0xf0c57e16840df040f15088dc2f81fe391c3923bec73e23a9662efc9c229c6a00";

/** _disableInitializers() sets _initialized to its type's maximum: uint64 in v5, uint8 in v4. */
const V5_DISABLED = 2n ** 64n - 1n;
const V4_DISABLED = 0xffn;

/**
 * Initializable emits `Initialized(version)` from every initializer and from _disableInitializers,
 * so its topic is a PUSH32 constant of any contract that inherits it: uint64 since OZ v5, uint8
 * in v4. This says which storage layout the initialised version has, without an ABI.
 */
export const INITIALIZED_V5_TOPIC: Hex = toEventSelector("Initialized(uint64)");
export const INITIALIZED_V4_TOPIC: Hex = toEventSelector("Initialized(uint8)");

export type InitializableFlavour = "oz-v5" | "oz-v4" | "unknown";

export interface InitializableState {
  flavour: InitializableFlavour;
  /** The version the implementation's own storage records (decimal), where the flavour is known. */
  initializedVersion?: string;
  /** Initializers disabled for good (_disableInitializers). Undefined when the flavour is unknown. */
  disabled?: boolean;
}

/**
 * What the implementation's own storage says about its initializers.
 * - The v5 namespaced word at its maximum is conclusive whatever the code.
 * - Otherwise the Initialized event topic in the code says whether the v5 word or v4's slot 0
 *   (low byte `_initialized`) is meaningful; without either topic nothing is concluded.
 */
export function initializableState(code: Hex, v5Word: Hex, slot0Word: Hex): InitializableState {
  const v5Version = hexToBigInt(v5Word) & V5_DISABLED;
  if (v5Version === V5_DISABLED) return { flavour: "oz-v5", initializedVersion: v5Version.toString(), disabled: true };
  const constants = push32Constants(code);
  if (constants.has(INITIALIZED_V5_TOPIC)) return { flavour: "oz-v5", initializedVersion: v5Version.toString(), disabled: false };
  if (constants.has(INITIALIZED_V4_TOPIC)) {
    const v4Version = hexToBigInt(slot0Word) & 0xffn;
    return { flavour: "oz-v4", initializedVersion: v4Version.toString(), disabled: v4Version === V4_DISABLED };
  }
  return { flavour: "unknown" };
}

/**
 * Selectors a transparent proxy takes for its admin instead of forwarding them: OZ v5 intercepts
 * only upgradeToAndCall (and only from its ProxyAdmin); OZ v4 also admin(), implementation(),
 * changeAdmin(address) and upgradeTo(address). An implementation function with one of these
 * selectors is unreachable for the admin and, worse, reachable for everyone else.
 */
export const TRANSPARENT_ADMIN_FUNCTIONS = [
  "upgradeToAndCall(address,bytes)",
  "upgradeTo(address)",
  "changeAdmin(address)",
  "admin()",
  "implementation()",
] as const;

const ADMIN_FUNCTION_BY_SELECTOR = new Map<Hex, string>(TRANSPARENT_ADMIN_FUNCTIONS.map((signature) => [toFunctionSelector(signature), signature]));

export interface SelectorClash {
  /** Admin selectors the proxy intercepts, sorted. */
  intercepted: Hex[];
  /** "proxy-code": the proxy's own code has them as constants; "assumed": none found, OZ v4's full list assumed. */
  interceptedSource: "proxy-code" | "assumed";
  /** Where the implementation's selectors came from: its ABI, or its dispatcher (PUSH4 then EQ). */
  selectorSource: "abi" | "bytecode";
  /** Implementation selectors that clash, sorted, with their admin function. */
  clashes: { selector: Hex; function: string }[];
}

/**
 * The implementation's functions that a transparent proxy would intercept. Without an ABI the
 * implementation's selectors are the 4-byte constants its dispatcher compares (PUSH4 x; EQ),
 * which leaves out constants the code merely calls or reverts with.
 */
export function transparentSelectorClash(input: {
  proxyCode: Hex;
  implementationCode: Hex;
  implementationSelectors?: readonly Hex[] | undefined;
}): SelectorClash {
  const proxyConstants = selectorConstants(input.proxyCode);
  const found = [...ADMIN_FUNCTION_BY_SELECTOR.keys()].filter((selector) => proxyConstants.has(selector));
  const intercepted = (found.length > 0 ? found : [...ADMIN_FUNCTION_BY_SELECTOR.keys()]).sort();
  const implementation = input.implementationSelectors
    ? new Set(input.implementationSelectors.map((selector) => selector.toLowerCase() as Hex))
    : new Set(functionSelectors(input.implementationCode));
  return {
    intercepted,
    interceptedSource: found.length > 0 ? "proxy-code" : "assumed",
    selectorSource: input.implementationSelectors ? "abi" : "bytecode",
    clashes: intercepted
      .filter((selector) => implementation.has(selector))
      .map((selector) => ({ selector, function: ADMIN_FUNCTION_BY_SELECTOR.get(selector) ?? selector })),
  };
}

/** Every PUSH4 immediate of the code, lowercase, push data skipped. */
export function push4Constants(code: Hex): Set<Hex> {
  return new Set(immediates(code, PUSH4));
}

/**
 * The 4-byte constants a contract may compare msg.sig with: PUSH4 immediates, and PUSH32
 * immediates that are a selector followed by zeros (solc's optimizer compares `msg.sig` that
 * way, left-aligned, as in OZ v5's TransparentUpgradeableProxy).
 */
export function selectorConstants(code: Hex): Set<Hex> {
  const constants = new Set<Hex>(immediates(code, PUSH4));
  for (const word of immediates(code, PUSH32)) if (/^0x[0-9a-f]{8}0{56}$/.test(word)) constants.add(word.slice(0, 10) as Hex);
  return constants;
}

function push32Constants(code: Hex): Set<Hex> {
  return new Set(immediates(code, PUSH32));
}

const PUSH4 = 0x63;
const PUSH32 = 0x7f;

/** The full-length immediates of one PUSH opcode, lowercase. */
function immediates(code: Hex, opcode: number): Hex[] {
  const size = opcode - 0x5f;
  return disassemble(code).flatMap((op) => (op.opcode === opcode && op.pushData && op.pushData.length === 2 + 2 * size ? [op.pushData.toLowerCase() as Hex] : []));
}

/**
 * The "proxy-safety" findings of a shadow report:
 * - [REJECT] UUPS_PROXIABLE_MISSING: a UUPS implementation whose proxiableUUID() does not answer
 *   the ERC-1967 implementation slot (OZ's upgradeToAndCall refuses it);
 * - [REJECT] IMPLEMENTATION_INITIALIZABLE: the implementation's own initializers are not
 *   disabled, or the upgrade call succeeds on the bare implementation from an arbitrary account;
 * - [REJECT] ADMIN_CHANGED, unless the policy allows it (then info): owner(), the admin slot or
 *   the ProxyAdmin's owner differ after the upgrade, or the upgrade emitted an ownership or role event;
 * - [REJECT] TRANSPARENT_SELECTOR_CLASH: a transparent proxy intercepts one of the new
 *   implementation's selectors.
 */
export function proxySafetyFindings(report: ShadowReport, policy: Pick<Policy, "allowAdminChange">): Finding[] {
  const check = PROXY_SAFETY_CHECK;
  const findings: Finding[] = [];

  const proxiable = report.proxiable;
  if (proxiable && proxiable.status !== "ok") {
    const message =
      proxiable.status === "reverted"
        ? `proxiableUUID() reverts on the new implementation (${proxiable.detail}): it is not UUPS, upgradeToAndCall will refuse it and the proxy would lose its upgrade path`
        : proxiable.status === "no-answer"
          ? "proxiableUUID() returns nothing on the new implementation: it does not implement UUPS (no such function, or no code)"
          : `proxiableUUID() returns ${proxiable.detail}, not the ERC-1967 implementation slot ${ERC1967_IMPLEMENTATION_SLOT}`;
    findings.push({ check, code: "UUPS_PROXIABLE_MISSING", severity: "reject", message, evidence: { implementation: report.implementation, result: proxiable.detail } });
  }

  const init = report.initializable;
  if (init.disabled === false) {
    findings.push({
      check,
      code: "IMPLEMENTATION_INITIALIZABLE",
      severity: "reject",
      message: `the implementation's own initializers are not disabled (${init.flavour} Initializable at version ${init.initializedVersion}): anyone can initialize it; call _disableInitializers() in its constructor`,
      evidence: { implementation: report.implementation, flavour: init.flavour, initializedVersion: init.initializedVersion ?? "" },
    });
  }
  if (report.upgradeCallOnImplementation?.status === "success") {
    findings.push({
      check,
      code: "IMPLEMENTATION_INITIALIZABLE",
      severity: "reject",
      message: `the upgrade call succeeds on the bare implementation from an arbitrary account (${DEAD_ACCOUNT}): anyone can initialize it`,
      evidence: { implementation: report.implementation, caller: DEAD_ACCOUNT, selector: report.upgradeCall.slice(0, 10) },
    });
  }

  const severity = policy.allowAdminChange ? "info" : "reject";
  const allowed = policy.allowAdminChange ? " (allowed by policy)" : "";
  if (report.after) {
    const fields = [
      ["owner", "owner() of the proxy"],
      ["admin", "the ERC-1967 admin slot"],
      ["adminOwner", "the owner of the proxy's admin"],
    ] as const;
    for (const [field, label] of fields) {
      const before = report.before[field] ?? "none";
      const after = report.after[field] ?? "none";
      if (before !== after) {
        findings.push({ check, code: "ADMIN_CHANGED", severity, message: `${label} changed from ${before} to ${after}${allowed}`, evidence: { field, before, after } });
      }
    }
  }
  for (const event of report.adminEvents) {
    findings.push({
      check,
      code: "ADMIN_CHANGED",
      severity,
      message: `the upgrade emitted ${event.event} from ${event.emitter}${allowed}`,
      evidence: { event: event.event, emitter: event.emitter, logIndex: String(event.logIndex), ...prefixed("arg.", event.args) },
    });
  }

  for (const clash of report.selectorClash?.clashes ?? []) {
    findings.push({
      check,
      code: "TRANSPARENT_SELECTOR_CLASH",
      severity: "reject",
      message: `the new implementation has ${clash.function} (${clash.selector}), which the transparent proxy intercepts for its admin`,
      evidence: {
        selector: clash.selector,
        function: clash.function,
        selectorSource: report.selectorClash?.selectorSource ?? "",
        interceptedSource: report.selectorClash?.interceptedSource ?? "",
      },
    });
  }

  if (!findings.some((finding) => finding.severity === "reject")) {
    findings.push({ check, code: "OK", severity: "info", message: "proxy safety holds", evidence: { proxyKind: report.proxyKind ?? "unknown" } });
  }
  return findings;
}

/** The fixed "random" caller of calls anyone could make: the same on every node. */
export const DEAD_ACCOUNT: Address = getAddress("0x000000000000000000000000000000000000dead");

function prefixed(prefix: string, record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [`${prefix}${key}`, value]));
}
