// Deployed code against a compiler's output, as Sourcify compares them.
import { bytesToHex, getAddress, hexToBytes, isHex, type Address, type Hex } from "viem";
import { equalBytes, firstDifference, toBytes } from "./bytes.ts";
import { BytecodeFormatError } from "./errors.ts";
import { splitMetadata } from "./metadata.ts";

export interface ByteRange {
  start: number;
  length: number;
}

/** The parts of solc's `evm.deployedBytecode` the comparison needs. */
export interface CompiledRuntime {
  /** With or without 0x; may hold `__$…$__` library placeholders, hence not strictly hex. */
  object: Hex | string;
  immutableReferences?: Record<string, ByteRange[]>;
  linkReferences?: Record<string, Record<string, ByteRange[]>>;
}

interface MatchEvidence {
  /** Each immutable's value as read from the deployed code, by the AST id solc names it with. */
  immutables: Record<string, Hex>;
  /** Each linked library's address as read from the deployed code, by "source:Library". */
  libraries: Record<string, Address>;
}

export interface ExactMatch extends MatchEvidence {
  status: "exact";
}

/** The executables are equal; only the metadata tails (hence the source's metadata) differ. */
export interface PartialMatch extends MatchEvidence {
  status: "partial";
  deployedMetadata?: Hex;
  compiledMetadata?: Hex;
}

export interface RuntimeMismatch extends MatchEvidence {
  status: "mismatch";
  /** "code": the bytes differ; "immutables"/"libraries": one reference's value disagrees with another's, or lies outside the code. */
  reason: "code" | "immutables" | "libraries";
  /** First differing byte of the executables (or the offending reference's start). */
  offset: number;
  deployedLength: number;
  compiledLength: number;
}

export type RuntimeMatch = ExactMatch | PartialMatch | RuntimeMismatch;

/**
 * Compares deployed runtime code with a compiler's output the way Sourcify does. Immutable
 * ranges are masked in both (the compiler leaves zeros there, the constructor wrote values), and
 * library placeholders in the compiled code are filled with the addresses found in the deployed
 * code; both sets of values are returned as evidence. Then: "exact" if every byte is equal,
 * "partial" if only the metadata tails differ (in content, length or presence), else "mismatch".
 *
 * A partial match proves the executable part only: the deployed tail is whatever decodes as
 * metadata, and code that reads its own tail (CODECOPY) or jumps into it could tell the
 * difference. Different build settings are not a partial match: without metadata
 * (`appendCBOR: false`) solc also leaves out the INVALID byte that otherwise ends the executable.
 *
 * @throws BytecodeFormatError if either code is not hex, or the compiled code has a placeholder
 * that no link reference covers.
 */
export function compareRuntimeCode(deployed: Uint8Array | Hex, compiled: CompiledRuntime): RuntimeMatch {
  const deployedBytes = toBytes(deployed).slice();
  const compiledHex = compiled.object.startsWith("0x") ? compiled.object.slice(2) : compiled.object;
  const compiledLength = compiledHex.length / 2;
  const evidence: MatchEvidence = { immutables: {}, libraries: {} };
  const mismatch = (reason: RuntimeMismatch["reason"], offset: number): RuntimeMismatch => ({
    status: "mismatch",
    reason,
    offset,
    deployedLength: deployedBytes.length,
    compiledLength,
    ...evidence,
  });

  // Libraries first: until they are filled in, the compiled object is not hex.
  const linked = compiledHex.split("");
  for (const [source, libraries] of Object.entries(compiled.linkReferences ?? {})) {
    for (const [library, ranges] of Object.entries(libraries)) {
      const name = `${source}:${library}`;
      for (const { start, length } of ranges) {
        if (start + length > deployedBytes.length || start + length > compiledLength) return mismatch("libraries", start);
        const value = bytesToHex(deployedBytes.subarray(start, start + length));
        if (length !== 20 || (name in evidence.libraries && evidence.libraries[name]!.toLowerCase() !== value)) {
          return mismatch("libraries", start);
        }
        evidence.libraries[name] = getAddress(value);
        // An already linked object keeps its address: a different one deployed is a mismatch.
        if (compiledHex.startsWith("__", start * 2)) linked.splice(start * 2, length * 2, ...value.slice(2));
      }
    }
  }
  const linkedHex = `0x${linked.join("")}`;
  if (!isHex(linkedHex, { strict: true }) || linkedHex.length % 2 !== 0) {
    const placeholder = linkedHex.indexOf("__");
    throw new BytecodeFormatError(
      placeholder >= 0
        ? `compiled code has an unlinked library placeholder at byte ${(placeholder - 2) / 2} that no link reference covers`
        : "compiled code is not hex",
    );
  }
  const compiledBytes = hexToBytes(linkedHex);

  for (const [id, ranges] of Object.entries(compiled.immutableReferences ?? {})) {
    for (const { start, length } of ranges) {
      if (start + length > deployedBytes.length || start + length > compiledBytes.length) return mismatch("immutables", start);
      const value = bytesToHex(deployedBytes.subarray(start, start + length));
      // The constructor writes one value into every reference: two different ones are not solc's doing.
      if (id in evidence.immutables && evidence.immutables[id] !== value) return mismatch("immutables", start);
      evidence.immutables[id] = value;
      deployedBytes.fill(0, start, start + length);
      compiledBytes.fill(0, start, start + length);
    }
  }

  if (equalBytes(deployedBytes, compiledBytes)) return { status: "exact", ...evidence };
  const deployedSplit = splitMetadata(deployedBytes);
  const compiledSplit = splitMetadata(compiledBytes);
  const offset = firstDifference(deployedSplit.executable, compiledSplit.executable);
  if (offset !== undefined) return mismatch("code", offset);
  const partial: PartialMatch = { status: "partial", ...evidence };
  if (deployedSplit.metadata) partial.deployedMetadata = bytesToHex(deployedSplit.metadata);
  if (compiledSplit.metadata) partial.compiledMetadata = bytesToHex(compiledSplit.metadata);
  return partial;
}
