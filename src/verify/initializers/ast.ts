// What the source says about a contract's initializers, read from solc's AST of a build: which
// external functions are guarded by OpenZeppelin's `initializer` / `reinitializer(n)`, and where
// its Initializable keeps its version. The reference build this is read from is recompiled and
// compared with the code on chain by the reproducible-build check, so the AST describes the code
// the proxy runs.
import type { Hex } from "viem";
import type { SolcOutput } from "../compiler/index.ts";

/** How an external function is guarded: by `initializer` (version 1) or `reinitializer(version)`. */
export interface InitializerGuard {
  /** `initialize(address)`: the name and parameter types, as in the ABI. */
  signature: string;
  modifier: "initializer" | "reinitializer";
  /** The version the guard sets: 1 for `initializer`. */
  version: bigint;
}

/** Where Initializable keeps `_initialized` / `_initializing` for this contract. */
export type InitializableLayout =
  /** OZ v5: the ERC-7201 namespace at the well-known slot, version in the low 8 bytes, the flag in the byte above. */
  | { flavour: "oz-v5" }
  /** OZ v4: plain state variables, at the slot and byte offsets of the storage layout. */
  | { flavour: "oz-v4"; slot: bigint; initializedOffset: number; initializedBytes: number; initializingOffset: number }
  /** No Initializable, or one whose storage is not where OZ puts it. */
  | { flavour: "unknown" };

interface AstNode {
  nodeType: string;
  id?: number;
  name?: string;
  nodes?: AstNode[];
  [key: string]: unknown;
}

/** The contracts of a build's ASTs, by id. */
function contractsById(output: SolcOutput): Map<number, AstNode> {
  const contracts = new Map<number, AstNode>();
  for (const source of Object.values(output.sources)) {
    const unit = source.ast as AstNode | undefined;
    for (const node of unit?.nodes ?? []) if (node.nodeType === "ContractDefinition" && typeof node.id === "number") contracts.set(node.id, node);
  }
  return contracts;
}

/** The contract `path:Name`'s linearisation, most derived first; empty if the build has no such contract. */
function linearisation(output: SolcOutput, qualifiedName: string): AstNode[] {
  const colon = qualifiedName.lastIndexOf(":");
  const unit = output.sources[qualifiedName.slice(0, colon)]?.ast as AstNode | undefined;
  const contract = unit?.nodes?.find((node) => node.nodeType === "ContractDefinition" && node.name === qualifiedName.slice(colon + 1));
  if (contract === undefined) return [];
  const byId = contractsById(output);
  const bases = Array.isArray(contract["linearizedBaseContracts"]) ? (contract["linearizedBaseContracts"] as number[]) : [];
  return bases.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}

/**
 * The external functions of `qualifiedName` whose first modifier is OZ Initializable's
 * `initializer` or `reinitializer(<literal>)`, by 4-byte selector (lowercase, 0x-prefixed).
 * Only the first modifier counts: one before it could run code, or skip the guard (a modifier
 * need not reach `_`), so the function would not provably revert where the guard does.
 */
export function initializerGuards(output: SolcOutput, qualifiedName: string): Map<Hex, InitializerGuard> {
  const contracts = linearisation(output, qualifiedName);
  const modifiers = new Map<number, { name: string; contract: string }>();
  for (const contract of contractsById(output).values()) {
    for (const node of contract.nodes ?? []) {
      if (node.nodeType === "ModifierDefinition" && typeof node.id === "number") modifiers.set(node.id, { name: node.name ?? "", contract: contract.name ?? "" });
    }
  }
  const seen = new Set<string>();
  const guards = new Map<Hex, InitializerGuard>();
  for (const contract of contracts) {
    for (const node of contract.nodes ?? []) {
      const selector = node["functionSelector"];
      if (typeof selector !== "string" || seen.has(selector)) continue;
      // The most derived declaration with this selector is the one the dispatcher runs.
      seen.add(selector);
      if (node.nodeType !== "FunctionDefinition") continue;
      const guard = guardOf(node, modifiers);
      if (guard !== undefined) guards.set(`0x${selector.toLowerCase()}` as Hex, { signature: signatureOf(node), ...guard });
    }
  }
  return guards;
}

