// Off-chain check of a gossiped attestation against the current set, the same rules the
// registry applies, so a node relays only what the chain will accept.
import { fastAggregateVerify } from "@chainsafe/blst";
import { hexToBytes, type Hex } from "viem";
import { decodeAttestation, type Attestation } from "../codec/attestation.ts";
import { verdictDigest } from "../codec/types.ts";
import type { ValidatorSetView } from "../consensus/validatorSet.ts";
import { signerIndices } from "../consensus/validatorSet.ts";
import { signatureFromEip2537 } from "../crypto/bls.ts";

export type AttestationCheck =
  | { ok: true; attestation: Attestation; digest: Hex }
  | { ok: false; action: "reject" | "ignore"; reason: string };

export function checkAttestation(bytes: Uint8Array, networkId: Hex, set: ValidatorSetView): AttestationCheck {
  let attestation: Attestation;
  try {
    attestation = decodeAttestation(bytes);
  } catch (error) {
    return { ok: false, action: "reject", reason: (error as Error).message };
  }
  if (attestation.networkId !== networkId) return { ok: false, action: "reject", reason: "another network" };
  // [IGNORE] another set: a rotation in flight.
  if (attestation.setIndex !== set.index) return { ok: false, action: "ignore", reason: `set ${attestation.setIndex}` };
  const signers = signerIndices(attestation.signers);
  if (signers.some((i) => i >= set.keys.length)) return { ok: false, action: "reject", reason: "signer beyond set size" };
  if (signers.length < set.threshold) return { ok: false, action: "reject", reason: "below threshold" };
  const digest = verdictDigest(networkId, attestation.verdict);
  try {
    const signature = signatureFromEip2537(attestation.signature);
    const keys = signers.map((i) => set.keys[i]!);
    if (!fastAggregateVerify(hexToBytes(digest), keys, signature)) return { ok: false, action: "reject", reason: "bad signature" };
  } catch {
    return { ok: false, action: "reject", reason: "signature is not a G2 point" };
  }
  return { ok: true, attestation, digest };
}
