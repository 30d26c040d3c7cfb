// `sentinel keys generate|show|list|import`: create a validator's BLS key in an EIP-2335
// keystore, show an existing one, list a directory of them, or import one another tool wrote,
// each with what the operator hands to the network to be enrolled: the raw public key the
// registry stores and a proof of possession bound to the network id.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PublicKey } from "@chainsafe/blst";
import { parseArgs } from "node:util";
import { bytesToHex, type Hex } from "viem";
import { isNetworkId } from "../codec/types.ts";
import { signProofOfPossession } from "../consensus/validatorSet.ts";
import { generateSecretKey, publicKeyRaw, signatureToEip2537, type SecretKey } from "../crypto/bls.ts";
import {
  DEFAULT_PASSWORD_ENV,
  KeystoreError,
  createKeystore,
  decryptKeystore,
  loadSecretKey,
  parseKeystore,
  resolvePassword,
  writeKeystore,
  type KeystoreKdf,
  type PasswordSource,
} from "../crypto/keystore.ts";
import { UsageError } from "./errors.ts";
import { callerPath, type CommandIo } from "./common.ts";

export type { CommandIo } from "./common.ts";

export interface KeysCommandOptions {
  /** KDF for new keystores; default scrypt. Tests and devnets pass INSECURE_FAST_KDF. */
  kdf?: KeystoreKdf;
  /** Where --password-env (and the default variable) are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** What `keys generate` and `keys show` print, as JSON. */
export interface KeyInfo {
  networkId: Hex;
  /** Uncompressed 96-byte x ‖ y, as the registry stores it. */
  publicKey: Hex;
  publicKeyCompressed: Hex;
  /** EIP-2537 256-byte signature over the ProofOfPossession digest of `publicKey` under `networkId`. */
  proofOfPossession: Hex;
  /** Absolute path of the keystore. */
  keystore: string;
}

export const KEYS_USAGE = `Usage:
  sentinel keys generate --network-id <0x…32 bytes> --out <keystore.json> [password]
  sentinel keys show --keystore <keystore.json> --network-id <0x…32 bytes> [password]
  sentinel keys list --dir <directory>
  sentinel keys import --keystore <EIP-2335 file> --out <keystore.json> --network-id <0x…32 bytes> [password]

generate  creates a new BLS key in an EIP-2335 keystore (never overwrites a file)
show      prints the public key and proof of possession of an existing keystore
list      prints one JSON line per EIP-2335 keystore in the directory, without a password:
          { keystore, publicKey, publicKeyCompressed, path, uuid, description? }
          (other files are skipped, each named on stderr)
import    checks a keystore another tool wrote (its password decrypts it, its pubkey is the key's)
          and copies it unchanged, mode 0600, to --out (never overwrites a file)

Password (one of):
  --password-file <file>   read the password from a file (one trailing newline ignored)
  --password-env <VAR>     read it from an environment variable
  (neither)                read it from ${DEFAULT_PASSWORD_ENV}

generate, show and import print JSON: { networkId, publicKey, publicKeyCompressed, proofOfPossession, keystore }
Exit codes: 0 success, 1 refused (wrong password, invalid keystore, existing file), 2 usage.
`;

/**
 * Runs `keys <subcommand> [options]`; `argv` starts at the subcommand.
 * @returns the exit code: 0 success, 1 failure (one-line reason on stderr), 2 usage error.
 */
export async function runKeysCommand(argv: string[], io: CommandIo, options: KeysCommandOptions = {}): Promise<number> {
  try {
    const [subcommand, ...rest] = argv;
    switch (subcommand) {
      case "generate":
        return await generate(rest, io, options);
      case "show":
        return await show(rest, io, options);
      case "list":
        return list(rest, io);
      case "import":
        return await importKeystore(rest, io, options);
      case "help":
      case "--help":
      case "-h":
        io.stdout(KEYS_USAGE);
        return 0;
      case undefined:
        throw new UsageError("missing subcommand");
      default:
        throw new UsageError(`unknown subcommand "${subcommand}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\n\n${KEYS_USAGE}`);
      return 2;
    }
    io.stderr(`error: ${oneLine(error)}\n`);
    return 1;
  }
}

const PASSWORD_OPTIONS = {
  "password-file": { type: "string" },
  "password-env": { type: "string" },
} as const;

async function generate(argv: string[], io: CommandIo, options: KeysCommandOptions): Promise<number> {
  const values = parse(argv, { "network-id": { type: "string" }, out: { type: "string" }, ...PASSWORD_OPTIONS });
  if (values === "help") return help(io);
  const networkId = requireNetworkId(values["network-id"]);
  const out = callerPath(requireOption(values.out, "--out"));
  const password = resolvePassword(passwordSource(values), options.env);

  // Checked before the (slow) KDF; writeKeystore refuses again atomically at the end.
  if (existsSync(out)) throw new KeystoreError("FILE_EXISTS", `refusing to overwrite existing file ${out}`);
  const secretKey = generateSecretKey();
  const keystore = await createKeystore(secretKey, password, options.kdf ? { kdf: options.kdf } : {});
  mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
  writeKeystore(out, keystore);
  io.stdout(`${JSON.stringify(keyInfo(secretKey, networkId, out), null, 2)}\n`);
  return 0;
}

async function show(argv: string[], io: CommandIo, options: KeysCommandOptions): Promise<number> {
  const values = parse(argv, { keystore: { type: "string" }, "network-id": { type: "string" }, ...PASSWORD_OPTIONS });
  if (values === "help") return help(io);
  const networkId = requireNetworkId(values["network-id"]);
  const file = callerPath(requireOption(values.keystore, "--keystore"));
  const password = resolvePassword(passwordSource(values), options.env);
  const secretKey = await loadSecretKey(file, password);
  io.stdout(`${JSON.stringify(keyInfo(secretKey, networkId, file), null, 2)}\n`);
  return 0;
}

/** What `keys list` prints for each keystore: everything the file says without its password. */
export interface ListedKey {
  keystore: string;
  publicKey: Hex;
  publicKeyCompressed: Hex;
  path: string;
  uuid: string;
  description?: string;
}

function list(argv: string[], io: CommandIo): number {
  const values = parse(argv, { dir: { type: "string" } });
  if (values === "help") return help(io);
  const dir = callerPath(requireOption(values.dir, "--dir"));
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name).sort();
  } catch (error) {
    throw new KeystoreError("IO_ERROR", `cannot read directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? oneLine(error)}`, { cause: error });
  }
  for (const name of names) {
    const file = join(dir, name);
    let listed: ListedKey;
    try {
      const keystore = parseKeystore(readFileSync(file, "utf8"), file);
      // The file's pubkey field is all there is without the password; a point that does not
      // decompress is no key anyone could use.
      const publicKey = PublicKey.fromBytes(Buffer.from(keystore.pubkey, "hex"), true);
      listed = {
        keystore: file,
        publicKey: bytesToHex(publicKeyRaw(publicKey)),
        publicKeyCompressed: bytesToHex(publicKey.toBytes(true)),
        path: keystore.path,
        uuid: keystore.uuid,
        ...(typeof keystore.description === "string" ? { description: keystore.description } : {}),
      };
    } catch (error) {
      io.stderr(`skipped ${file}: ${oneLine(error)}\n`);
      continue;
    }
    io.stdout(`${JSON.stringify(listed)}\n`);
  }
  return 0;
}

