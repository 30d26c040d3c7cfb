// Static analysis of EVM runtime code, and the "bytecode" check built on it: the Solidity
// metadata tail (metadata.ts), a disassembler and which opcodes execution could reach
// (opcodes.ts), the dispatcher's function selectors (selectors.ts), and the Sourcify-style
// comparison of deployed code with a compiler's output (compare.ts, the reproducible-build
// check's). Pure functions over bytes; every input is treated as untrusted (the deployed code is
// whatever the proposer put on chain), so nothing here throws on odd bytecode, only on malformed
// hex or on a caller's mistake (BytecodeFormatError).
export { bytecodeCheck } from "./check.ts";
export {
  compareRuntimeCode,
  type ByteRange,
  type CompiledRuntime,
  type ExactMatch,
  type PartialMatch,
  type RuntimeMatch,
  type RuntimeMismatch,
} from "./compare.ts";
export { BytecodeFormatError } from "./errors.ts";
export { decodeMetadata, metadataDiffers, splitMetadata, type SolidityMetadata, type SplitCode } from "./metadata.ts";
export { disassemble, opcodeName, reachableOpcodes, type Instruction, type OpcodeHit } from "./opcodes.ts";
export { functionSelectors } from "./selectors.ts";
