// EIP-2335 keystores for the validator's BLS secret key, so operators can use the same files
// and tooling as Ethereum staking (staking-deposit-cli, ethdo, lodestar). The keystore
// JSON holds the key encrypted under a password-derived key; the password lives elsewhere
// (a file or an environment variable), never in the node config.
//
// Nothing here logs, and no error message carries the password or key material.
import { readFileSync } from "node:fs";
import {
  create,
  decrypt,
  defaultPbkdfModule,
  defaultScryptModule,
  schemaValidationErrors,
  type IKeystore,
  type IKdfModule,
} from "@chainsafe/bls-keystore";
import { SecretKey } from "@chainsafe/blst";
import { SentinelError } from "../errors.ts";
import { writeFileAtomicSync } from "../util/atomicFile.ts";

/** The keystore JSON object, as EIP-2335 defines it. */
export type Eip2335Keystore = IKeystore;

export type KeystoreErrorCode =
  /** The password does not decrypt the keystore (or its ciphertext/checksum was altered). */
  | "WRONG_PASSWORD"
  /** Not valid JSON, not an EIP-2335 keystore, out-of-bounds KDF parameters, or a pubkey that does not match the key. */
  | "INVALID_KEYSTORE"
  /** No password source is set, or the source is empty. */
  | "PASSWORD_MISSING"
  /** writeKeystore refused to replace an existing file. */
  | "FILE_EXISTS"
  /** A file could not be read or written (missing, permissions, disk full...). */
  | "IO_ERROR";

export class KeystoreError extends SentinelError<KeystoreErrorCode> {
  override name = "KeystoreError";
  constructor(code: KeystoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, {}, options);
  }
}

/** The environment variable read when neither a password file nor a variable name is configured. */
export const DEFAULT_PASSWORD_ENV = "SENTINEL_KEYSTORE_PASSWORD";

/**
 * Key derivation for a new keystore.
 *
 * - `scrypt` (the default, and the only choice for a real validator key): EIP-2335's
 *   parameters, n = 2^18, r = 8, p = 1. scrypt is memory-hard (256 MiB per guess here), so a
 *   stolen keystore is far costlier to brute-force on GPUs/ASICs than with PBKDF2 at the same
 *   wall time. Deriving takes about a second and blocks the thread, once, at node start.
 * - `pbkdf2` with a caller-chosen iteration count: for tests and local devnets, which create
 *   and open many throwaway keystores and must not spend a second and 256 MiB on each. With a
 *   low count the password protects nothing: never use it for a key that matters.
 */
export type KeystoreKdf = { function: "scrypt" } | { function: "pbkdf2"; iterations: number };

/** Deliberately weak KDF for tests and devnets only (see KeystoreKdf). */
export const INSECURE_FAST_KDF: KeystoreKdf = { function: "pbkdf2", iterations: 2 };

export interface CreateKeystoreOptions {
  /** EIP-2334 derivation path; "" (the default) for a key not derived from a mnemonic. */
  path?: string;
  description?: string;
  /** Default `{ function: "scrypt" }`. */
  kdf?: KeystoreKdf;
}

// Bounds on KDF parameters read from a keystore file. Decrypting runs the KDF with the file's
// own parameters, so a corrupt or hostile file could otherwise ask for gigabytes of memory or
// hours of CPU before we can say anything about it.
/** 128·n·r bytes of scrypt memory: 1 GiB, four times EIP-2335's default. */
const MAX_SCRYPT_MEMORY = 2 ** 30;
const MAX_SCRYPT_P = 16;
/** 64× EIP-2335's default PBKDF2 count (2^18): seconds, not hours. */
const MAX_PBKDF2_ITERATIONS = 2 ** 24;
/** EIP-2335: the decryption key is 32 bytes, half for AES-128, half for the checksum. */
const DKLEN = 32;
const SECRET_KEY_LENGTH = 32;
const PUBKEY_HEX_LENGTH = 96;

/**
 * Encrypts `secretKey` under `password` into an EIP-2335 keystore object. The keystore's
 * `pubkey` is the 48-byte compressed public key, as EIP-2335 tooling expects.
 *
 * @example
 * const keystore = await createKeystore(generateSecretKey(), password);
 * writeKeystore("validator.json", keystore);
 */