function guardOf(fn: AstNode, modifiers: Map<number, { name: string; contract: string }>): Omit<InitializerGuard, "signature"> | undefined {
  const invocations = Array.isArray(fn["modifiers"]) ? (fn["modifiers"] as AstNode[]) : [];
  const first = invocations[0];
  const reference = (first?.["modifierName"] as { referencedDeclaration?: number } | undefined)?.referencedDeclaration;
  const declared = reference === undefined ? undefined : modifiers.get(reference);
  if (declared === undefined || declared.contract !== "Initializable") return undefined;
  if (declared.name === "initializer") return { modifier: "initializer", version: 1n };
  if (declared.name !== "reinitializer") return undefined;
  const [argument] = Array.isArray(first?.["arguments"]) ? (first["arguments"] as AstNode[]) : [];
  if (argument?.nodeType !== "Literal" || argument["kind"] !== "number" || argument["subdenomination"] != null) return undefined;
  try {
    return { modifier: "reinitializer", version: BigInt(String(argument["value"]).replaceAll("_", "")) };
  } catch {
    return undefined;
  }
}

function signatureOf(fn: AstNode): string {
  const parameters = ((fn["parameters"] as { parameters?: AstNode[] } | undefined)?.parameters ?? []).map((parameter) => {
    const type = (parameter["typeDescriptions"] as { typeString?: string } | undefined)?.typeString ?? "?";
    // "contract IERC20" / "enum E" / "struct S memory" name their ABI type imperfectly; good enough for evidence.
    return type.replace(/^(contract|enum|struct) /, "").replace(/ (memory|calldata|storage)( pointer)?$/, "");
  });
  return `${fn.name ?? ""}(${parameters.join(",")})`;
}

/** keccak256("openzeppelin.storage.Initializable") - 1, rounded down to 256: OZ v5's namespace. */
export const INITIALIZABLE_V5_SLOT: Hex = "0xf0c57e16840df040f15088dc2f81fe391c3923bec73e23a9662efc9c229c6a00";

/**
 * Where `qualifiedName`'s Initializable keeps its state. OZ v5: a contract Initializable with the
 * InitializableStorage struct, and nothing in the linearisation overriding
 * `_initializableStorageSlot()` (5.x lets a contract move the namespace); v4: the
 * `_initialized` / `_initializing` variables of Initializable in the build's storage layout.
 */
export function initializableLayout(output: SolcOutput, qualifiedName: string): InitializableLayout {
  const contracts = linearisation(output, qualifiedName);
  const initializable = contracts.find((contract) => contract.name === "Initializable");
  if (initializable === undefined) return { flavour: "unknown" };
  const v5 = (initializable.nodes ?? []).some((node) => node.nodeType === "StructDefinition" && node.name === "InitializableStorage");
  if (v5) {
    const moved = contracts.some(
      (contract) => contract !== initializable && (contract.nodes ?? []).some((node) => node.nodeType === "FunctionDefinition" && node.name === "_initializableStorageSlot"),
    );
    return moved ? { flavour: "unknown" } : { flavour: "oz-v5" };
  }
  const colon = qualifiedName.lastIndexOf(":");
  const storage = output.contracts[qualifiedName.slice(0, colon)]?.[qualifiedName.slice(colon + 1)]?.storageLayout;
  const item = (label: string) => storage?.storage.find((entry) => entry.label === label && entry.contract.endsWith(":Initializable"));
  const initialized = item("_initialized");
  const initializing = item("_initializing");
  if (initialized === undefined || initializing === undefined || initialized.slot !== initializing.slot) return { flavour: "unknown" };
  const bytes = Number(storage?.types?.[initialized.type]?.numberOfBytes ?? "1");
  return { flavour: "oz-v4", slot: BigInt(initialized.slot), initializedOffset: initialized.offset, initializedBytes: bytes, initializingOffset: initializing.offset };
}
