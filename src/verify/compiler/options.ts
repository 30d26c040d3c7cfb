// SolcCompilers' options and their defaults, with the reasoning behind each number: they bound
// the memory (workers, cached outputs), the disk and the time a compile may take.
import { resolve } from "node:path";
import type { InstalledCompiler } from "./installed.ts";

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
  /**
   * Workers one version may run at once. A build is two compiles (code, and AST with storage
   * layouts) and upgrades-core's namespaced compile starts from the AST while the code is still
   * compiling: with one worker they would queue behind each other.
   */
  workersPerVersion?: number;
  /** Requests one version may have waiting; beyond it compile() fails with COMPILER_BUSY. */
  maxQueued?: number;
  /** In-memory LRU bounds: entries and total size of their JSON. */
  memoryEntries?: number;
  memoryBytes?: number;
  /** Disk cache files kept; the least recently used beyond it are deleted. */
  diskEntries?: number;
}

/** An OpenZeppelin token compiles in seconds; large via-IR projects can take a minute or more. */
export const DEFAULT_COMPILE_TIMEOUT_MS = 120_000;
/** Loading soljson takes ~0.6 s alone; 2 shared cores and several loads at once slow it down. */
export const DEFAULT_LOAD_TIMEOUT_MS = 60_000;
/**
 * A worker takes ~120 MB once loaded and keeps what its wasm heap grew to (~250 MB after an
 * OpenZeppelin token); a node rarely needs more than a few versions at once: two versions at
 * their full width.
 */
export const DEFAULT_MAX_WORKERS = 4;
/** The two halves of a build in parallel; more would only contend for a small machine's cores. */
export const DEFAULT_WORKERS_PER_VERSION = 2;
export const DEFAULT_MAX_QUEUED = 32;
export const DEFAULT_MEMORY_ENTRIES = 8;
/** Outputs with ASTs are ~1 MB of JSON for a token, more for big projects; parsed, several times that. */
export const DEFAULT_MEMORY_BYTES = 32 * 1024 * 1024;
export const DEFAULT_DISK_ENTRIES = 2_000;

export type ResolvedCompilersOptions = Required<Omit<SolcCompilersOptions, "compilers">>;

/** The options with their defaults filled in, and the cache directory made absolute. */
export function withDefaults(options: SolcCompilersOptions): ResolvedCompilersOptions {
  return {
    cacheDir: resolve(options.cacheDir),
    timeoutMs: options.timeoutMs ?? DEFAULT_COMPILE_TIMEOUT_MS,
    loadTimeoutMs: options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS,
    maxWorkers: options.maxWorkers ?? DEFAULT_MAX_WORKERS,
    workersPerVersion: Math.max(1, options.workersPerVersion ?? DEFAULT_WORKERS_PER_VERSION),
    maxQueued: options.maxQueued ?? DEFAULT_MAX_QUEUED,
    memoryEntries: options.memoryEntries ?? DEFAULT_MEMORY_ENTRIES,
    memoryBytes: options.memoryBytes ?? DEFAULT_MEMORY_BYTES,
    diskEntries: options.diskEntries ?? DEFAULT_DISK_ENTRIES,
  };
}
