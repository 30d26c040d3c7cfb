// npm pack runs this (the `prepack` script, after build:contracts): the package's JavaScript and
// declarations in dist/, from tsconfig.build.json, on a clean dist/ so that nothing stale ships.
// It then refuses a build a consumer could not load: every package dist/ imports must be a
// `dependencies` or `peerDependencies` entry of package.json (or a node: builtin), so what the
// node alone needs (libp2p, level, solc, …) can never slip into the package unnoticed.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const require = createRequire(join(root, "package.json"));

rmSync(dist, { recursive: true, force: true });
const started = Date.now();
const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], {
  cwd: root,
  stdio: "inherit",
});
if (tsc.status !== 0) {
  console.error("build:package: tsc -p tsconfig.build.json failed");
  process.exit(tsc.status ?? 1);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** The package a bare specifier names: "viem" of "viem/accounts", "@scope/name" of "@scope/name/x". */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|(?:^|[\s;(])import\s*\(?\s*["']([^"']+)["']/g;
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
const files = filesUnder(dist);
const undeclared: string[] = [];
for (const file of files.filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))) {
  for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2]!;
    if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
    if (!declared.has(packageOf(specifier))) undeclared.push(`${relative(root, file)} imports ${specifier}`);
  }
}
if (undeclared.length > 0) {
  console.error(
    "build:package: dist/ imports packages a consumer would not get; add them to dependencies " +
      "(or keep the import out of the package's entry points):\n  " +
      undeclared.join("\n  "),
  );
  process.exit(1);
}
console.log(`built the package: ${files.length} files in dist/ in ${Date.now() - started} ms`);
