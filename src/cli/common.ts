// What every command shares: paths resolved from the caller's directory, argument parsing whose
// errors are usage errors, the documented exit codes, and one place that turns an error into a
// message and an exit code.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { getAddress, isAddress, type Address } from "viem";
import { ClientError } from "../client/errors.ts";
import { UsageError } from "./errors.ts";

/** Where a command writes: the process's streams, or a test's buffers. */
export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** Exit codes a pipeline can rely on (README, `sentinel --help`). */
export const EXIT = {
  /** Approved, valid, done. */
  OK: 0,
  /** Refused: rejected, invalid, not the authority, reverted. */
  REFUSED: 1,
  /** Bad usage or unreadable input: fix the command line. */
  USAGE: 2,
  /** Timed out, or a node or chain unavailable: try again later. */
  UNAVAILABLE: 3,
} as const;

export const EXIT_CODES_HELP = `Exit codes: 0 approved / success, 1 refused / invalid, 2 usage or unreadable input, 3 timed out or unavailable.`;

const PACKAGE_ROOT = resolve(fileURLToPath(new URL("../../", import.meta.url)));

/**
 * The directory the user typed the command in. `npm run sentinel -- …` runs with cwd = the package
 * root and the caller's directory in INIT_CWD; INIT_CWD is trusted only then: a process started
 * by another npm script (`npm test`) inherits it while running somewhere else, and `npm start`
 * keeps its `.devnet/` in the checkout, where the README looks for it.
 */
export function callerDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const init = env["INIT_CWD"];
  if (init && env["npm_lifecycle_event"] === "sentinel" && resolve(cwd) === PACKAGE_ROOT) return init;
  return cwd;
}

/** A path argument as the user meant it: relative to their directory. */
export function callerPath(path: string): string {
  return isAbsolute(path) ? path : resolve(callerDir(), path);
}

/** parseArgs with --help/-h, unknown options and stray positionals as UsageError. */
export function parseCommand<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
  positionals: { min: number; max: number } = { min: 0, max: 0 },
) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]!);
  }
  const help = (parsed.values as { help?: boolean }).help === true;
  if (!help && (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max)) {
    throw new UsageError(
      positionals.max === 0 ? `unexpected argument ${parsed.positionals[0]}` : parsed.positionals.length < positionals.min ? "missing argument" : `unexpected argument ${parsed.positionals[positionals.max]}`,
    );
  }
  return { values: parsed.values as unknown as { [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : string } & { help?: boolean }, positionals: parsed.positionals, help };
}

export function requireFlag(value: string | undefined, flag: string, why: string): string {
  if (value === undefined || value === "") throw new UsageError(`${flag} is required: ${why}`);
  return value;
}

export function addressFlag(value: string, flag: string): Address {
  if (!isAddress(value, { strict: false })) throw new UsageError(`${flag} must be a 20-byte hex address (0x + 40 hex digits), not ${value}`);
  return getAddress(value);
}

export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(callerPath(path), "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the ${what} ${path} is not JSON: ${(error as Error).message}`);
  }
}

/** A secp256k1 key file (0x + 64 hex digits), as `candidate create --proposer-key-file` reads one. */
export function readKeyFile(path: string, what: string): `0x${string}` {
  let text: string;
  try {
    text = readFileSync(callerPath(path), "utf8").trim();
  } catch (error) {
    throw new UsageError(`cannot read the ${what} key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(text) || /^0x0{64}$/.test(text)) throw new UsageError(`the ${what} key file ${path} must hold one 0x-prefixed 32-byte hex key`);
  return text.toLowerCase() as `0x${string}`;
}

/**
 * Runs a command body and maps what it throws to a message and an exit code: usage errors print
 * the usage (exit 2), a node or chain out of reach or a timeout exits 3, a refusal 1.
 */
export async function runCommand(name: string, usage: string, io: CommandIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`sentinel ${name}: ${error.message}\n\n${usage}`);
      return EXIT.USAGE;
    }
    if (error instanceof ClientError) {
      io.stderr(`sentinel ${name}: ${error.message}\n`);
      if (error.code === "NODE_UNAVAILABLE" || error.code === "CLIENT_TIMEOUT") return EXIT.UNAVAILABLE;
      if (error.code === "INVALID_ARGUMENT" || error.code === "ATTESTATION_MALFORMED") return EXIT.USAGE;
      return EXIT.REFUSED;
    }
    io.stderr(`sentinel ${name}: ${(error as Error).message.split("\n")[0]}\n`);
    return EXIT.REFUSED;
  }
}

/** A viem error's first line, or the chain being out of reach said as such. */
export function chainError(rpc: string, error: unknown): ClientError {
  const message = (error as Error).message.split("\n")[0] ?? String(error);
  return new ClientError("NODE_UNAVAILABLE", `cannot read the chain at --rpc ${rpc}: ${message}`, { url: rpc }, { cause: error });
}

/** A candidate id, or a candidate file (`candidate create --network-id` writes its id into it). */
export function candidateIdArgument(argument: string): `0x${string}` {
  if (/^0x[0-9a-fA-F]{64}$/.test(argument)) return argument.toLowerCase() as `0x${string}`;
  if (argument.startsWith("0x")) throw new UsageError(`${argument} is not a candidate id (0x followed by 64 hex digits)`);
  const file = readJsonFile(argument, "candidate file") as { candidateId?: unknown } | null;
  const id = file?.candidateId;
  if (typeof id !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(id)) {
    throw new UsageError(`${argument} has no "candidateId" (it is written by \`candidate create --proposer-key-file … --network-id …\`); give the id instead`);
  }
  return id.toLowerCase() as `0x${string}`;
}
