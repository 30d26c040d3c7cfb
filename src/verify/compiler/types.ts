// solc's standard-JSON output as callers read it, and the lookup of one contract in it. Only
// the outputs the verification engine asks for (see outputs.ts) are typed; ASTs and storage
// layouts stay loose: upgrades-core has its own types for them and callers cast at that boundary.
import type { Abi } from "viem";

export interface SolcSourceLocation {
  file: string;
  start: number;
  end: number;
}

export interface SolcMessage {
  severity: "error" | "warning" | "info";
  type: string;
  component: string;
  message: string;
  formattedMessage?: string;
  errorCode?: string;
  sourceLocation?: SolcSourceLocation;
  secondarySourceLocations?: (SolcSourceLocation & { message?: string })[];
}

/** file -> library -> positions of the 20-byte placeholders in the bytecode. */
export type LinkReferences = Record<string, Record<string, { start: number; length: number }[]>>;
/** AST id of an immutable -> positions of its 32-byte slots in the runtime code. */
export type ImmutableReferences = Record<string, { start: number; length: number }[]>;

export interface SolcBytecode {
  /** Hex without 0x; unlinked library placeholders appear as __$...$__. */
  object: string;
  linkReferences?: LinkReferences;
}

export interface SolcDeployedBytecode extends SolcBytecode {
  immutableReferences?: ImmutableReferences;
}

export interface SolcStorageItem {
  astId: number;
  contract: string;
  label: string;
  offset: number;
  slot: string;
  type: string;
}

export interface SolcStorageLayout {
  storage: SolcStorageItem[];
  types: Record<string, { encoding: string; label: string; numberOfBytes: string; [key: string]: unknown }> | null;
}

/** One contract's outputs; each is present when the outputSelection asked for it. */
export interface SolcContractOutput {
  abi?: Abi;
  /** The metadata JSON as a string: it is hashed into the bytecode byte for byte. */
  metadata?: string;
  storageLayout?: SolcStorageLayout;
  evm?: {
    bytecode?: SolcBytecode;
    deployedBytecode?: SolcDeployedBytecode;
    /** Signature -> 4-byte selector in hex. */
    methodIdentifiers?: Record<string, string>;
  };
}

/** solc's standard-JSON output, with `contracts`, `sources` and `errors` always present. */
export interface SolcOutput {
  contracts: Record<string, Record<string, SolcContractOutput>>;
  sources: Record<string, { id: number; ast?: unknown }>;
  /** Errors, warnings and infos, as solc reported them. */
  errors: SolcMessage[];
}

/** The contract "path/To.sol:Name" of an output, if it has it. */
export function findContract(output: SolcOutput, fullyQualifiedName: string): SolcContractOutput | undefined {
  const colon = fullyQualifiedName.lastIndexOf(":");
  if (colon < 0) return undefined;
  return output.contracts[fullyQualifiedName.slice(0, colon)]?.[fullyQualifiedName.slice(colon + 1)];
}
