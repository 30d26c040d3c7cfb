// The compile cache's key: sha256(version + "\n" + canonical JSON of the input). solc is
// deterministic, so equal keys mean equal outputs, errors included.
import { createHash } from "node:crypto";
import type { Hex } from "viem";
import type { SolcInput } from "../../codec/bundle.ts";
import { canonicalJson } from "../../codec/canonicalJson.ts";

/**
 * sha256(version + "\n" + canonical JSON of the input): the compile cache's key. A local name,
 * never signed or compared between nodes, so the hash is node's native sha256: viem's keccak256
 * (JavaScript) takes ~10 ms for an OpenZeppelin-sized input, which would be most of a cache hit.
 */
export function compileCacheKey(version: string, input: SolcInput): Hex {
  return keyOf(version, canonicalJson(input));
}

/** The same key of an input already in canonical JSON (compile() sends that text to solc too). */
export function keyOf(version: string, canonicalInput: string): Hex {
  return `0x${createHash("sha256").update(version).update("\n").update(canonicalInput).digest("hex")}`;
}
