// The outputSelection of every compile the verification engine runs. One selection for every
// check means one compile (and one cache entry) per bundle, whatever each check reads of it.
import type { SolcInput } from "../../codec/bundle.ts";

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
