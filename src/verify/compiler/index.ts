// Compiles a bundle's standard-JSON input with exactly the solc version it names. This module is
// the public face of src/verify/compiler/; importers use it, the folder's other exports are its
// own business.
//
// - Compilers are the npm `solc` packages the project depends on ("solc" and aliases such as
//   "solc-0.8.28": "npm:solc@0.8.28"); nothing is ever downloaded. A version is known by its
//   package.json until its worker has loaded it, then by what `solc.version()` reports: a
//   request naming the right release with the wrong commit fails once the compiler is loaded
//   (installed.ts).
// - Each version runs in long-lived worker threads of its own, two by default (loading soljson is
//   the slow part, and a warm worker compiles about twice as fast as a cold one). A request goes
//   to the version's least loaded worker and queues there (compilers.ts, runner.ts, worker.ts).
// - Outputs are cached by sha256(version + "\n" + canonical JSON of the input): in memory (a
//   small LRU) and on disk (one file per key, written atomically). solc is deterministic, so an
//   output with errors is cached too and fails the same way on every request
//   (cacheKey.ts, memoryCache.ts, diskCache.ts).
// - BuildCompiler (reproducibleBuild/) also stores each source file's compiled contracts under a
//   key of its own (fileKeys.ts, lookup/store here), on disk only.
// - Outputs are returned deep-frozen: one object is shared by every caller that asks for it
//   (parseOutput.ts).
export { compileCacheKey } from "./cacheKey.ts";
export {
  CompilationFailedError,
  CompilerBusyError,
  CompilerClosedError,
  CompilerCrashedError,
  CompilerError,
  CompilerUnavailableError,
  CompileTimeoutError,
  SourceCollectionError,
  type CompilerErrorCode,
  type SourceCollectionErrorCode,
} from "./errors.ts";
export { findInstalledCompilers, type InstalledCompiler } from "./installed.ts";
export {
  SolcCompilers,
  type CompileOptions,
  type CompileResult,
  type InstalledCompilerStatus,
  type SolcCompilersModules,
  type WarmResult,
} from "./compilers.ts";
export { findImports, resolveImportPath } from "./imports.ts";
export {
  DEFAULT_COMPILE_TIMEOUT_MS,
  DEFAULT_DISK_ENTRIES,
  DEFAULT_LOAD_TIMEOUT_MS,
  DEFAULT_MAX_QUEUED,
  DEFAULT_MAX_WORKERS,
  DEFAULT_MEMORY_BYTES,
  DEFAULT_MEMORY_ENTRIES,
  DEFAULT_WORKERS_PER_VERSION,
  type SolcCompilersOptions,
} from "./options.ts";
export { fileCodeKeys } from "./fileKeys.ts";
export { mergeBuildOutputs, VERIFICATION_CONTRACT_OUTPUTS, withCodeOutputs, withCodeOutputsFor, withSyntaxOutputs, withVerificationOutputs } from "./outputs.ts";
export {
  collectSources,
  DEFAULT_MAX_SOURCE_BYTES,
  DEFAULT_MAX_SOURCE_FILES,
  fileResolver,
  type CollectSourcesOptions,
  type SourceResolver,
} from "./sources.ts";
export type { CompilerStats } from "./stats.ts";
export {
  findContract,
  type ImmutableReferences,
  type LinkReferences,
  type SolcBytecode,
  type SolcContractOutput,
  type SolcDeployedBytecode,
  type SolcMessage,
  type SolcOutput,
  type SolcSourceLocation,
  type SolcStorageItem,
  type SolcStorageLayout,
} from "./types.ts";
export { WARM_MAX_ROUNDS } from "./warmUp.ts";
