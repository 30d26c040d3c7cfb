// The on-disk compile cache: one file per key, {"compiler":...,"key":...,"output":<solc's
// output>}, written atomically (util/atomicFile.ts) so that a crash never leaves half a file
// under a key's name. A file that does not parse or names another compile is a miss (and
// counted); it is overwritten by the next compile. Reads touch a file's mtime, which is its LRU
// order when pruning beyond maxEntries.
import { mkdir, readFile, readdir, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Hex } from "viem";
import { writeFileAtomic } from "../../util/atomicFile.ts";
import type { MemoryEntry } from "./memoryCache.ts";
import { normaliseOutput } from "./parseOutput.ts";
import type { CompilerStats } from "./stats.ts";

/** Pruning lists the directory; do it on the first write, then every so many. */
const PRUNE_EVERY_WRITES = 32;
/** Temp files older than this are leftovers of a crash. */
const STALE_TEMP_MS = 60 * 60 * 1000;
const CACHE_FILE = /^[0-9a-f]{64}\.json$/;

export interface DiskCacheOptions {
  /** Absolute; created on the first write. */
  dir: string;
  /** Files kept; the least recently used beyond it are deleted. */
  maxEntries: number;
}

export interface DiskCacheModules {
  /** Counts corruptCacheFiles and cacheWriteFailures. */
  stats: CompilerStats;
  logger: Logger | undefined;
  /** Keeps a background write (an mtime touch) awaited by the owner's close(). */
  track: (promise: Promise<unknown>) => void;
}

export class DiskCache {
  readonly #options: DiskCacheOptions;
  readonly #modules: DiskCacheModules;
  #dirReady: Promise<unknown> | undefined;
  #writesSincePrune = PRUNE_EVERY_WRITES;

  constructor(options: DiskCacheOptions, modules: DiskCacheModules) {
    this.#options = options;
    this.#modules = modules;
  }

  /** The output of `key` if its file is there and names this compile; anything else is a miss. */
  async get(key: Hex, version: string): Promise<MemoryEntry | undefined> {
    const path = this.#path(key);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.#modules.logger?.warn({ err, path }, "compile cache unreadable");
      return undefined;
    }
    try {
      const file = JSON.parse(text) as { compiler?: unknown; key?: unknown; output?: unknown };
      if (file.compiler !== version || file.key !== key) throw new Error("names another compile");
      const output = normaliseOutput(file.output);
      const touched = new Date();
      this.#modules.track(utimes(path, touched, touched).catch(() => undefined));
      return { output, bytes: text.length };
    } catch (err) {
      this.#modules.stats.corruptCacheFiles++;
      this.#modules.logger?.warn({ err, path }, "corrupt compile cache file ignored; it will be overwritten");
      return undefined;
    }
  }

  /** Writes solc's output JSON under `key`; never throws (a failed write is logged and counted). */
  async put(key: Hex, version: string, json: string): Promise<void> {
    const path = this.#path(key);
    try {
      this.#dirReady ??= mkdir(this.#options.dir, { recursive: true });
      await this.#dirReady;
      await writeFileAtomic(path, `{"compiler":${JSON.stringify(version)},"key":"${key}","output":${json}}`);
    } catch (err) {
      this.#modules.stats.cacheWriteFailures++;
      this.#dirReady = undefined;
      this.#modules.logger?.warn({ err, path }, "compile cache write failed");
      return;
    }
    if (++this.#writesSincePrune >= PRUNE_EVERY_WRITES) {
      this.#writesSincePrune = 0;
      await this.#prune().catch((err: unknown) => this.#modules.logger?.warn({ err }, "compile cache pruning failed"));
    }
  }

  #path(key: Hex): string {
    return join(this.#options.dir, `${key.slice(2)}.json`);
  }

  /** Deletes the least recently used cache files beyond maxEntries, and stale temp files. */
  async #prune(): Promise<void> {
    const dir = this.#options.dir;
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
    for (const file of files.slice(0, Math.max(0, files.length - this.#options.maxEntries))) await rm(file.path, { force: true });
  }
}
