// The layering rules of the project, checked on every run so that a cycle or a stray dependency shows
// up in the change that adds it, not months later when nothing can be moved any more:
//
// (a) no import cycle between files of src/;
// (b) no cycle between the top-level parts of src/ (src/a/* importing src/b/* is an edge a -> b;
//     each top-level file such as src/errors.ts is a part of its own);
// (c) only src/cli/ and src/devnet/ import src/devnet/ (the devnet is a tool built on the node,
//     never a part of it);
// (d) no file of src/ is over 500 lines unless its header comment (the comments before the first
//     line of code) says why, with a sentence starting "Over 500 lines because" and giving the
//     reason in at least three more words, e.g. "Over 500 lines because the EVM opcode table is
//     one unit";
// (e) nothing in src/, test/ or scripts/ (fixtures included: a case file can name a path too)
//     reads the monorepo's shared folder (a parent directory's shared/, or shared/vectors): a
//     user's clone has no such folder. The corpus's own test/fixtures/corpus/shared/ is fine.
//
// Imports are what the project's code says, read by a small parser: static `import`/`export ...
// from`, side-effect `import "..."` and `import("...")` of relative paths, type-only ones
// included (a type cycle is still two files that cannot be understood one without the other).
// Comments are ignored. `new URL("./worker.ts", import.meta.url)` worker entries are not imports.
//
// KNOWN_VIOLATIONS_TO_REMOVE lists what was broken when the rules were written, each with why it
// is still there. It can only shrink: a listed violation that is gone fails the test until its
// entry is deleted, so a fix is recorded and cannot quietly come back.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, test } from "node:test";

const KNOWN_VIOLATIONS_TO_REMOVE: Readonly<Record<string, string>> = {
};

const ROOT = resolve(import.meta.dirname, "..");
const MAX_LINES = 500;
const OVER_LIMIT_MARKER = /Over 500 lines because\s+\S+(?:\s+\S+){2,}/;
/** Elementary cycles listed before giving up: past this the graph is a tangle, not a few loops. */
const MAX_CYCLES = 200;

type Rule = "file cycle" | "folder cycle" | "devnet import" | "over 500 lines" | "shared read";
const RULES: readonly Rule[] = ["file cycle", "folder cycle", "devnet import", "over 500 lines", "shared read"];

// ---- the parser ----

/**
 * `source` with comments blanked (newlines kept, so offsets and line numbers hold) and, if
 * `blankTemplates`, the text of template literals blanked too (generated code in a template is not
 * an import). A quote in a regex literal can derail it, but only up to the end of that line.
 */
function stripComments(source: string, blankTemplates: boolean): string {
  const out: string[] = [];
  let state: "code" | "line" | "block" | "'" | '"' | "`" = "code";
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    const next = source[i + 1];
    const blank = c === "\n" ? "\n" : " ";
    switch (state) {
      case "code":
        if (c === "/" && next === "/") (state = "line"), out.push(" ");
        else if (c === "/" && next === "*") (state = "block"), out.push(" ");
        else {
          if (c === "'" || c === '"' || c === "`") state = c;
          out.push(c);
        }
        break;
      case "line":
        if (c === "\n") state = "code";
        out.push(blank);
        break;
      case "block":
        if (c === "*" && next === "/") (state = "code"), out.push("  "), i++;
        else out.push(blank);
        break;
      case "`":
        if (c === "\\") out.push(blankTemplates ? " " : c, blankTemplates ? " " : (next ?? "")), i++;
        else if (c === "`") (state = "code"), out.push(c);
        else out.push(blankTemplates ? blank : c);
        break;
      default: // a quoted string: never spans lines
        if (c === "\\") out.push(c, next ?? ""), i++;
        else {
          if (c === state || c === "\n") state = "code";
          out.push(c);
        }
    }
  }
  return out.join("");
}

const STATIC_FROM =
  /\b(?:import|export)\s+(?:type\s+)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\}|[\w$]+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+[\w$]+))?)\s+from\s*["']([^"'\n]+)["']/g;
const SIDE_EFFECT = /\bimport\s*["']([^"'\n]+)["']/g;
const DYNAMIC = /\bimport\s*\(\s*["']([^"'\n]+)["']\s*\)/g;

