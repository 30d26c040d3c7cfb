// The solc compilers this node has: the npm `solc` packages the project depends on ("solc" and
// aliases such as "solc-0.8.28": "npm:solc@0.8.28"), read from devDependencies as well as
// dependencies (the node's own packages are devDependencies: a client installing the package
// gets only its dependencies); nothing is ever downloaded. A version is known by its
// package.json until its worker has loaded it, then by what `solc.version()` reports: a request
// naming the right release with the wrong commit fails once it is loaded.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface InstalledCompiler {
  /** The dependency's name: "solc" or "solc-0.8.28". */
  packageName: string;
  /** The release, from the package's package.json: "0.8.28". The commit is learned on load. */
  release: string;
  /** Absolute path of the package's main module, which the worker requires. */
  entry: string;
}

const DEFAULT_PACKAGE_JSON = fileURLToPath(new URL("../../../package.json", import.meta.url));
const SOLC_PACKAGE = /^solc(-\d+\.\d+\.\d+)?$/;
const FULL_VERSION = /^(\d+\.\d+\.\d+)\+commit\.([0-9a-f]{8})$/;

/**
 * The solc packages among a package.json's (dev)dependencies that are installed, oldest release
 * first, one per release. Reads package.json files only: no compiler is loaded.
 */
export function findInstalledCompilers(packageJsonPath: string = DEFAULT_PACKAGE_JSON): InstalledCompiler[] {
  const manifest = JSON.parse(readFileSync(packageJsonPath, "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const require = createRequire(packageJsonPath);
  const byRelease = new Map<string, InstalledCompiler>();
  const names = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})]);
  for (const packageName of [...names].sort()) {
    if (!SOLC_PACKAGE.test(packageName)) continue;
    let pkg: { name?: unknown; version?: unknown };
    let entry: string;
    try {
      pkg = JSON.parse(readFileSync(require.resolve(`${packageName}/package.json`), "utf8")) as typeof pkg;
      entry = require.resolve(packageName);
    } catch {
      continue; // declared but not installed: `npm install` has not run
    }
    if (pkg.name !== "solc" || typeof pkg.version !== "string" || !/^\d+\.\d+\.\d+$/.test(pkg.version)) continue;
    if (!byRelease.has(pkg.version)) byRelease.set(pkg.version, { packageName, release: pkg.version, entry });
  }
  return [...byRelease.values()].sort((a, b) => compareReleases(a.release, b.release));
}

/** The release of a full version: "0.8.28" of "0.8.28+commit.7893614a"; undefined if it is not one. */
export function releaseOf(version: string): string | undefined {
  return FULL_VERSION.exec(version)?.[1];
}

export function compareReleases(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
