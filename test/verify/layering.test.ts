// The rules of verify/'s layout, read from the sources' import lines: no file-level import cycle,
// codec below verify, devnet above it, and @openzeppelin/upgrades-core behind its one adapter
// (whose process-wide patches no other importer would get).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const src = join(root, "src");

/** Every .ts file under `dir`, relative to the project root. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** The module specifiers a file imports or re-exports, type-only ones included. */
function specifiers(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)].map((match) => match[1]!);
}

/** The project files a file imports (relative specifiers), relative to the project root. */
function localImports(file: string): string[] {
  return specifiers(file)
    .filter((specifier) => specifier.startsWith("."))
    .map((specifier) => relative(root, resolve(root, dirname(file), specifier)));
}

/** Which of `files` each of them imports. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  return new Map(files.map((file) => [file, localImports(file).filter((target) => files.includes(target))]));
}

/** The cycles of an import graph, each as its files sorted (Tarjan's strongly connected components). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (stack.includes(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      for (let top = stack.pop()!; ; top = stack.pop()!) {
        component.push(top);
        if (top === file) break;
      }
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

describe("verify's layering", () => {
  it("has no import cycle between files of src/verify, type-only imports included", () => {
    assert.deepEqual(cycles(importGraph(sources(join(src, "verify")))), []);
  });

  it("finds a cycle where there is one: proxySafety.ts and shadow.ts before the split", () => {
    const before = new Map([
      ["src/verify/shadow.ts", ["src/verify/proxySafety.ts", "src/verify/fork.ts"]],
      ["src/verify/proxySafety.ts", ["src/verify/bytecode.ts", "src/verify/shadow.ts"]],
      ["src/verify/fork.ts", []],
      ["src/verify/bytecode.ts", []],
    ]);
    assert.deepEqual(cycles(before), [["src/verify/proxySafety.ts", "src/verify/shadow.ts"]]);
  });

  it("src/codec imports nothing from src/verify (codec is the lower layer)", () => {
    const offending = sources(join(src, "codec")).filter((file) => localImports(file).some((target) => target.startsWith("src/verify/")));
    assert.deepEqual(offending, []);
  });

  it("only src/cli and src/devnet import src/devnet", () => {
    const offending = sources(src).filter(
      (file) => !file.startsWith("src/cli/") && !file.startsWith("src/devnet/") && localImports(file).some((target) => target.startsWith("src/devnet/")),
    );
    assert.deepEqual(offending, []);
  });

  it("@openzeppelin/upgrades-core is imported by its adapter alone", () => {
    const importers = sources(src).filter((file) => specifiers(file).some((specifier) => specifier.startsWith("@openzeppelin/upgrades-core")));
    assert.deepEqual(importers, ["src/verify/upgradeSafety/upgradesCore.ts"]);
  });
});
