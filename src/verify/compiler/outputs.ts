// The outputSelection of every compile the verification engine runs. One selection for every
// check means one build per bundle, whatever each check reads of it; a build is compiled as two
// halves at once (code; storage layouts and ASTs) and merged into what one compile would give.
import type { SolcInput } from "../../codec/bundle.ts";
import type { SolcContractOutput, SolcOutput } from "./types.ts";

/** What the verification engine reads of every contract (upgrades-core needs all of them). */
export const VERIFICATION_CONTRACT_OUTPUTS = [
  "abi",
  "evm.bytecode.object",
  "evm.bytecode.linkReferences",
  "evm.deployedBytecode.object",
  "evm.deployedBytecode.immutableReferences",
  "evm.deployedBytecode.linkReferences",
  "evm.methodIdentifiers",
  "storageLayout",
  "metadata",
] as const;

/**
 * The input with the outputSelection the verification engine needs, replacing the input's own:
 * the outputs above for every contract and the AST of every source. Every other setting
 * (optimizer, evmVersion, viaIR, metadata, libraries, remappings...) is kept as it is: they
 * change the bytecode.
 */
export function withVerificationOutputs(input: SolcInput): SolcInput {
  return {
    language: input.language,
    sources: input.sources,
    settings: {
      ...input.settings,
      outputSelection: { "*": { "*": [...VERIFICATION_CONTRACT_OUTPUTS], "": ["ast"] } },
    },
  };
}

/**
 * The code half of a build: every VERIFICATION_CONTRACT_OUTPUTS but the storage layout, no AST.
 * solc exports the AST of every source when any is asked for, and that export is a large share of
 * a compile's time; split off, it runs on another worker at the same time (withSyntaxOutputs).
 */
export function withCodeOutputs(input: SolcInput): SolcInput {
  const code = VERIFICATION_CONTRACT_OUTPUTS.filter((output) => output !== "storageLayout");
  return { language: input.language, sources: input.sources, settings: { ...input.settings, outputSelection: { "*": { "*": code } } } };
}

/**
 * The other half: storage layouts, metadata and ASTs, which need analysis only, no code
 * generation, so it is ready well before the code: upgrades-core's namespaced compilation can
 * start from its ASTs, and the metadata says whether code from the per-file cache is this input's.
 */
export function withSyntaxOutputs(input: SolcInput): SolcInput {
  return {
    language: input.language,
    sources: input.sources,
    settings: { ...input.settings, outputSelection: { "*": { "*": ["storageLayout", "metadata"], "": ["ast"] } } },
  };
}

/** The code half for some source files only: solc generates code for their contracts alone. */
export function withCodeOutputsFor(input: SolcInput, files: readonly string[]): SolcInput {
  const code = VERIFICATION_CONTRACT_OUTPUTS.filter((output) => output !== "storageLayout");
  const selection = Object.fromEntries(files.map((file) => [file, { "*": code }]));
  return { language: input.language, sources: input.sources, settings: { ...input.settings, outputSelection: selection } };
}

/**
 * The output withVerificationOutputs would have given, from its two halves (a test holds them
 * equal, canonical JSON, on an OpenZeppelin token): the code half's contracts and messages (its
 * compile ran every analysis and code generation, so its messages are the whole compile's), each
 * contract with its storage layout, and the syntax half's sources (ids and ASTs). Frozen like any
 * output: it is shared by every caller of the build.
 */
export function mergeBuildOutputs(code: SolcOutput, syntax: SolcOutput): SolcOutput {
  const contracts: SolcOutput["contracts"] = {};
  for (const [file, byName] of Object.entries(code.contracts)) {
    const merged: Record<string, SolcContractOutput> = {};
    for (const [name, contract] of Object.entries(byName)) {
      const storageLayout = syntax.contracts[file]?.[name]?.storageLayout;
      merged[name] = Object.freeze(storageLayout === undefined ? { ...contract } : { ...contract, storageLayout });
    }
    contracts[file] = Object.freeze(merged);
  }
  return Object.freeze({ contracts: Object.freeze(contracts), sources: syntax.sources, errors: code.errors });
}
