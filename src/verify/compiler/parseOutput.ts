// solc's output JSON, from a worker or a cache file, into a SolcOutput: `contracts`, `sources`
// and `errors` always present, and deep-frozen, because one object is shared by every caller
// that asks for the same compile (and by the memory cache).
import type { SolcOutput } from "./types.ts";

export function parseOutput(json: string): SolcOutput {
  return normaliseOutput(JSON.parse(json));
}

export function normaliseOutput(value: unknown): SolcOutput {
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

