// Readers of values several sections of the config share: names, environment variable names,
// chain ids, contract addresses.
import { getAddress, isAddress, type Address } from "viem";
import { got, readString, type Reader, type Issues } from "./readers.ts";

export const EXAMPLE_ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function readName(value: unknown, path: string, issues: Issues): string | undefined {
  if (typeof value === "string" && NAME.test(value)) return value;
  return issues.add(path, `must be 1 to 64 letters, digits, ".", "_" or "-", e.g. "validator-1" (a name in logs and metrics)`);
}

export const readEnvName: Reader<string> = (value, path, issues) => {
  const text = readString(value, path, issues);
  if (text === undefined) return undefined;
  if (!ENV_NAME_PATTERN.test(text)) {
    return issues.add(path, `must be an environment variable name (letters, digits, _), e.g. "SENTINEL_KEYSTORE_PASSWORD", not the password itself`);
  }
  return text;
};

export const readChainId: Reader<number> = (value, path, issues) => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    return issues.add(path, `must be a positive integer (a JSON number, not a string), e.g. 1 or 31337; ${got(value)}`);
  }
  return value;
};

/** A contract address (EIP-55 checked when mixed-case, never zero), checksummed. */
export const readRegistry: Reader<Address> = (value, path, issues) => {
  const fix = `must be a 0x-prefixed 20-byte address, e.g. ${EXAMPLE_ADDRESS}`;
  const text = readString(value, path, issues, fix);
  if (text === undefined) return undefined;
  if (!isAddress(text, { strict: false })) return issues.add(path, `${fix}; ${got(value)}`);
  if (!isAddress(text, { strict: true })) {
    return issues.add(path, `has a mixed-case checksum that does not match (EIP-55), so it was probably mistyped; copy the address again, or write it all lower-case; ${got(value)}`);
  }
  if (/^0x0{40}$/.test(text)) return issues.add(path, `must not be the zero address; use the registry's deployed address, e.g. ${EXAMPLE_ADDRESS}`);
  return getAddress(text);
};
