// What the upgrade-safety analysis takes and gives.
import type { SolcInput } from "../../codec/bundle.ts";
import type { Finding } from "../pipeline.ts";

/** A solc standard-JSON output; only what this module reads is named. */
export interface SolcOutput {
  contracts?: Record<string, Record<string, unknown>>;
  sources?: Record<string, unknown>;
  errors?: readonly { severity: string; formattedMessage?: string; message?: string }[];
}

/**
 * One compiled contract. Its output must hold, for every source and contract of the input, the
 * `ast`, `evm.bytecode` (object and linkReferences) and `storageLayout` outputs.
 */
export interface UpgradeBuild {
  /** Full solc version: "0.8.28+commit.7893614a". */
  version: string;
  /** Fully qualified contract name, a source of `input` and a contract in it: "V2.sol:VaultV2". */
  contract: string;
  input: SolcInput;
  output: SolcOutput;
  /**
   * Its namespaced compilation, already started (namespacedCompilation, from the ASTs before the
   * code was compiled): a compile error as a string, undefined when none is needed. Without it,
   * the analysis runs it from `output`.
   */
  namespaced?: Promise<SolcOutput | string | undefined>;
}

export type ProxyKind = "uups" | "transparent";

/** Compiles a standard-JSON input with an exact solc version; compiler errors are returned, not thrown. */
export type Compile = (version: string, input: SolcInput) => Promise<SolcOutput>;

export interface UpgradeSafetyFindings {
  upgradeSafety: Finding[];
  storageLayout: Finding[];
}
