// Reads a node config file: read, parse JSON, validate. Every failure is a ConfigError naming
// the file, so the operator knows which file to fix.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError } from "./errors.ts";
import type { NodeConfig } from "./schema.ts";
import { parseConfig } from "./validate.ts";

/**
 * Loads and validates a JSON config file. Relative paths inside it (dataDir, keystore, key
 * and password files) are resolved against the file's own directory, not the working
 * directory, so the node behaves the same wherever it is started from.
 *
 * @throws ConfigError READ_FAILED, INVALID_JSON or INVALID_CONFIG (with every issue found)
 * @example
 * const config = loadConfig("config/node.json");
 */
export function loadConfig(file: string): NodeConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "file not found; check the path, or copy config/node.example.json to start from"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied; the node's user must be able to read it"
          : code === "EISDIR"
            ? "is a directory; give the path of the JSON file"
            : `cannot be read (${code ?? String(error)})`;
    throw new ConfigError("READ_FAILED", [{ path: "", message: reason }], { file: path, cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(stripBom(text));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const message = `is not valid JSON (${detail}); JSON allows no comments or trailing commas`;
    throw new ConfigError("INVALID_JSON", [{ path: "", message }], { file: path, cause: error });
  }
  try {
    return parseConfig(json, dirname(path));
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.code, error.issues, { file: path });
    throw error;
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
