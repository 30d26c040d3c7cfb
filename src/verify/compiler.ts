// Compiles a bundle's standard-JSON input with exactly the solc version it names.
//
// - Compilers are the npm `solc` packages the project depends on ("solc" and aliases such as
//   "solc-0.8.28": "npm:solc@0.8.28"); nothing is ever downloaded. A version is known by its
//   package.json until its worker has loaded it, then by what `solc.version()` reports: a
//   request naming the right release with the wrong commit fails once the compiler is loaded.
// - Each version runs in its own long-lived worker thread (loading soljson is the slow part, and
//   a warm worker compiles about twice as fast as a cold one). Requests to one version queue.
// - Outputs are cached by sha256(version + "\n" + canonical JSON of the input): in memory (a
//   small LRU) and on disk (one file per key, written atomically). solc is deterministic, so an
//   output with errors is cached too and fails the same way on every request.
// - Outputs are returned deep-frozen: one object is shared by every caller that asks for it.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { Abi, Hex } from "viem";
import type { SolcInput } from "../codec/bundle.ts";
import { canonicalJson } from "../codec/canonicalJson.ts";
import type { CompileRequest, WorkerInit, WorkerMessage } from "./compilerWorker.ts";

// ---------------------------------------------------------------------------------------------
// Output types: what callers read. ASTs and storage layouts stay loose: upgrades-core has its
// own types for them and callers cast at that boundary.

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

// ---------------------------------------------------------------------------------------------
// Output selection

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

// ---------------------------------------------------------------------------------------------
// Errors

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