export async function createKeystore(
  secretKey: SecretKey,
  password: string,
  options: CreateKeystoreOptions = {},
): Promise<Eip2335Keystore> {
  const kdf = kdfModule(options.kdf ?? { function: "scrypt" });
  const secret = secretKey.toBytes();
  try {
    const keystore = await create(
      password,
      secret,
      secretKey.toPublicKey().toBytes(true),
      options.path ?? "",
      options.description ?? null,
      kdf,
    );
    // The library sets `description: undefined` when there is none; keep the object plain.
    const { description, ...rest } = keystore;
    return description === undefined ? rest : { ...rest, description };
  } finally {
    secret.fill(0);
  }
}

function kdfModule(kdf: KeystoreKdf): Pick<IKdfModule, "function" | "params"> {
  if (kdf.function === "scrypt") return defaultScryptModule();
  if (!Number.isSafeInteger(kdf.iterations) || kdf.iterations < 1 || kdf.iterations > MAX_PBKDF2_ITERATIONS) {
    throw new RangeError(`pbkdf2 iterations must be an integer in 1..${MAX_PBKDF2_ITERATIONS}`);
  }
  const module = defaultPbkdfModule();
  return { ...module, params: { ...module.params, c: kdf.iterations } };
}

export interface WriteKeystoreOptions {
  /** Replace an existing file. Default false: losing a validator key is not undoable. */
  overwrite?: boolean;
}

/**
 * Writes the keystore as JSON with mode 0600, atomically (a crash never leaves a half-written
 * keystore). Without `overwrite` an existing file is never replaced, even by a concurrent writer.
 * Throws KeystoreError FILE_EXISTS or IO_ERROR.
 */
export function writeKeystore(file: string, keystore: Eip2335Keystore, options: WriteKeystoreOptions = {}): void {
  try {
    writeFileAtomicSync(file, `${JSON.stringify(keystore, null, 2)}\n`, { mode: 0o600, replace: options.overwrite ?? false });
  } catch (error) {
    if (isErrno(error, "EEXIST") && !options.overwrite) {
      throw new KeystoreError("FILE_EXISTS", `refusing to overwrite existing file ${file}`, { cause: error });
    }
    throw new KeystoreError("IO_ERROR", `cannot write keystore ${file}: ${errnoSummary(error)}`, { cause: error });
  }
}

/**
 * Parses untrusted keystore JSON: the EIP-2335 schema, plus what the schema leaves open
 * (a present 48-byte pubkey, dklen 32, bounded KDF cost). Throws KeystoreError INVALID_KEYSTORE.
 */
export function parseKeystore(json: string, source = "keystore"): Eip2335Keystore {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new KeystoreError("INVALID_KEYSTORE", `${source} is not valid JSON`, { cause: error });
  }
  const errors = schemaValidationErrors(value);
  if (errors) {
    const first = errors[0];
    const where = first ? `${first.instancePath || "/"} ${first.message}` : "schema mismatch";
    throw new KeystoreError("INVALID_KEYSTORE", `${source} is not an EIP-2335 keystore (${where})`);
  }
  const keystore = value as Eip2335Keystore;
  const invalid = (reason: string) => new KeystoreError("INVALID_KEYSTORE", `${source}: ${reason}`);
  if (typeof keystore.pubkey !== "string" || keystore.pubkey.length !== PUBKEY_HEX_LENGTH) {
    throw invalid("pubkey must be the 48-byte compressed BLS public key in hex");
  }
  const kdf = keystore.crypto.kdf;
  if (kdf.params.dklen !== DKLEN) throw invalid(`kdf dklen must be ${DKLEN}`);
  if (kdf.function === "scrypt") {
    const { n, r, p } = kdf.params;
    if (r < 1 || 128 * n * r > MAX_SCRYPT_MEMORY) throw invalid(`scrypt n and r ask for more than ${MAX_SCRYPT_MEMORY / 2 ** 20} MiB`);
    if (n < 2 || (n & (n - 1)) !== 0) throw invalid("scrypt n must be a power of two");
    if (p < 1 || p > MAX_SCRYPT_P) throw invalid(`scrypt p must be in 1..${MAX_SCRYPT_P}`);
  } else if (kdf.params.c < 1 || kdf.params.c > MAX_PBKDF2_ITERATIONS) {
    throw invalid(`pbkdf2 iteration count must be in 1..${MAX_PBKDF2_ITERATIONS}`);
  }
  return keystore;
}

