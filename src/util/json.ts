// The JSON value type and the one bigint rule: the API sends and the database stores block
// numbers, gas and chain ids as decimal strings, because JSON numbers lose precision past 2^53.
// Kept apart from codec/ (whose canonical form is for hashing) so that db/ and api/ depend on
// nothing but this file for it.
import { SentinelError } from "../errors.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON.stringify replacer: bigints as decimal strings. */
export const bigintAsString = (_key: string, value: unknown): unknown => (typeof value === "bigint" ? value.toString() : value);

/** A value with bigints, as plain JSON. */
export function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value, bigintAsString)) as Json;
}

/**
 * How deep untrusted JSON may nest. Real documents stay far below (a bundle, a solc input with
 * its output selection, nests about 8); V8's JSON.parse spends ~15 ms on 100 KB of `[`, so depth,
 * unlike size, is checked before parsing.
 */
export const MAX_JSON_DEPTH = 64;

export type UntrustedJsonReason = "NOT_UTF8" | "EMPTY" | "TOO_DEEP" | "NOT_JSON";

/** Bytes from the network that are not the JSON they should be; `reason` says how. */
export class UntrustedJsonError extends SentinelError<"UNTRUSTED_JSON", { reason: UntrustedJsonReason }> {
  override name = "UntrustedJsonError";
  constructor(reason: UntrustedJsonReason, message: string) {
    super("UNTRUSTED_JSON", message, { reason });
  }
}

/** Parses bytes from the network: UTF-8, not empty, nested at most `maxDepth`, then JSON.parse. */
export function parseUntrustedJson(bytes: Uint8Array, maxDepth = MAX_JSON_DEPTH): unknown {
  if (!depthWithin(bytes, maxDepth)) throw new UntrustedJsonError("TOO_DEEP", `JSON nested deeper than ${maxDepth}`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UntrustedJsonError("NOT_UTF8", "not UTF-8");
  }
  if (text.trim() === "") throw new UntrustedJsonError("EMPTY", "empty");
  try {
    return JSON.parse(text);
  } catch {
    throw new UntrustedJsonError("NOT_JSON", "not valid JSON");
  }
}

/**
 * Whether brackets nest at most `max` deep, outside strings. Strings are skipped with indexOf
 * (native), so a 4 MiB bundle of source text costs ~2 ms. Malformed input may pass: JSON.parse
 * still judges it; this only bounds what JSON.parse is given.
 */
function depthWithin(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === 0x22) {
      let end = i;
      for (;;) {
        end = bytes.indexOf(0x22, end + 1);
        if (end === -1) return true;
        let k = end - 1;
        while (bytes[k] === 0x5c) k--;
        if ((end - 1 - k) % 2 === 0) break; // an even run of backslashes: the quote is not escaped
      }
      i = end;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return false;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return true;
}