export class CompilerError extends Error {
  override name = "CompilerError";
  readonly code: CompilerErrorCode;
  /** The version that was asked for. */
  readonly version: string;
  constructor(code: CompilerErrorCode, version: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
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

/** Messages quoted in a CompilationFailedError's message; all of them are in `errors`. */
const QUOTED_ERRORS = 3;

function compilationFailedMessage(version: string, errors: readonly SolcMessage[]): string {
  const quoted = errors.slice(0, QUOTED_ERRORS).map((e) => (e.formattedMessage ?? `${e.type}: ${e.message}`).trim());
  const more = errors.length > QUOTED_ERRORS ? `\n(and ${errors.length - QUOTED_ERRORS} more)` : "";
  return `solc ${version} reported ${errors.length} error${errors.length === 1 ? "" : "s"}:\n${quoted.join("\n")}${more}`;
}

// ---------------------------------------------------------------------------------------------
// Installed compilers

export interface InstalledCompiler {
  /** The dependency's name: "solc" or "solc-0.8.28". */
  packageName: string;
  /** The release, from the package's package.json: "0.8.28". The commit is learned on load. */
  release: string;
  /** Absolute path of the package's main module, which the worker requires. */
  entry: string;
}

const DEFAULT_PACKAGE_JSON = fileURLToPath(new URL("../../package.json", import.meta.url));
const SOLC_PACKAGE = /^solc(-\d+\.\d+\.\d+)?$/;
const FULL_VERSION = /^(\d+\.\d+\.\d+)\+commit\.([0-9a-f]{8})$/;

/**
 * The solc packages among a package.json's dependencies that are installed, oldest release
 * first, one per release. Reads package.json files only: no compiler is loaded.
 */
export function findInstalledCompilers(packageJsonPath: string = DEFAULT_PACKAGE_JSON): InstalledCompiler[] {
  const manifest = JSON.parse(readFileSync(packageJsonPath, "utf8")) as { dependencies?: Record<string, string> };
  const require = createRequire(packageJsonPath);
  const byRelease = new Map<string, InstalledCompiler>();
  for (const packageName of Object.keys(manifest.dependencies ?? {}).sort()) {
    if (!SOLC_PACKAGE.test(packageName)) continue;
    let pkg: { name?: unknown; version?: unknown };
    let entry: string;
    try {
      pkg = JSON.parse(readFileSync(require.resolve(`${packageName}/package.json`), "utf8")) as typeof pkg;
      entry = require.resolve(packageName);
    } catch {
      continue; // declared but not installed: `npm install` has not run
    }
    if (pkg.name !== "solc" || typeof pkg.version !== "string" || !/^\d+\.\d+\.\d+$/.test(pkg.version)) continue;
    if (!byRelease.has(pkg.version)) byRelease.set(pkg.version, { packageName, release: pkg.version, entry });
  }
  return [...byRelease.values()].sort((a, b) => compareReleases(a.release, b.release));
}

function compareReleases(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Cache key

/**
 * sha256(version + "\n" + canonical JSON of the input): the compile cache's key. A local name,
 * never signed or compared between nodes, so the hash is node's native sha256: viem's keccak256
 * (JavaScript) takes ~10 ms for an OpenZeppelin-sized input, which would be most of a cache hit.
 */
export function compileCacheKey(version: string, input: SolcInput): Hex {
  return keyOf(version, canonicalJson(input));
}

function keyOf(version: string, canonicalInput: string): Hex {
  return `0x${createHash("sha256").update(version).update("\n").update(canonicalInput).digest("hex")}`;
}

// ---------------------------------------------------------------------------------------------
// The compilers

export interface SolcCompilersOptions {
  /** Directory of the disk cache (created on first write), e.g. <dataDir>/compile-cache. */
  cacheDir: string;
  /** The installed compilers; default: findInstalledCompilers() of the project's package.json. */
  compilers?: readonly InstalledCompiler[];
  /** Time a compile may run once its worker has started it (queue and load not counted). */
  timeoutMs?: number;
  /** Time a worker may take to load its soljson. */
  loadTimeoutMs?: number;
  /** Live workers; beyond it the least recently used idle one is terminated. */
  maxWorkers?: number;
  /** Requests one version may have waiting; beyond it compile() fails with COMPILER_BUSY. */
  maxQueued?: number;
  /** In-memory LRU bounds: entries and total size of their JSON. */
  memoryEntries?: number;
  memoryBytes?: number;
  /** Disk cache files kept; the least recently used beyond it are deleted. */
  diskEntries?: number;
}

export interface SolcCompilersModules {
  logger?: Logger;
  /** Milliseconds, for `ms` and LRU order; default performance.now. */
  now?: () => number;
}

/** An OpenZeppelin token compiles in seconds; large via-IR projects can take a minute or more. */
export const DEFAULT_COMPILE_TIMEOUT_MS = 120_000;
/** Loading soljson takes ~0.6 s alone; 2 shared cores and several loads at once slow it down. */
export const DEFAULT_LOAD_TIMEOUT_MS = 60_000;
/**
 * A worker takes ~120 MB once loaded and keeps what its wasm heap grew to (~250 MB after an
 * OpenZeppelin token); a node rarely needs more than a few versions at once.
 */
export const DEFAULT_MAX_WORKERS = 3;
export const DEFAULT_MAX_QUEUED = 32;
export const DEFAULT_MEMORY_ENTRIES = 8;
/** Outputs with ASTs are ~1 MB of JSON for a token, more for big projects; parsed, several times that. */
export const DEFAULT_MEMORY_BYTES = 32 * 1024 * 1024;
export const DEFAULT_DISK_ENTRIES = 2_000;
/** Disk cache pruning lists the directory; do it on the first write, then every so many. */
const PRUNE_EVERY_WRITES = 32;
/** Temp files older than this are leftovers of a crash. */
const STALE_TEMP_MS = 60 * 60 * 1000;
const CACHE_FILE = /^[0-9a-f]{64}\.json$/;

export interface CompileResult {
  output: SolcOutput;
  /** True when this call did not run a compile of its own (memory, disk or a shared request). */
  cached: boolean;
  from: "compiled" | "memory" | "disk" | "shared";
  /** Wall time of this call. */
  ms: number;
  /** When from is "compiled": solc's own wall time and its thread's CPU time (less contention). */
  solc?: { ms: number; cpuMs: number };
}

export interface CompileOptions {
  timeoutMs?: number;
}

export interface WarmResult {
  /** Wall time of warm(), load included. */
  ms: number;
  /** Wall time of the worker's last load (start to soljson loaded). */
  loadMs: number | undefined;
  /** solc's wall and CPU time for each warm-up compile. */
  rounds: { ms: number; cpuMs: number }[];
}

export interface CompilerStats {
  compiles: number;
  memoryHits: number;
  diskHits: number;
  shared: number;
  timeouts: number;
  crashes: number;
  busy: number;
  corruptCacheFiles: number;
  cacheWriteFailures: number;
  workerStarts: number;
  workerEvictions: number;
}

export interface InstalledCompilerStatus extends InstalledCompiler {
  /** The full version, once the compiler has been loaded. */
  version: string | undefined;
  /** Wall time of its last load (worker start to soljson loaded). */
  loadMs: number | undefined;
  /** The worker thread's CPU time loading soljson (the load less contention). */
  loadCpuMs: number | undefined;
  /** Whether its worker is live. */
  running: boolean;
}

interface MemoryEntry {
  output: SolcOutput;
  bytes: number;
}

interface Produced {
  output: SolcOutput;
  from: "compiled" | "disk";
  solc?: { ms: number; cpuMs: number };
}

/**
 * A contract small enough to compile in well under a second warm, that still goes through what
 * real projects use (inheritance, libraries, modifiers, custom errors, structs, immutables,
 * inline assembly, loops, the optimizer), so that V8 tiers up the soljson functions they need.
 */
const WARM_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity >=0.8.4;
library SafeCast {
    function toUint128(uint256 v) internal pure returns (uint128) { require(v <= type(uint128).max, "cast"); return uint128(v); }
}
interface IToken {
    event Transfer(address indexed from, address indexed to, uint256 amount);
    function transfer(address to, uint256 amount) external returns (bool);
}
abstract contract Owned {
    error NotOwner(address caller);
    address public owner;
    modifier onlyOwner() { if (msg.sender != owner) revert NotOwner(msg.sender); _; }
    constructor() { owner = msg.sender; }
}
contract Warm is IToken, Owned {
    using SafeCast for uint256;
    struct Account { uint128 balance; uint64 nonce; bool frozen; }
    mapping(address => Account) internal accounts;
    mapping(address => mapping(address => uint256)) public allowance;
    uint256 public immutable cap;
    bytes32 private constant SLOT = keccak256("warm.slot");
    string public name = "Warm";
    constructor(uint256 cap_) { cap = cap_; }
    function balanceOf(address who) external view returns (uint256) { return accounts[who].balance; }
    function transfer(address to, uint256 amount) external returns (bool) { _move(msg.sender, to, amount); return true; }
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= amount, "allowance");
            unchecked { allowance[from][msg.sender] = allowed - amount; }
        }
        _move(from, to, amount);
        return true;
    }
    function mint(address to, uint256 amount) external onlyOwner {
        require(amount <= cap, "cap");
        accounts[to].balance += amount.toUint128();
        emit Transfer(address(0), to, amount);
    }
    function freeze(address[] calldata who, bool frozen) external onlyOwner {
        for (uint256 i = 0; i < who.length; ++i) accounts[who[i]].frozen = frozen;
    }
    function slot() external view returns (uint256 v) { bytes32 s = SLOT; assembly { v := sload(s) } }
    function digest(bytes memory data, uint256 rounds) public pure returns (bytes32 h) {
        h = keccak256(data);
        for (uint256 i; i < rounds; i++) h = keccak256(abi.encodePacked(h, i));
    }
    function _move(address from, address to, uint256 amount) internal {
        Account storage a = accounts[from];
        require(!a.frozen && !accounts[to].frozen, "frozen");
        require(a.balance >= amount, "balance");
        unchecked { a.balance -= uint128(amount); }
        accounts[to].balance += amount.toUint128();
        a.nonce++;
        emit Transfer(from, to, amount);
    }
}
`;

const WARM_INPUT = withVerificationOutputs({
  language: "Solidity",
  sources: { "Warm.sol": { content: WARM_SOURCE } },
  settings: { optimizer: { enabled: true, runs: 200 } },
});

/**
 * Warm-up compiles this many times by default, stopping early once a round is not much faster
 * than the one before. Measured (2 busy cores, OpenZeppelin ERC20+Ownable+UUPS, solc 0.8.28): the
 * first compile in a new worker took 4-5 s, after one warm-up round 2-3 s, the same as a second
 * compile; more rounds did not help further.
 */
export const WARM_MAX_ROUNDS = 1;
const WARM_SETTLED = 0.85;

export class SolcCompilers {
  readonly #options: Required<Omit<SolcCompilersOptions, "compilers">>;
  readonly #log: Logger | undefined;
  readonly #now: () => number;
  /** By release ("0.8.28"). */
  readonly #runners = new Map<string, CompilerRunner>();
  readonly #memory = new Map<Hex, MemoryEntry>();
  #memoryBytes = 0;
  readonly #inflight = new Map<Hex, Promise<Produced>>();
  readonly #pendingIo = new Set<Promise<unknown>>();
  #cacheDirReady: Promise<unknown> | undefined;
  #writesSincePrune = PRUNE_EVERY_WRITES;
  #closed = false;
  readonly #stats: CompilerStats = {
    compiles: 0,
    memoryHits: 0,
    diskHits: 0,
    shared: 0,
    timeouts: 0,
    crashes: 0,
    busy: 0,
    corruptCacheFiles: 0,
    cacheWriteFailures: 0,
    workerStarts: 0,
    workerEvictions: 0,
  };

  constructor(options: SolcCompilersOptions, modules: SolcCompilersModules = {}) {
    this.#options = {
      cacheDir: resolve(options.cacheDir),
      timeoutMs: options.timeoutMs ?? DEFAULT_COMPILE_TIMEOUT_MS,
      loadTimeoutMs: options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS,
      maxWorkers: options.maxWorkers ?? DEFAULT_MAX_WORKERS,
      maxQueued: options.maxQueued ?? DEFAULT_MAX_QUEUED,
      memoryEntries: options.memoryEntries ?? DEFAULT_MEMORY_ENTRIES,
      memoryBytes: options.memoryBytes ?? DEFAULT_MEMORY_BYTES,
      diskEntries: options.diskEntries ?? DEFAULT_DISK_ENTRIES,
    };
    this.#log = modules.logger;
    this.#now = modules.now ?? (() => performance.now());
    for (const compiler of options.compilers ?? findInstalledCompilers()) {
      if (this.#runners.has(compiler.release)) continue;
      this.#runners.set(
        compiler.release,
        new CompilerRunner(
          compiler,
          { loadTimeoutMs: this.#options.loadTimeoutMs, maxQueued: this.#options.maxQueued },
          { stats: this.#stats, now: this.#now, installed: () => this.#installedNames() },
        ),
      );
    }
  }

  /** The installed compilers, oldest release first. */
  installed(): InstalledCompilerStatus[] {
    return [...this.#runners.values()]
      .map((p) => ({ ...p.compiler, version: p.version, loadMs: p.loadMs, loadCpuMs: p.loadCpuMs, running: p.alive }))
      .sort((a, b) => compareReleases(a.release, b.release));
  }

  stats(): Readonly<CompilerStats> {
    return { ...this.#stats };
  }

  /**
   * Compiles `input` with solc `version` ("0.8.28+commit.7893614a"), from the cache if it can.
   * Throws a CompilerError: COMPILER_UNAVAILABLE, COMPILATION_FAILED (the output has errors),
   * COMPILE_TIMEOUT, COMPILER_CRASHED, COMPILER_BUSY or COMPILER_CLOSED. A request identical to
   * one in flight waits for that one (and its timeout).
   */
  async compile(version: string, input: SolcInput, options: CompileOptions = {}): Promise<CompileResult> {
    const started = this.#now();
    const runner = this.#runnerFor(version);
    const text = canonicalJson(input);
    const key = keyOf(version, text);

    let output: SolcOutput;
    let from: CompileResult["from"];
    let solc: Produced["solc"];
    const remembered = this.#memoryGet(key);
    const inflight = this.#inflight.get(key);
    if (remembered) {
      this.#stats.memoryHits++;
      ({ output } = remembered);
      from = "memory";
    } else if (inflight) {
      this.#stats.shared++;
      ({ output } = await inflight);
      from = "shared";
    } else {
      const produced: Promise<Produced> = this.#produce(runner, version, key, text, options.timeoutMs ?? this.#options.timeoutMs).finally(() => {
        if (this.#inflight.get(key) === produced) this.#inflight.delete(key);
      });
      this.#inflight.set(key, produced);
      ({ output, from, solc } = await produced);
    }

    const errors = output.errors.filter((e) => e.severity === "error");
    if (errors.length > 0) throw new CompilationFailedError(version, errors);
    const result: CompileResult = { output, cached: from !== "compiled", from, ms: this.#now() - started };
    if (solc) result.solc = solc;
    return result;
  }

  /**
   * The full version ("0.8.28+commit.7893614a") of the installed `release` ("0.8.28"), loading
   * the compiler if it has not been loaded yet. What a bundle author puts in BuildSpec.compiler.
   */
  async fullVersion(release: string): Promise<string> {
    if (this.#closed) throw new CompilerClosedError(release);
    const runner = this.#runners.get(release);
    if (!runner) {
      const installed = this.#installedNames();
      throw new CompilerUnavailableError(release, `solc ${release} is not installed (installed: ${installed.join(", ") || "none"}). ${installHint(release)}`, installed);
    }
    this.#makeRoomFor(runner);
    return runner.load();
  }

  /**
   * Loads `version` (if its worker is not running) and compiles a small contract with it
   * (maxRounds times, default WARM_MAX_ROUNDS, stopping once a round is not much faster), so that
   * the next real compile neither waits for soljson nor runs cold. Bypasses the cache. Meant
   * for node start-up, for the versions a node expects to need.
   */
  async warm(version: string, options: CompileOptions & { maxRounds?: number } = {}): Promise<WarmResult> {
    const started = this.#now();
    const runner = this.#runnerFor(version);
    const text = canonicalJson(WARM_INPUT);
    const rounds: WarmResult["rounds"] = [];
    for (let previous = Infinity; rounds.length < (options.maxRounds ?? WARM_MAX_ROUNDS); ) {
      this.#makeRoomFor(runner);
      const { output: json, ms, cpuMs } = await runner.run(version, text, options.timeoutMs ?? this.#options.timeoutMs);
      const errors = parseOutput(json).errors.filter((e) => e.severity === "error");
      if (errors.length > 0) throw new CompilationFailedError(version, errors);
      rounds.push({ ms, cpuMs });
      // CPU time, not wall time: on a busy machine wall time says more about the neighbours.
      if (cpuMs > previous * WARM_SETTLED) break;
      previous = cpuMs;
    }
    return { ms: this.#now() - started, loadMs: runner.loadMs, rounds };
  }

  /** Terminates every worker and fails what is queued; waits for cache writes in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#runners.values()].map((p) => p.terminate(new CompilerClosedError(p.version ?? p.compiler.release))));
    while (this.#pendingIo.size > 0) await Promise.allSettled([...this.#pendingIo]);
  }

  #runnerFor(version: string): CompilerRunner {
    if (this.#closed) throw new CompilerClosedError(version);
    const installed = this.#installedNames();
    const match = FULL_VERSION.exec(version);
    if (!match) {
      throw new CompilerUnavailableError(
        version,
        `"${version}" is not a full solc version such as "0.8.28+commit.7893614a"; installed: ${installed.join(", ") || "none"}`,
        installed,
      );
    }
    const release = match[1] ?? "";
    const runner = this.#runners.get(release);
    if (!runner) {
      throw new CompilerUnavailableError(
        version,
        `solc ${version} is not installed (installed: ${installed.join(", ") || "none"}). ${installHint(release)}`,
        installed,
      );
    }
    if (runner.version !== undefined && runner.version !== version) throw commitMismatch(version, runner, installed);
    return runner;
  }

  #installedNames(): string[] {
    return this.installed().map((c) => c.version ?? `${c.release} (${c.packageName}, commit known once loaded)`);
  }

  async #produce(runner: CompilerRunner, version: string, key: Hex, text: string, timeoutMs: number): Promise<Produced> {
    const fromDisk = await this.#diskGet(key, version);
    if (fromDisk) {
      this.#stats.diskHits++;
      this.#memorySet(key, fromDisk);
      return { output: fromDisk.output, from: "disk" };
    }
    if (this.#closed) throw new CompilerClosedError(version);
    this.#makeRoomFor(runner);
    const { output: json, ms, cpuMs } = await runner.run(version, text, timeoutMs);
    this.#stats.compiles++;
    const output = parseOutput(json);
    this.#memorySet(key, { output, bytes: json.length });
    this.#track(this.#diskPut(key, version, json));
    return { output, from: "compiled", solc: { ms, cpuMs } };
  }

  /** Keeps live workers within maxWorkers by terminating the least recently used idle one. */
  #makeRoomFor(runner: CompilerRunner): void {
    runner.lastUsed = this.#now();
    if (runner.alive) return;
    const alive = [...this.#runners.values()].filter((p) => p.alive);
    const idle = alive.filter((p) => p.idle).sort((a, b) => a.lastUsed - b.lastUsed);
    // When every live worker is busy the bound is exceeded rather than a request refused.
    for (let excess = alive.length + 1 - this.#options.maxWorkers; excess > 0; excess--) {
      const victim = idle.shift();
      if (!victim) break;
      this.#stats.workerEvictions++;
      this.#track(victim.terminate(new CompilerClosedError(victim.version ?? victim.compiler.release)));
    }
  }

  #memoryGet(key: Hex): MemoryEntry | undefined {
    const entry = this.#memory.get(key);
    if (entry) {
      this.#memory.delete(key);
      this.#memory.set(key, entry);
    }
    return entry;
  }

  #memorySet(key: Hex, entry: MemoryEntry): void {
    if (entry.bytes > this.#options.memoryBytes || this.#options.memoryEntries <= 0) return;
    const old = this.#memory.get(key);
    if (old) {
      this.#memory.delete(key);
      this.#memoryBytes -= old.bytes;
    }
    this.#memory.set(key, entry);
    this.#memoryBytes += entry.bytes;
    for (const [oldest, evicted] of this.#memory) {
      if (this.#memory.size <= this.#options.memoryEntries && this.#memoryBytes <= this.#options.memoryBytes) break;
      this.#memory.delete(oldest);
      this.#memoryBytes -= evicted.bytes;
    }
  }

  #cachePath(key: Hex): string {
    return join(this.#options.cacheDir, `${key.slice(2)}.json`);
  }

  /** A cache file: {"compiler":...,"key":...,"output":<solc's output>}. Anything else is a miss. */
  async #diskGet(key: Hex, version: string): Promise<MemoryEntry | undefined> {
    const path = this.#cachePath(key);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.#log?.warn({ err, path }, "compile cache unreadable");
      return undefined;
    }
    try {
      const file = JSON.parse(text) as { compiler?: unknown; key?: unknown; output?: unknown };
      if (file.compiler !== version || file.key !== key) throw new Error("names another compile");
      const output = normaliseOutput(file.output);
      const touched = new Date();
      this.#track(utimes(path, touched, touched).catch(() => undefined));
      return { output, bytes: text.length };
    } catch (err) {
      this.#stats.corruptCacheFiles++;
      this.#log?.warn({ err, path }, "corrupt compile cache file ignored; it will be overwritten");
      return undefined;
    }
  }

  async #diskPut(key: Hex, version: string, json: string): Promise<void> {
    const path = this.#cachePath(key);
    const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      this.#cacheDirReady ??= mkdir(this.#options.cacheDir, { recursive: true });
      await this.#cacheDirReady;
      await writeFile(temp, `{"compiler":${JSON.stringify(version)},"key":"${key}","output":${json}}`);
      await rename(temp, path);
    } catch (err) {
      this.#stats.cacheWriteFailures++;
      this.#cacheDirReady = undefined;
      this.#log?.warn({ err, path }, "compile cache write failed");
      await rm(temp, { force: true }).catch(() => undefined);
      return;
    }
    if (++this.#writesSincePrune >= PRUNE_EVERY_WRITES) {
      this.#writesSincePrune = 0;
      await this.#prune().catch((err: unknown) => this.#log?.warn({ err }, "compile cache pruning failed"));
    }
  }

  /** Deletes the least recently used cache files beyond diskEntries, and stale temp files. */
  async #prune(): Promise<void> {
    const dir = this.#options.cacheDir;
    const now = Date.now();
    const files: { path: string; used: number }[] = [];
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      if (name.endsWith(".tmp") && now - info.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
      else if (CACHE_FILE.test(name)) files.push({ path, used: info.mtimeMs });
    }
    files.sort((a, b) => a.used - b.used);
    for (const file of files.slice(0, Math.max(0, files.length - this.#options.diskEntries))) await rm(file.path, { force: true });
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => undefined).finally(() => this.#pendingIo.delete(tracked));
    this.#pendingIo.add(tracked);
  }
}

function installHint(release: string): string {
  return `To install it, add "solc-${release}": "npm:solc@${release}" to the dependencies in package.json and run npm install.`;
}

function commitMismatch(version: string, runner: CompilerRunner, installed: readonly string[]): CompilerUnavailableError {
  return new CompilerUnavailableError(
    version,
    `solc ${version} is not installed: the package ${runner.compiler.packageName} is ${runner.version}, ` +
      `a different build of ${runner.compiler.release}. Installed: ${installed.join(", ")}`,
    installed,
  );
}

function parseOutput(json: string): SolcOutput {
  return normaliseOutput(JSON.parse(json));
}

function normaliseOutput(value: unknown): SolcOutput {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("solc output is not an object");
  const raw = value as Partial<SolcOutput>;
  return deepFreeze({ ...raw, contracts: raw.contracts ?? {}, sources: raw.sources ?? {}, errors: raw.errors ?? [] });
}

/** Freezes a JSON value and everything in it (iteratively: ASTs are deep). */
function deepFreeze<T>(root: T): T {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== "object" || value === null || Object.isFrozen(value)) continue;
    Object.freeze(value);
    for (const child of Object.values(value)) if (typeof child === "object" && child !== null) stack.push(child);
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// One compiler's worker: loads it, runs its queue one request at a time, restarts after a
// timeout or a crash.

interface Job {
  id: number;
  expected: string;
  input: string;
  timeoutMs: number;
  resolve(result: SolcRun): void;
  reject(error: Error): void;
}

interface SolcRun {
  /** solc's standard-JSON output. */
  output: string;
  ms: number;
  cpuMs: number;
}

interface RunnerModules {
  /** Shared with the SolcCompilers that owns the runner. */
  stats: CompilerStats;
  now: () => number;
  /** Installed versions, for error messages. */
  installed: () => string[];
}

const WORKER_URL = new URL("./compilerWorker.ts", import.meta.url);

class CompilerRunner {
  readonly compiler: InstalledCompiler;
  /** The full version the package reported; undefined until it has been loaded once. */
  version: string | undefined;
  loadMs: number | undefined;
  loadCpuMs: number | undefined;
  lastUsed = 0;
  readonly #options: { loadTimeoutMs: number; maxQueued: number };
  readonly #modules: RunnerModules;
  #worker: Worker | undefined;
  #ready = false;
  #loadTimer: NodeJS.Timeout | undefined;
  readonly #queue: Job[] = [];
  #running: { job: Job; timer: NodeJS.Timeout } | undefined;
  readonly #loadWaiters: { resolve(version: string): void; reject(error: Error): void }[] = [];
  #nextId = 1;

  constructor(compiler: InstalledCompiler, options: { loadTimeoutMs: number; maxQueued: number }, modules: RunnerModules) {
    this.compiler = compiler;
    this.#options = options;
    this.#modules = modules;
  }

  get alive(): boolean {
    return this.#worker !== undefined;
  }

  get idle(): boolean {
    return this.#running === undefined && this.#queue.length === 0 && this.#loadWaiters.length === 0;
  }

  /** solc's output JSON for `input` and solc's time, compiled by this package if it is `expected`. */
  run(expected: string, input: string, timeoutMs: number): Promise<SolcRun> {
    if (this.#queue.length >= this.#options.maxQueued) {
      this.#modules.stats.busy++;
      return Promise.reject(new CompilerBusyError(expected, this.#queue.length));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, expected, input, timeoutMs, resolve, reject });
      this.#kick();
    });
  }

  /** The full version, loading the compiler if it never was. */
  load(): Promise<string> {
    if (this.version !== undefined) return Promise.resolve(this.version);
    return new Promise((resolve, reject) => {
      this.#loadWaiters.push({ resolve, reject });
      (this.#worker ?? this.#start()).ref();
    });
  }

  /** Fails the running and queued requests with `reason` and terminates the worker. */
  async terminate(reason: Error): Promise<void> {
    const worker = this.#discardWorker();
    for (const waiter of this.#loadWaiters.splice(0)) waiter.reject(reason);
    if (this.#running) {
      clearTimeout(this.#running.timer);
      this.#running.job.reject(reason);
      this.#running = undefined;
    }
    for (const job of this.#queue.splice(0)) job.reject(reason);
    await worker?.terminate();
  }

  #kick(): void {
    while (this.#running === undefined) {
      const job = this.#queue[0];
      if (!job) {
        this.#worker?.unref(); // an idle worker must not keep the process alive
        return;
      }
      const worker = this.#worker ?? this.#start();
      worker.ref();
      if (!this.#ready) return; // "loaded" kicks again
      this.#queue.shift();
      if (this.version !== job.expected) {
        job.reject(commitMismatch(job.expected, this, this.#modules.installed()));
        continue;
      }
      const timer = setTimeout(() => this.#timeout(), job.timeoutMs);
      this.#running = { job, timer };
      worker.postMessage({ id: job.id, input: job.input } satisfies CompileRequest);
    }
  }

  #start(): Worker {
    const started = this.#modules.now();
    const worker = new Worker(WORKER_URL, { workerData: { entry: this.compiler.entry } satisfies WorkerInit });
    this.#modules.stats.workerStarts++;
    this.#worker = worker;
    this.#ready = false;
    this.#loadTimer = setTimeout(
      () => this.#loadFailed(worker, `did not load within ${this.#options.loadTimeoutMs} ms`),
      this.#options.loadTimeoutMs,
    );
    let lastError: Error | undefined;
    worker.on("error", (error: Error) => (lastError = error));
    worker.on("message", (message: WorkerMessage) => {
      if (this.#worker !== worker) return;
      switch (message.type) {
        case "loaded":
          clearTimeout(this.#loadTimer);
          this.#ready = true;
          this.version = message.version;
          this.loadMs = this.#modules.now() - started;
          this.loadCpuMs = message.cpuMs;
          for (const waiter of this.#loadWaiters.splice(0)) waiter.resolve(message.version);
          this.#kick();
          return;
        case "loadFailed":
          this.#loadFailed(worker, message.message);
          return;
        case "result":
        case "failed":
          this.#settle(message);
          return;
      }
    });
    worker.on("exit", (code) => {
      if (this.#worker !== worker) return; // terminated on purpose
      const wasReady = this.#ready;
      this.#discardWorker();
      const why = lastError ? `: ${lastError.message}` : ` with code ${code}`;
      if (!wasReady) {
        this.#failQueue(new CompilerUnavailableError(this.compiler.release, `solc ${this.compiler.release} (${this.compiler.packageName}) exited while loading${why}`, this.#modules.installed(), { cause: lastError }));
        return;
      }
      const running = this.#running;
      if (running) {
        clearTimeout(running.timer);
        this.#running = undefined;
        this.#modules.stats.crashes++;
        running.job.reject(new CompilerCrashedError(running.job.expected, `solc ${running.job.expected} worker died${why}`, { cause: lastError }));
      }
      this.#kick(); // a new worker for what is still queued
    });
    return worker;
  }

  #settle(message: Extract<WorkerMessage, { type: "result" | "failed" }>): void {
    const running = this.#running;
    if (!running || running.job.id !== message.id) return;
    clearTimeout(running.timer);
    this.#running = undefined;
    if (message.type === "result") running.job.resolve({ output: message.output, ms: message.ms, cpuMs: message.cpuMs });
    else {
      this.#modules.stats.crashes++;
      running.job.reject(new CompilerCrashedError(running.job.expected, `solc ${running.job.expected} threw: ${message.message}`));
    }
    this.#kick();
  }

  #timeout(): void {
    const running = this.#running;
    if (!running) return;
    this.#running = undefined;
    this.#modules.stats.timeouts++;
    void this.#discardWorker()?.terminate();
    running.job.reject(new CompileTimeoutError(running.job.expected, running.job.timeoutMs));
    this.#kick(); // the next request gets a fresh worker
  }

  /** The worker could not load soljson: every waiting request fails; the next one tries again. */
  #loadFailed(worker: Worker, why: string): void {
    if (this.#worker !== worker) return;
    void this.#discardWorker()?.terminate();
    this.#failQueue(new CompilerUnavailableError(this.compiler.release, `solc ${this.compiler.release} (${this.compiler.packageName}) could not be loaded: ${why}`, this.#modules.installed()));
  }

  #failQueue(error: Error): void {
    for (const waiter of this.#loadWaiters.splice(0)) waiter.reject(error);
    for (const job of this.#queue.splice(0)) job.reject(error);
  }

  #discardWorker(): Worker | undefined {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = false;
    clearTimeout(this.#loadTimer);
    return worker;
  }
}

// ---------------------------------------------------------------------------------------------
// Collecting sources

/** The text of a source unit ("src/Token.sol", "@openzeppelin/..."), or undefined if unknown. */
export type SourceResolver = (sourceUnitName: string) => string | undefined;

export type SourceCollectionErrorCode = "SOURCE_NOT_FOUND" | "SOURCES_TOO_LARGE";

export class SourceCollectionError extends Error {
  override name = "SourceCollectionError";
  readonly code: SourceCollectionErrorCode;
  readonly sourceUnitName: string;
  constructor(code: SourceCollectionErrorCode, sourceUnitName: string, message: string) {
    super(message);
    this.code = code;
    this.sourceUnitName = sourceUnitName;
  }
}

export interface CollectSourcesOptions {
  maxFiles?: number;
  maxBytes?: number;
}

/** OpenZeppelin's whole upgradeable library is ~400 files and 3 MB; a bundle is far smaller. */
export const DEFAULT_MAX_SOURCE_FILES = 1_000;
export const DEFAULT_MAX_SOURCE_BYTES = 16 * 1024 * 1024;

/**
 * Resolves source unit names as files under `root`, then under `root`/node_modules (so
 * "@openzeppelin/contracts/..." works without remappings). Names that would leave those
 * directories resolve to nothing.
 */
export function fileResolver(root: string): SourceResolver {
  const dirs = [resolve(root), resolve(root, "node_modules")];
  return (name) => {
    for (const dir of dirs) {
      const path = resolve(dir, name);
      if (!path.startsWith(dir + sep)) continue;
      try {
        if (statSync(path).isFile()) return readFileSync(path, "utf8");
      } catch {
        // not there: try the next directory
      }
    }
    return undefined;
  };
}

/**
 * The `sources` of a standard-JSON input: the entries and everything they import, transitively,
 * keyed by source unit name as solc names them (relative imports resolved against the importer,
 * other paths taken as they are), in sorted order.
 *
 * @example
 * const sources = collectSources("src/Token.sol", fileResolver(projectRoot));
 */
export function collectSources(
  entries: string | readonly string[],
  resolver: SourceResolver,
  options: CollectSourcesOptions = {},
): SolcInput["sources"] {
  const maxFiles = options.maxFiles ?? DEFAULT_MAX_SOURCE_FILES;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SOURCE_BYTES;
  const found = new Map<string, string>();
  const importedBy = new Map<string, string>();
  const pending = typeof entries === "string" ? [entries] : [...entries];
  let bytes = 0;
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (found.has(name)) continue;
    const content = resolver(name);
    if (content === undefined) {
      const by = importedBy.get(name);
      throw new SourceCollectionError("SOURCE_NOT_FOUND", name, `source not found: ${name}${by ? ` (imported by ${by})` : ""}`);
    }
    bytes += content.length;
    if (found.size + 1 > maxFiles || bytes > maxBytes) {
      throw new SourceCollectionError("SOURCES_TOO_LARGE", name, `sources exceed ${maxFiles} files or ${maxBytes} bytes at ${name}`);
    }
    found.set(name, content);
    for (const path of findImports(content)) {
      const unit = resolveImportPath(name, path);
      if (found.has(unit) || importedBy.has(unit)) continue;
      importedBy.set(unit, name);
      pending.push(unit);
    }
  }
  const sources: SolcInput["sources"] = {};
  for (const name of [...found.keys()].sort()) sources[name] = { content: found.get(name) ?? "" };
  return sources;
}

