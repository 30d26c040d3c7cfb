import { readFileSync } from "node:fs";
import type { Hex } from "viem";

const vectorsDir = new URL("../fixtures/vectors/", import.meta.url);

export interface Fp2Json {
  c0: string;
  c1: string;
}
export interface G2Json {
  x: Fp2Json;
  y: Fp2Json;
}
export interface HashToCurveVector {
  msg: string;
  P: G2Json;
  Q0: G2Json;
}

/** A vector file from test/fixtures/vectors (see its PROVENANCE.md: copied from the upstream files named there). */
export function readVectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, vectorsDir), "utf8")) as T;
}

export function hashToG2Vectors(): { dst: string; vectors: HashToCurveVector[] } {
  return readVectors("rfc9380_bls12381g2_xmd_sha256_sswu_ro.json");
}

/** An RFC vector point (48-byte hex per Fp) in the 256-byte EIP-2537 encoding. */
export function g2ToEip2537(point: G2Json): Hex {
  const pad = (fp: string) => "00".repeat(16) + fp;
  return `0x${pad(point.x.c0)}${pad(point.x.c1)}${pad(point.y.c0)}${pad(point.y.c1)}`;
}

/** On the curve E2 but outside G2: RFC 9380 J.10.1 Q0 is map_to_curve before cofactor clearing. */
export function nonSubgroupG2(): Hex {
  return g2ToEip2537(hashToG2Vectors().vectors[0]!.Q0);
}
