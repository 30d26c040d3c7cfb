// The attestation check as node.ts calls it today: the validator of
// consensus/validation/attestation.ts, its refusal as a value. Kept only until node.ts calls
// validateGossipAttestation itself (its rewrite); delete it then.
import type { Hex } from "viem";
import type { Attestation } from "../codec/attestation.ts";
import type { ValidatorSetView } from "../consensus/aggregator.ts";
import { AttestationError, validateAttestation } from "../consensus/validation/attestation.ts";
import type { GossipAction } from "../network/errors.ts";

export type AttestationCheck =
  | { ok: true; attestation: Attestation; digest: Hex }
  | { ok: false; action: GossipAction; reason: string };

/** @deprecated use validateGossipAttestation (consensus/validation/attestation.ts). */
export function checkAttestation(bytes: Uint8Array, networkId: Hex, set: ValidatorSetView): AttestationCheck {
  try {
    return { ok: true, ...validateAttestation(bytes, { networkId, set }) };
  } catch (error) {
    if (error instanceof AttestationError) return { ok: false, action: error.action, reason: error.message };
    throw error;
  }
}
