// What the compilers count: cache hits, compiles and everything that went wrong. One object per
// SolcCompilers, shared with its runners and its disk cache, which count what they see.

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
  /** Source files whose contracts' code came from the per-file code cache (BuildCompiler). */
  fileCodeHits: number;
  /** Per-file entries found but not used: a contract's metadata differed from this input's. */
  fileCodeRefused: number;
}

export function emptyStats(): CompilerStats {
  return {
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
    fileCodeHits: 0,
    fileCodeRefused: 0,
  };
}
