// The in-memory compile cache: a small LRU of parsed outputs, bounded by entries and by the total
// size of their JSON (an output with ASTs is ~1 MB of JSON for a token, several times that
// parsed). Map order is recency order: a hit moves the entry to the end.
import type { Hex } from "viem";
import type { SolcOutput } from "./types.ts";

export interface MemoryEntry {
  output: SolcOutput;
  /** Length of the output's JSON, as its size. */
  bytes: number;
}

export interface MemoryCacheOptions {
  maxEntries: number;
  maxBytes: number;
}

export class MemoryCache {
  readonly #options: MemoryCacheOptions;
  readonly #entries = new Map<Hex, MemoryEntry>();
  #bytes = 0;

  constructor(options: MemoryCacheOptions) {
    this.#options = options;
  }

  get(key: Hex): MemoryEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Adds or refreshes an entry, evicting the least recently used beyond the bounds; one larger than maxBytes is not kept. */
  set(key: Hex, entry: MemoryEntry): void {
    if (entry.bytes > this.#options.maxBytes || this.#options.maxEntries <= 0) return;
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= old.bytes;
    }
    this.#entries.set(key, entry);
    this.#bytes += entry.bytes;
    for (const [oldest, evicted] of this.#entries) {
      if (this.#entries.size <= this.#options.maxEntries && this.#bytes <= this.#options.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= evicted.bytes;
    }
  }
}
