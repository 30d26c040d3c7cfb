// Solidity's CBOR metadata tail: where the executable ends, and what the tail says.
import { bytesToHex, type Hex } from "viem";
import { equalBytes, toBytes } from "./bytes.ts";

/** Keys solc has written into the metadata map, from 0.4.7 (bzzr0) to today (ipfs, solc). */
const METADATA_KEYS: ReadonlySet<string> = new Set(["ipfs", "bzzr0", "bzzr1", "solc", "experimental"]);

export interface SplitCode {
  /** Everything before the metadata: the instructions, and any data solc placed among them. */
  executable: Uint8Array;
  /** The CBOR metadata with its two-byte length suffix, so `executable + metadata` is the code. */
  metadata?: Uint8Array;
}

/**
 * Splits off Solidity's CBOR metadata tail: the last two bytes are the big-endian length of a
 * CBOR map just before them. The tail counts as metadata only if it decodes as exactly one such
 * map with text keys, simple values and at least one key solc writes: code that merely ends in
 * plausible length bytes is left whole.
 *
 * @example
 * splitMetadata(hexToBytes("0x00a164736f6c6343000825000a")) // { executable: 0x00, metadata: a164…000a }
 */
export function splitMetadata(code: Uint8Array | Hex): SplitCode {
  const bytes = toBytes(code);
  if (bytes.length < 2) return { executable: bytes };
  const length = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!;
  const start = bytes.length - 2 - length;
  if (start < 0 || decodeCborMap(bytes.subarray(start, bytes.length - 2)) === undefined) return { executable: bytes };
  return { executable: bytes.subarray(0, start), metadata: bytes.subarray(start) };
}

export interface SolidityMetadata {
  /** The IPFS multihash (0x1220 + sha2-256) of the metadata JSON. */
  ipfs?: Hex;
  /** Swarm hashes of the metadata JSON written by solc 0.4.x-0.5.x (bzzr0) and 0.5.x-0.6.x (bzzr1). */
  bzzr0?: Hex;
  bzzr1?: Hex;
  /** "0.8.37" for releases; prereleases carry the full version string. */
  solc?: string;
  /** Set when experimental features (e.g. SMTChecker pragmas) were on. */
  experimental?: boolean;
}

/** The fields of a metadata tail as `splitMetadata` returns it; undefined if it is not one. */
export function decodeMetadata(metadata: Uint8Array | Hex): SolidityMetadata | undefined {
  const bytes = toBytes(metadata);
  if (bytes.length < 2 || ((bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!) !== bytes.length - 2) return undefined;
  const map = decodeCborMap(bytes.subarray(0, bytes.length - 2));
  if (!map) return undefined;
  const decoded: SolidityMetadata = {};
  for (const key of ["ipfs", "bzzr0", "bzzr1"] as const) {
    const value = map.get(key);
    if (value instanceof Uint8Array) decoded[key] = bytesToHex(value);
  }
  const solc = map.get("solc");
  if (solc instanceof Uint8Array && solc.length === 3) decoded.solc = solc.join(".");
  else if (typeof solc === "string") decoded.solc = solc;
  const experimental = map.get("experimental");
  if (typeof experimental === "boolean") decoded.experimental = experimental;
  return decoded;
}

/** Whether two codes carry different metadata tails (one having none counts as different). */
export function metadataDiffers(a: Uint8Array | Hex, b: Uint8Array | Hex): boolean {
  return !equalBytes(splitMetadata(a).metadata ?? new Uint8Array(), splitMetadata(b).metadata ?? new Uint8Array());
}

type CborValue = Uint8Array | string | boolean | number;

/**
 * Just enough CBOR for solc's metadata: one definite-length map of 1..23 entries, text keys,
 * byte string / text / bool / small unsigned values, nothing left over. Anything else is not
 * metadata, so every unexpected byte returns undefined rather than throwing.
 */
function decodeCborMap(bytes: Uint8Array): Map<string, CborValue> | undefined {
  let pos = 0;
  const head = (): { major: number; argument: number } | undefined => {
    const initial = bytes[pos++];
    if (initial === undefined) return undefined;
    const info = initial & 0x1f;
    let argument: number;
    if (info < 24) argument = info;
    else if (info === 24 && pos + 1 <= bytes.length) argument = bytes[pos++]!;
    else if (info === 25 && pos + 2 <= bytes.length) argument = (bytes[pos++]! << 8) | bytes[pos++]!;
    else return undefined; // longer lengths cannot fit in a tail whose length is 16 bits anyway
    return { major: initial >> 5, argument };
  };
  const string = (length: number): Uint8Array | undefined => {
    if (pos + length > bytes.length) return undefined;
    const value = bytes.subarray(pos, pos + length);
    pos += length;
    return value;
  };
  const text = (length: number): string | undefined => {
    const raw = string(length);
    if (!raw) return undefined;
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      return undefined;
    }
  };

  const map = head();
  if (!map || map.major !== 5 || map.argument < 1 || map.argument > 23) return undefined;
  const entries = new Map<string, CborValue>();
  for (let i = 0; i < map.argument; i++) {
    const keyHead = head();
    if (!keyHead || keyHead.major !== 3) return undefined;
    const key = text(keyHead.argument);
    if (key === undefined || entries.has(key)) return undefined;
    const valueHead = head();
    if (!valueHead) return undefined;
    let value: CborValue | undefined;
    if (valueHead.major === 0) value = valueHead.argument;
    else if (valueHead.major === 2) value = string(valueHead.argument);
    else if (valueHead.major === 3) value = text(valueHead.argument);
    else if (valueHead.major === 7 && (valueHead.argument === 20 || valueHead.argument === 21)) value = valueHead.argument === 21;
    if (value === undefined) return undefined;
    entries.set(key, value);
  }
  if (pos !== bytes.length) return undefined;
  return [...entries.keys()].some((key) => METADATA_KEYS.has(key)) ? entries : undefined;
}
