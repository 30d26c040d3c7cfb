// The "reproducible-build" check and the compiling it owns: a bundle's builds, compiled with the
// exact solc each names (BuildCompiler, over compiler/), compared with the code on chain.
export { BuildCompiler } from "./buildCompiler.ts";
export { reproducibleBuildCheck } from "./check.ts";
export { ContractNotInOutput } from "./errors.ts";
