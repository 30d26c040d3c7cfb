// The JSON value type and the one bigint rule: the API sends and the database stores block
// numbers, gas and chain ids as decimal strings, because JSON numbers lose precision past 2^53.
// Kept apart from codec/ (whose canonical form is for hashing) so that db/ and api/ depend on
// nothing but this file for it.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON.stringify replacer: bigints as decimal strings. */
export const bigintAsString = (_key: string, value: unknown): unknown => (typeof value === "bigint" ? value.toString() : value);

/** A value with bigints, as plain JSON. */
export function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value, bigintAsString)) as Json;
}
