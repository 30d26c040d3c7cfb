// Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, integers only. Content-
// addressed documents (source bundles, policies) are hashed in this form, so the same document
// has the same hash on every node however it was formatted when it arrived.
import { keccak256, stringToHex, type Hex } from "viem";
import { SentinelError } from "../errors.ts";

export type CanonicalJsonErrorCode =
  /** A number that is not a safe integer: floats serialise differently across languages. */
  | "UNSAFE_INTEGER"
  /** A value JSON has no form for (bigint, function, symbol). */
  | "UNREPRESENTABLE";

export class CanonicalJsonError extends SentinelError<CanonicalJsonErrorCode, { path: string }> {
  override name = "CanonicalJsonError";
}

export function canonicalJson(value: unknown, path = "$"): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    // Floats serialise differently across languages; documents that are hashed hold none.
    if (!Number.isSafeInteger(value)) throw new CanonicalJsonError("UNSAFE_INTEGER", `${path}: ${value} is not a safe integer`, { path });
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((item, i) => canonicalJson(item, `${path}[${i}]`)).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, `${path}.${k}`)}`).join(",")}}`;
  }
  throw new CanonicalJsonError("UNREPRESENTABLE", `${path}: ${typeof value} cannot be represented in JSON`, { path });
}

/** keccak256 of a document's canonical JSON: its content address. */
export function contentHash(value: unknown): Hex {
  return keccak256(stringToHex(canonicalJson(value)));
}