/**
 * Decrypts a keystore object and checks that the key it holds is the one its `pubkey` names.
 * Throws KeystoreError WRONG_PASSWORD or INVALID_KEYSTORE.
 */
export async function decryptKeystore(
  keystore: Eip2335Keystore,
  password: string,
  source = "keystore",
): Promise<SecretKey> {
  let secret: Uint8Array;
  try {
    secret = await decrypt(keystore, password);
  } catch (error) {
    // EIP-2335's checksum covers the derived key and the ciphertext, so an altered ciphertext
    // and a wrong password fail the same check; say both.
    throw new KeystoreError(
      "WRONG_PASSWORD",
      `wrong password for ${source} (or its ciphertext was altered)`,
      { cause: error },
    );
  }
  try {
    if (secret.length !== SECRET_KEY_LENGTH) {
      throw new KeystoreError("INVALID_KEYSTORE", `${source} holds ${secret.length} bytes, not a ${SECRET_KEY_LENGTH}-byte BLS secret key`);
    }
    let secretKey: SecretKey;
    try {
      secretKey = SecretKey.fromBytes(secret);
    } catch (error) {
      throw new KeystoreError("INVALID_KEYSTORE", `${source} does not hold a valid BLS secret key`, { cause: error });
    }
    const actual = Buffer.from(secretKey.toPublicKey().toBytes(true)).toString("hex");
    if (actual !== keystore.pubkey.toLowerCase()) {
      throw new KeystoreError("INVALID_KEYSTORE", `${source}: its pubkey field does not match the key it decrypts to`);
    }
    return secretKey;
  } finally {
    secret.fill(0);
  }
}

/**
 * Reads, validates and decrypts a keystore file into a blst SecretKey.
 * Throws KeystoreError IO_ERROR, INVALID_KEYSTORE or WRONG_PASSWORD.
 *
 * @example
 * const sk = await loadSecretKey(config.validator.keystore, resolvePassword(config.validator));
 */
export async function loadSecretKey(file: string, password: string): Promise<SecretKey> {
  let json: string;
  try {
    json = readFileSync(file, "utf8");
  } catch (error) {
    throw new KeystoreError("IO_ERROR", `cannot read keystore ${file}: ${errnoSummary(error)}`, { cause: error });
  }
  const source = `keystore ${file}`;
  return decryptKeystore(parseKeystore(json, source), password, source);
}

export interface PasswordSource {
  /** A file holding the password; one trailing newline is ignored. */
  passwordFile?: string;
  /** An environment variable holding the password; default SENTINEL_KEYSTORE_PASSWORD. */
  passwordEnv?: string;
}

/**
 * The keystore password from a file or an environment variable (by default
 * SENTINEL_KEYSTORE_PASSWORD). Throws KeystoreError PASSWORD_MISSING or IO_ERROR, with a
 * message saying what to set.
 */
export function resolvePassword(source: PasswordSource, env: NodeJS.ProcessEnv = process.env): string {
  const { passwordFile, passwordEnv } = source;
  if (passwordFile !== undefined && passwordEnv !== undefined) {
    throw new KeystoreError("PASSWORD_MISSING", "set either a password file or a password environment variable, not both");
  }
  if (passwordFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(passwordFile, "utf8");
    } catch (error) {
      throw new KeystoreError("IO_ERROR", `cannot read password file ${passwordFile}: ${errnoSummary(error)}`, { cause: error });
    }
    const password = text.replace(/\r?\n$/, "");
    if (password === "") throw new KeystoreError("PASSWORD_MISSING", `password file ${passwordFile} is empty`);
    return password;
  }
  const name = passwordEnv ?? DEFAULT_PASSWORD_ENV;
  const password = env[name];
  if (password === undefined || password === "") {
    const hint =
      passwordEnv === undefined
        ? `set ${DEFAULT_PASSWORD_ENV}, or give a password file (--password-file, or validator.passwordFile in the config)`
        : `set ${name}, or give a password file instead`;
    throw new KeystoreError("PASSWORD_MISSING", `no keystore password: environment variable ${name} is ${password === undefined ? "not set" : "empty"}; ${hint}`);
  }
  return password;
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** "ENOENT" style code and reason, without the path Node repeats in its messages. */
function errnoSummary(error: unknown): string {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "ENOSPC":
      return "no space left on device";
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}
