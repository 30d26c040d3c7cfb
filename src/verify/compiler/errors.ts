// The compilers' errors: one class per code, so that callers can tell "this version is not
// installed" (a node setup problem) from "the sources do not compile" (the bundle's problem)
// from a timeout or a crash (neither), and tests can assert on the code.
import { SentinelError } from "../../errors.ts";
import type { InstalledCompiler } from "./installed.ts";
import type { SolcMessage } from "./types.ts";

export type CompilerErrorCode =
  /** The version is not installed, not a full version, or installed with another commit. */
  | "COMPILER_UNAVAILABLE"
  /** solc reported at least one message of severity "error". */
  | "COMPILATION_FAILED"
  /** The compile did not finish in time; its worker was terminated. */
  | "COMPILE_TIMEOUT"
  /** The worker died or solc threw instead of answering (out of memory, an abort). */
  | "COMPILER_CRASHED"
  /** Too many requests are already queued for this version. */
  | "COMPILER_BUSY"
  /** close() was called. */
  | "COMPILER_CLOSED";

export class CompilerError extends SentinelError<CompilerErrorCode, { version: string }> {
  override name = "CompilerError";
  /** The version that was asked for. */
  readonly version: string;
  constructor(code: CompilerErrorCode, version: string, message: string, options?: ErrorOptions) {
    super(code, message, { version }, options);
    this.version = version;
  }
}

export class CompilerUnavailableError extends CompilerError {
  override name = "CompilerUnavailableError";
  /** The installed versions: full when the compiler has been loaded, else the release. */
  readonly installed: readonly string[];
  constructor(version: string, message: string, installed: readonly string[], options?: ErrorOptions) {
    super("COMPILER_UNAVAILABLE", version, message, options);
    this.installed = installed;
  }
}

export class CompilationFailedError extends CompilerError {
  override name = "CompilationFailedError";
  /** Every message of severity "error". */
  readonly errors: readonly SolcMessage[];
  constructor(version: string, errors: readonly SolcMessage[]) {
    super("COMPILATION_FAILED", version, compilationFailedMessage(version, errors));
    this.errors = errors;
  }
}

export class CompileTimeoutError extends CompilerError {
  override name = "CompileTimeoutError";
  readonly timeoutMs: number;
  constructor(version: string, timeoutMs: number) {
    super("COMPILE_TIMEOUT", version, `solc ${version} did not finish within ${timeoutMs} ms; its worker was terminated`);
    this.timeoutMs = timeoutMs;
  }
}

export class CompilerCrashedError extends CompilerError {
  override name = "CompilerCrashedError";
  constructor(version: string, message: string, options?: ErrorOptions) {
    super("COMPILER_CRASHED", version, message, options);
  }
}

export class CompilerBusyError extends CompilerError {
  override name = "CompilerBusyError";
  constructor(version: string, queued: number) {
    super("COMPILER_BUSY", version, `solc ${version} already has ${queued} compiles queued`);
  }
}

export class CompilerClosedError extends CompilerError {
  override name = "CompilerClosedError";
  constructor(version: string) {
    super("COMPILER_CLOSED", version, "the compilers were closed");
  }
}

export type SourceCollectionErrorCode = "SOURCE_NOT_FOUND" | "SOURCES_TOO_LARGE";

/** Collecting a bundle's sources from files (sources.ts) failed: a source is missing, or too much. */
export class SourceCollectionError extends SentinelError<SourceCollectionErrorCode, { sourceUnitName: string }> {
  override name = "SourceCollectionError";
  readonly sourceUnitName: string;
  constructor(code: SourceCollectionErrorCode, sourceUnitName: string, message: string) {
    super(code, message, { sourceUnitName });
    this.sourceUnitName = sourceUnitName;
  }
}

/** Messages quoted in a CompilationFailedError's message; all of them are in `errors`. */
const QUOTED_ERRORS = 3;

function compilationFailedMessage(version: string, errors: readonly SolcMessage[]): string {
  const quoted = errors.slice(0, QUOTED_ERRORS).map((e) => (e.formattedMessage ?? `${e.type}: ${e.message}`).trim());
  const more = errors.length > QUOTED_ERRORS ? `\n(and ${errors.length - QUOTED_ERRORS} more)` : "";
  return `solc ${version} reported ${errors.length} error${errors.length === 1 ? "" : "s"}:\n${quoted.join("\n")}${more}`;
}

/** No package of `release` is installed (`version` is what was asked for: the release or a full version). */
export function notInstalled(version: string, release: string, installed: readonly string[]): CompilerUnavailableError {
  return new CompilerUnavailableError(version, `solc ${version} is not installed (installed: ${installed.join(", ") || "none"}). ${installHint(release)}`, installed);
}

function installHint(release: string): string {
  return `To install it, add "solc-${release}": "npm:solc@${release}" to the devDependencies in package.json and run npm install.`;
}

/** The package of the release is installed, but it is another build (commit) than `version`. */
export function commitMismatch(
  version: string,
  loaded: { readonly compiler: InstalledCompiler; readonly version: string | undefined },
  installed: readonly string[],
): CompilerUnavailableError {
  return new CompilerUnavailableError(
    version,
    `solc ${version} is not installed: the package ${loaded.compiler.packageName} is ${loaded.version}, ` +
      `a different build of ${loaded.compiler.release}. Installed: ${installed.join(", ")}`,
    installed,
  );
}