/** The relative module specifiers a TypeScript source imports or re-exports, in order of appearance. */
function relativeImports(source: string): string[] {
  const code = stripComments(source, true);
  const found: { at: number; specifier: string }[] = [];
  for (const pattern of [STATIC_FROM, SIDE_EFFECT, DYNAMIC]) {
    for (const match of code.matchAll(pattern)) found.push({ at: match.index, specifier: match[1]! });
  }
  return found
    .filter(({ specifier }) => specifier.startsWith("./") || specifier.startsWith("../"))
    .sort((a, b) => a.at - b.at)
    .map(({ specifier }) => specifier);
}

// ---- the project ----

/** Repository-relative, with forward slashes: the form every message and allow-list entry uses. */
function repoPath(absolute: string): string {
  return relative(ROOT, absolute).split(sep).join("/");
}

function filesUnder(dir: string, keep: (path: string) => boolean): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  const out: string[] = [];
  const walk = (absolute: string): void => {
    for (const entry of readdirSync(absolute, { withFileTypes: true })) {
      const path = join(absolute, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && keep(repoPath(path))) out.push(repoPath(path));
    }
  };
  walk(join(ROOT, dir));
  return out.sort();
}

const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");

interface ImportEdge {
  from: string;
  specifier: string;
  /** Repository-relative; undefined if nothing is there. */
  to: string | undefined;
}

function importsOf(path: string): ImportEdge[] {
  return relativeImports(read(path)).map((specifier) => {
    const target = resolve(ROOT, dirname(path), specifier);
    return { from: path, specifier, to: existsSync(target) && statSync(target).isFile() ? repoPath(target) : undefined };
  });
}

type Graph = Map<string, Set<string>>;

function addEdge(graph: Graph, from: string, to: string): void {
  if (!graph.has(from)) graph.set(from, new Set());
  if (!graph.has(to)) graph.set(to, new Set());
  graph.get(from)!.add(to);
}

/**
 * Every elementary cycle, each once, starting at its smallest node: from each node, only paths
 * through larger nodes back to it. Exponential on a tangle, hence MAX_CYCLES.
 */
function elementaryCycles(graph: Graph): string[][] {
  const nodes = [...graph.keys()].sort();
  const cycles: string[][] = [];
  for (const start of nodes) {
    const path = [start];
    const onPath = new Set(path);
    const walk = (node: string): void => {
      for (const next of [...(graph.get(node) ?? [])].sort()) {
        if (next === start) {
          cycles.push([...path, start]);
          if (cycles.length > MAX_CYCLES) throw new Error(`over ${MAX_CYCLES} import cycles; first: ${cycles.slice(0, 5).map((c) => c.join(" -> ")).join("; ")}`);
        } else if (next > start && !onPath.has(next)) {
          path.push(next);
          onPath.add(next);
          walk(next);
          onPath.delete(next);
          path.pop();
        }
      }
    };
    walk(start);
  }
  return cycles;
}

/** "verify" for src/verify/**, "errors.ts" for src/errors.ts. */
function partOf(path: string): string {
  return path.split("/")[1]!;
}

// ---- the rules ----

interface Violation {
  /** What KNOWN_VIOLATIONS_TO_REMOVE lists: stable while the violation stays the same one. */
  key: string;
  shown: string;
}

function findViolations(): Map<Rule, Violation[]> {
  const sources = filesUnder("src", (path) => path.endsWith(".ts"));
  const edges = sources.flatMap(importsOf);
  const inSrc = edges.filter((edge): edge is ImportEdge & { to: string } => edge.to?.startsWith("src/") === true);

  const files: Graph = new Map();
  const parts: Graph = new Map();
  for (const { from, to } of inSrc) {
    addEdge(files, from, to);
    if (partOf(from) !== partOf(to)) addEdge(parts, partOf(from), partOf(to));
  }
  const same = (text: string): Violation => ({ key: text, shown: text });

  const devnetImports = inSrc
    .filter(({ from, to }) => to.startsWith("src/devnet/") && !from.startsWith("src/cli/") && !from.startsWith("src/devnet/"))
    .map(({ from, to }) => same(`${from} -> ${to}`));

  // The count is shown but not part of the key: editing a long file must not break the list.
  const overLong = sources.flatMap((path) => {
    const text = read(path);
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    return lines > MAX_LINES && !OVER_LIMIT_MARKER.test(headerComment(text)) ? [{ key: path, shown: `${path} (${lines} lines)` }] : [];
  });

  return new Map<Rule, Violation[]>([
    ["file cycle", elementaryCycles(files).map((cycle) => same(cycle.join(" -> ")))],
    ["folder cycle", elementaryCycles(parts).map((cycle) => same(cycle.join(" -> ")))],
    ["devnet import", devnetImports],
    ["over 500 lines", overLong],
    ["shared read", sharedReads().map(same)],
  ]);
}

