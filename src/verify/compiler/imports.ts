// Solidity import directives: finding their paths in a source (a small scanner that skips
// comments and strings, not a parser) and resolving a path to the source unit name solc gives it.

/**
 * The source unit name solc gives `importPath` imported from `importer`: paths starting with
 * "./" or "../" are relative to the importer's directory, others are names already.
 */
export function resolveImportPath(importer: string, importPath: string): string {
  if (!importPath.startsWith("./") && !importPath.startsWith("../")) return importPath;
  // solc's rule: drop the last segment (and the slashes before it) for the directory and for
  // each "..", skip ".", append anything else.
  const dropLast = (name: string) => name.slice(0, name.lastIndexOf("/") + 1).replace(/\/+$/, "");
  let resolved = dropLast(importer);
  for (const segment of importPath.split("/")) {
    if (segment === ".") continue;
    if (segment === "..") resolved = dropLast(resolved);
    else resolved = resolved === "" ? segment : `${resolved}/${segment}`;
  }
  return resolved;
}

/** The paths of a Solidity source's import directives, in order (comments and strings skipped). */
export function findImports(source: string): string[] {
  const paths: string[] = [];
  let i = 0;
  let inImport = false;
  while (i < source.length) {
    const c = source[i] ?? "";
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      i = end < 0 ? source.length : end + 1;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (c === '"' || c === "'") {
      let value = "";
      let j = i + 1;
      for (; j < source.length && source[j] !== c && source[j] !== "\n"; j++) {
        if (source[j] === "\\") j++;
        value += source[j] ?? "";
      }
      if (inImport) {
        paths.push(value);
        inImport = false;
      }
      i = j + 1;
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < source.length && /[A-Za-z0-9_$]/.test(source[j] ?? "")) j++;
      if (source.slice(i, j) === "import") inImport = true;
      i = j;
    } else {
      if (c === ";") inImport = false;
      i++;
    }
  }
  return paths;
}
