// Keys of the per-file code cache: a source file's compiled contracts depend on the compiler,
// the settings (output selection aside) and the sources the file imports, transitively, and on
// nothing else. So a bundle whose V2 changed can take V1's and every library's code from an
// earlier bundle's compile instead of compiling the whole input again. The key is only where to
// look: BuildCompiler uses an entry only if every contract in it has the metadata solc gives
// the same contract in this input (the metadata names the compiler, the settings, the target and
// the hash of every source it depends on), so a wrong key can cost a compile, never a wrong code.
import { createHash } from "node:crypto";
import type { Hex } from "viem";
import type { SolcInput } from "../../codec/bundle.ts";
import { canonicalJson } from "../../codec/canonicalJson.ts";
import { findImports, resolveImportPath } from "./imports.ts";

/**
 * The key of every source file of `input`, or undefined where this module cannot follow solc's
 * import resolution (remappings, an import the input does not hold): then there is no per-file cache.
 */
export function fileCodeKeys(version: string, input: SolcInput): Map<string, Hex> | undefined {
  const { outputSelection: _, ...settings } = input.settings as Record<string, unknown>;
  if (Array.isArray(settings["remappings"]) && settings["remappings"].length > 0) return undefined;
  const imports = new Map<string, string[]>();
  for (const [file, source] of Object.entries(input.sources)) {
    if (typeof source.content !== "string") return undefined;
    const resolved = findImports(source.content).map((path) => resolveImportPath(file, path));
    if (resolved.some((path) => input.sources[path] === undefined)) return undefined;
    imports.set(file, resolved);
  }
  const contentHash = new Map(Object.entries(input.sources).map(([file, source]) => [file, createHash("sha256").update(source.content).digest("hex")]));
  const prefix = `file-code\n${version}\n${canonicalJson(settings)}\n`;
  const keys = new Map<string, Hex>();
  for (const file of imports.keys()) {
    const closure = new Set<string>([file]);
    for (const pending = [file]; pending.length > 0; ) {
      for (const next of imports.get(pending.pop()!)!) {
        if (!closure.has(next)) {
          closure.add(next);
          pending.push(next);
        }
      }
    }
    const hash = createHash("sha256").update(prefix).update(file).update("\n");
    for (const path of [...closure].sort()) hash.update(`${path}\n${contentHash.get(path)}\n`);
    keys.set(file, `0x${hash.digest("hex")}`);
  }
  return keys;
}