/** The comments before the first line of code, as plain text on one line. */
function headerComment(source: string): string {
  const header = /^(?:#![^\n]*\n)?(?:\s*(?:\/\/[^\n]*|\/\*[\s\S]*?\*\/))*/.exec(source)?.[0] ?? "";
  return header
    .replace(/^#![^\n]*\n/, "")
    .replace(/\/\/|\/\*+|\*+\/|^\s*\*/gm, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * A parent's shared folder as one path ("../shared", "..\\shared"), as path segments
 * ('..', 'shared'), or shared/vectors however reached. "corpus/shared/..." is the corpus's own.
 */
const SHARED_READS: readonly RegExp[] = [
  /\.\.[\\/]+shared(?![\w.-])/,
  /(?<!corpus[\\/]+)(?<![\w.-])shared[\\/]+vectors(?![\w.-])/,
  /["'`]\.\.["'`]\s*,\s*["'`]shared["'`]/,
  /["'`]shared["'`]\s*,\s*["'`]vectors["'`]/,
];

function readsShared(source: string): boolean {
  const code = stripComments(source, false);
  return SHARED_READS.some((pattern) => pattern.test(code));
}

function sharedReads(): string[] {
  // This file spells the patterns out to test them.
  const scanned = (path: string): boolean => path !== "test/architecture.test.ts";
  return ["src", "test", "scripts"].flatMap((dir) => filesUnder(dir, scanned)).filter((path) => readsShared(read(path)));
}

// ---- the tests ----

describe("architecture", () => {
  const violations = findViolations();

  for (const rule of RULES) {
    test(`${rule}: none beyond the known ones, and every known one still there`, () => {
      const found = violations.get(rule)!;
      const added = found.filter(({ key }) => !(`${rule}: ${key}` in KNOWN_VIOLATIONS_TO_REMOVE)).map(({ shown }) => `${rule}: ${shown}`);
      const fixed = Object.keys(KNOWN_VIOLATIONS_TO_REMOVE).filter(
        (entry) => entry.startsWith(`${rule}: `) && !found.some(({ key }) => entry === `${rule}: ${key}`),
      );
      assert.deepEqual(
        { added, fixed },
        { added: [], fixed: [] },
        `${added.length} new ${rule} violation(s): fix them (see the rules at the top of this file); ` +
          `${fixed.length} fixed: delete them from KNOWN_VIOLATIONS_TO_REMOVE`,
      );
    });
  }

  test("every known violation names a rule and says why it is still there", () => {
    for (const [entry, reason] of Object.entries(KNOWN_VIOLATIONS_TO_REMOVE)) {
      assert.ok(RULES.some((rule) => entry.startsWith(`${rule}: `)), `"${entry}" names no rule (${RULES.join(", ")})`);
      assert.ok(reason.trim().length > 0, `"${entry}" gives no reason`);
    }
  });

  test("every relative import in src/ resolves to a file (else the parser misread one)", () => {
    const sources = filesUnder("src", (path) => path.endsWith(".ts"));
    const unresolved = sources.flatMap(importsOf).filter((edge) => edge.to === undefined);
    assert.deepEqual(unresolved.map(({ from, specifier }) => `${from}: ${specifier}`), []);
    assert.ok(sources.length > 50, "src/ was not found");
  });

  test("tests mirror src/: every unit test sits in a folder named like the src/ folder it tests", () => {
    // contracts/ mirrors contracts/, e2e/ runs real processes, fixtures/ and helpers/ are no tests.
    const OWN_TREES = ["test/contracts/", "test/e2e/", "test/fixtures/", "test/helpers/"];
    const misplaced = filesUnder("test", (path) => path.endsWith(".test.ts"))
      .filter((path) => !OWN_TREES.some((tree) => path.startsWith(tree)) && path !== "test/architecture.test.ts" && path !== "test/errors.test.ts")
      .filter((path) => !existsSync(join(ROOT, "src", dirname(path).slice("test/".length))));
    assert.deepEqual(misplaced, []);
  });
});

describe("the import parser", () => {
  test("finds every form of relative import, type-only ones included, in order", () => {
    const source = [
      'import assert from "node:assert";',
      'import { a,\n  b } from "./multi.ts";',
      'import type { T } from "../types.ts";',
      'import def, { c } from "./default.ts";',
      'import * as ns from "./namespace.ts";',
      'import "./sideEffect.ts";',
      'export { d } from "./reexport.ts";',
      'export type { U } from "./typeReexport.ts";',
      'export * from "./star.ts";',
      'export * as all from "./starAs.ts";',
      'const m = await import("./dynamic.ts");',
      'let t: import("./typeQuery.ts").T;',
      'import data from "../package.json" with { type: "json" };',
    ].join("\n");
    assert.deepEqual(relativeImports(source), [
      "./multi.ts",
      "../types.ts",
      "./default.ts",
      "./namespace.ts",
      "./sideEffect.ts",
      "./reexport.ts",
      "./typeReexport.ts",
      "./star.ts",
      "./starAs.ts",
      "./dynamic.ts",
      "./typeQuery.ts",
      "../package.json",
    ]);
  });

  test("ignores comments, strings that are not specifiers, and code inside template literals", () => {
    const source = [
      '// import { x } from "./lineComment.ts";',
      '/* import("./blockComment.ts")',
      '   export * from "./stillComment.ts"; */',
      'const url = "http://example.com"; import { y } from "./afterUrl.ts";',
      'const code = `import { z } from "./inTemplate.ts";`;',
      'const text = "export * from";',
      'export const from = 1;',
    ].join("\n");
    assert.deepEqual(relativeImports(source), ["./afterUrl.ts"]);
  });

  test("lists each elementary cycle once, from its smallest node", () => {
    const graph: Graph = new Map();
    for (const [from, to] of [["a", "b"], ["b", "a"], ["b", "c"], ["c", "a"], ["c", "d"], ["d", "d"]] as const) addEdge(graph, from, to);
    assert.deepEqual(elementaryCycles(graph), [["a", "b", "a"], ["a", "b", "c", "a"], ["d", "d"]]);
    addEdge(graph, "d", "e");
    assert.equal(elementaryCycles(graph).length, 3);
  });

  test("reads the over-500-lines reason from the header comment only", () => {
    const reason = "Over 500 lines because the opcode table is one unit.";
    assert.ok(OVER_LIMIT_MARKER.test(headerComment(`// Bytecode.\n// ${reason}\nimport x from "y";\n`)));
    assert.ok(OVER_LIMIT_MARKER.test(headerComment(`/**\n * Bytecode. Over 500\n * lines because the opcode table is one unit.\n */\nconst a = 1;\n`)));
    assert.ok(!OVER_LIMIT_MARKER.test(headerComment(`// Bytecode.\nimport x from "y";\n// ${reason}\n`)));
    assert.ok(!OVER_LIMIT_MARKER.test(headerComment("// Over 500 lines because reasons.\nconst a = 1;\n")));
  });

  test("spots a read of the shared folder in any spelling, but not the corpus's own shared/", () => {
    for (const source of [
      'const dir = new URL("../../../shared/vectors/", import.meta.url);',
      'readFileSync(join(root, "..", "shared", "eip2537.json"));',
      "const file = `${root}/../shared/x.json`;",
      'const file = join(root, "shared/vectors/a.json");',
      'const file = join(base, "shared", "vectors");',
      'const file = "..\\\\shared\\\\x.json";',
    ]) {
      assert.ok(readsShared(source), source);
    }
    for (const source of [
      'const ref = "shared/VaultV1.sol:VaultV1";',
      'const dir = join(CORPUS, "shared");',
      'const file = "test/fixtures/corpus/shared/vectors/x.sol";',
      "// once read from ../shared/vectors",
      'const file = "../sharedState.ts";',
      'const file = "test/fixtures/vectors/eip2537_vectors.json";',
    ]) {
      assert.ok(!readsShared(source), source);
    }
  });
});