/**
 * The source unit name solc gives `importPath` imported from `importer`: paths starting with
 * "./" or "../" are relative to the importer's directory, others are names already.
 */
export function resolveImportPath(importer: string, importPath: string): string {
  if (!importPath.startsWith("./") && !importPath.startsWith("../")) return importPath;
  // solc's rule: drop the last segment (and the slashes before it) for the directory and for
  // each "..", skip ".", append anything else.
  const dropLast = (name: string) => name.slice(0, name.lastIndexOf("/") + 1).replace(/\/+$/, "");
  let resolved = dropLast(importer);
  for (const segment of importPath.split("/")) {
    if (segment === ".") continue;
    if (segment === "..") resolved = dropLast(resolved);
    else resolved = resolved === "" ? segment : `${resolved}/${segment}`;
  }
  return resolved;
}

/** The paths of a Solidity source's import directives, in order (comments and strings skipped). */
export function findImports(source: string): string[] {
  const paths: string[] = [];
  let i = 0;
  let inImport = false;
  while (i < source.length) {
    const c = source[i] ?? "";
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      i = end < 0 ? source.length : end + 1;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (c === '"' || c === "'") {
      let value = "";
      let j = i + 1;
      for (; j < source.length && source[j] !== c && source[j] !== "\n"; j++) {
        if (source[j] === "\\") j++;
        value += source[j] ?? "";
      }
      if (inImport) {
        paths.push(value);
        inImport = false;
      }
      i = j + 1;
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < source.length && /[A-Za-z0-9_$]/.test(source[j] ?? "")) j++;
      if (source.slice(i, j) === "import") inImport = true;
      i = j;
    } else {
      if (c === ";") inImport = false;
      i++;
    }
  }
  return paths;
}
