// The `sources` of a standard-JSON input, collected from files: the entry source units and
// everything they import, transitively, named as solc names them. Bounded in files and bytes,
// because the entries and their imports can come from a bundle author.
import { readFileSync, statSync } from "node:fs";
import { resolve, sep } from "node:path";
import type { SolcInput } from "../../codec/bundle.ts";
import { SourceCollectionError } from "./errors.ts";
import { findImports, resolveImportPath } from "./imports.ts";

/** The text of a source unit ("src/Token.sol", "@openzeppelin/..."), or undefined if unknown. */
export type SourceResolver = (sourceUnitName: string) => string | undefined;

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
