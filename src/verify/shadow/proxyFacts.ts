// Proxy facts: what about the proxy and the new implementation makes an upgrade unsafe however
// correct the new code is. The shadow run reads them on the fork (run.ts) into its report; this
// module holds the pure parts: the well-known slots and selectors, and the bytecode scans. The
// "proxy-safety" findings made of them are proxySafety.ts's.
import { hexToBigInt, toEventSelector, toFunctionSelector, type Hex } from "viem";
import { ERC1967_IMPLEMENTATION_SLOT } from "../../chains/authority.ts";
import { DEAD_ACCOUNT } from "../accounts.ts";
import { disassemble, functionSelectors } from "../bytecode/index.ts";
import { INITIALIZABLE_V5_SLOT } from "../initializers/ast.ts";

export { ERC1967_IMPLEMENTATION_SLOT };

/**
 * OZ v5 Initializable's ERC-7201 namespace:
 * keccak256(abi.encode(uint256(keccak256("openzeppelin.storage.Initializable")) - 1)) & ~bytes32(uint256(0xff)).
 * The word holds `uint64 _initialized` (low 8 bytes) and `bool _initializing` (the byte above).
 */
export { INITIALIZABLE_V5_SLOT };

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

export { DEAD_ACCOUNT };