async function importKeystore(argv: string[], io: CommandIo, options: KeysCommandOptions): Promise<number> {
  const values = parse(argv, { keystore: { type: "string" }, out: { type: "string" }, "network-id": { type: "string" }, ...PASSWORD_OPTIONS });
  if (values === "help") return help(io);
  const networkId = requireNetworkId(values["network-id"]);
  const from = callerPath(requireOption(values.keystore, "--keystore"));
  const out = callerPath(requireOption(values.out, "--out"));
  const password = resolvePassword(passwordSource(values), options.env);
  if (existsSync(out)) throw new KeystoreError("FILE_EXISTS", `refusing to overwrite existing file ${out}`);
  let json: string;
  try {
    json = readFileSync(from, "utf8");
  } catch (error) {
    throw new KeystoreError("IO_ERROR", `cannot read keystore ${from}: ${(error as NodeJS.ErrnoException).code ?? oneLine(error)}`, { cause: error });
  }
  const source = `keystore ${from}`;
  const keystore = parseKeystore(json, source);
  // Decrypted before it is copied: a file the node could not open at start is refused now,
  // while the operator still has the other tool's password at hand.
  const secretKey = await decryptKeystore(keystore, password, source);
  mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
  writeKeystore(out, keystore);
  io.stdout(`${JSON.stringify(keyInfo(secretKey, networkId, out), null, 2)}\n`);
  return 0;
}

function keyInfo(secretKey: SecretKey, networkId: Hex, keystore: string): KeyInfo {
  const publicKey = secretKey.toPublicKey();
  return {
    networkId,
    publicKey: bytesToHex(publicKeyRaw(publicKey)),
    publicKeyCompressed: bytesToHex(publicKey.toBytes(true)),
    proofOfPossession: signatureToEip2537(signProofOfPossession(secretKey, networkId)),
    keystore,
  };
}

type StringOptions = Record<string, { type: "string" }>;

/** Parsed string options, or "help" for --help. Unknown options and positionals are usage errors. */
function parse(argv: string[], spec: StringOptions): Record<string, string | undefined> | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...spec, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(oneLine(error));
  }
  if (values["help"] === true) return "help";
  return values as Record<string, string | undefined>;
}

function help(io: CommandIo): number {
  io.stdout(KEYS_USAGE);
  return 0;
}

function requireOption(value: string | undefined, name: string): string {
  if (value === undefined || value === "") throw new UsageError(`missing ${name}`);
  return value;
}

function requireNetworkId(value: string | undefined): Hex {
  const id = requireOption(value, "--network-id");
  if (!isNetworkId(id)) throw new UsageError("--network-id must be 0x followed by 64 hex digits (32 bytes), not all zero");
  return id.toLowerCase() as Hex;
}

function passwordSource(values: Record<string, string | undefined>): PasswordSource {
  const passwordFile = values["password-file"];
  const passwordEnv = values["password-env"];
  if (passwordFile !== undefined && passwordEnv !== undefined) {
    throw new UsageError("give --password-file or --password-env, not both");
  }
  if (passwordFile !== undefined) return { passwordFile: callerPath(requireOption(passwordFile, "--password-file value")) };
  if (passwordEnv !== undefined) return { passwordEnv: requireOption(passwordEnv, "--password-env value") };
  return {};
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, "; ");
}
