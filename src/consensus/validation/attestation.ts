// Gossip validation of an attestation: a set's aggregate signature over one verdict, in the
// wire format the registry reads. The same rules the registry applies, so that a node relays
// only what the chain will accept. Every field is untrusted until the aggregate verifies
// against the named signers' keys in this node's set.
//
// Rules, cheapest first, signature last; each refusal is an AttestationError with its gossip
// action.
import { fastAggregateVerify } from "@chainsafe/blst";
import { hexToBytes, type Hex } from "viem";
import {
  isAttestationLength,
  AttestationFormatError,
  attestationCandidateId,
  decodeAttestation,
  type Attestation,
} from "../../codec/attestation.ts";
import { verdictDigest } from "../../codec/types.ts";
import { signatureFromEip2537 } from "../../crypto/bls.ts";
import { GossipActionError, type GossipAction } from "../../network/errors.ts";
import type { ValidatorSetView } from "../validatorSet.ts";
import { signerIndices } from "../validatorSet.ts";

export type AttestationErrorCode =
  /** This node already holds an attestation for the candidate. */
  | "ALREADY_HELD"
  /** Not exactly one version's length (554 unbound, 586 bound): truncated or padded. */
  | "WRONG_LENGTH"
  /** The right length, but an unknown version or outcome. */
  | "MALFORMED"
  /** Attests for another Sentinel network. */
  | "WRONG_NETWORK"
  /** Signed by another validator set than this node's current one. */
  | "OTHER_SET"
  /** The signer bitmap names an index the set does not have. */
  | "UNKNOWN_SIGNER"
  /** Fewer signers than the set's threshold: the registry would refuse it. */
  | "BELOW_THRESHOLD"
  /** The aggregate is not an EIP-2537 encoding of a G2 point. */
  | "INVALID_SIGNATURE_ENCODING"
  /** The aggregate does not verify against the signers' keys. */
  | "BAD_SIGNATURE";

const ACTIONS: Record<AttestationErrorCode, GossipAction> = {
  // Nothing wrong with it: this node has no use for a second copy.
  ALREADY_HELD: "ignore",
  WRONG_LENGTH: "reject",
  MALFORMED: "reject",
  WRONG_NETWORK: "reject",
  // A rotation in flight: an honest peer can be a set behind or ahead.
  OTHER_SET: "ignore",
  UNKNOWN_SIGNER: "reject",
  BELOW_THRESHOLD: "reject",
  INVALID_SIGNATURE_ENCODING: "reject",
  BAD_SIGNATURE: "reject",
};

export interface AttestationErrorMeta {
  /** Read from the untrusted bytes: who it claims to attest, not who it does. */
  candidateId?: Hex;
  setIndex?: number;
}

export class AttestationError extends GossipActionError<AttestationErrorCode, AttestationErrorMeta> {
  override name = "AttestationError";
  constructor(code: AttestationErrorCode, message: string, meta: AttestationErrorMeta = {}, options?: ErrorOptions) {
    super(ACTIONS[code], code, message, meta, options);
  }
}

export interface AttestationValidationOptions {
  networkId: Hex;
  set: ValidatorSetView;
}

export interface AttestationValidationModules {
  /** Whether this node already holds an attestation for the candidate. */
  isKnown(candidateId: Hex): Promise<boolean>;
}

export interface ValidatedAttestation {
  attestation: Attestation;
  /** The verdict's digest under this node's network id, as verified. */
  digest: Hex;
}

/** The rules that need no store: parsing, domain, set, signers, signature. Throws AttestationError. */
export function validateAttestation(bytes: Uint8Array, options: AttestationValidationOptions): ValidatedAttestation {
  const { networkId, set } = options;
  // [REJECT] not exactly one attestation's length: truncated or padded.
  if (!isAttestationLength(bytes.length)) {
    throw new AttestationError("WRONG_LENGTH", `attestation is ${bytes.length} bytes, expected 554 or 586`);
  }
  // [REJECT] an unknown version or outcome.
  let attestation: Attestation;
  try {
    attestation = decodeAttestation(bytes);
  } catch (error) {
    // Whatever the decoder throws on these bytes is the bytes' fault, coded or not.
    const message = error instanceof AttestationFormatError ? error.message : `does not decode: ${String(error)}`;
    throw new AttestationError("MALFORMED", message, {}, { cause: error });
  }
  const meta = { candidateId: attestation.verdict.candidateId, setIndex: attestation.setIndex };
  // [REJECT] another network: its signers signed another network's digest.
  if (attestation.networkId !== networkId) {
    throw new AttestationError("WRONG_NETWORK", `attestation is for network ${attestation.networkId}`, meta);
  }
  // [IGNORE] another set: a rotation in flight.
  if (attestation.setIndex !== set.index) {
    throw new AttestationError("OTHER_SET", `attestation signed by set ${attestation.setIndex}, this node is in set ${set.index}`, meta);
  }
  // [REJECT] a signer the set does not have.
  const signers = signerIndices(attestation.signers);
  if (signers.some((i) => i >= set.keys.length)) {
    throw new AttestationError("UNKNOWN_SIGNER", `signer beyond the set's ${set.keys.length} validators`, meta);
  }
  // [REJECT] fewer signers than the threshold.
  if (signers.length < set.threshold) {
    throw new AttestationError("BELOW_THRESHOLD", `${signers.length} signers, the threshold is ${set.threshold}`, meta);
  }
  // [REJECT] the aggregate must be a G2 point and verify against the signers' keys.
  const digest = verdictDigest(networkId, attestation.verdict);
  let valid: boolean;
  try {
    const signature = signatureFromEip2537(attestation.signature);
    valid = fastAggregateVerify(hexToBytes(digest), signers.map((i) => set.keys[i]!), signature);
  } catch (error) {
    throw new AttestationError("INVALID_SIGNATURE_ENCODING", "signature is not a G2 point", meta, { cause: error });
  }
  if (!valid) throw new AttestationError("BAD_SIGNATURE", "the aggregate signature does not verify", meta);
  return { attestation, digest };
}

/**
 * The attestation gossip validator. Resolves with the checked attestation; throws
 * AttestationError, whose action the network reports.
 *
 * @example
 * const { attestation, digest } = await validateGossipAttestation(data, { networkId, set }, { isKnown });
 */
export async function validateGossipAttestation(
  bytes: Uint8Array,
  options: AttestationValidationOptions,
  modules: AttestationValidationModules,
): Promise<ValidatedAttestation> {
  // [IGNORE] a candidate this node already holds an attestation for: no pairing needed. Checked
  // before parsing, on the id at its fixed offset: a store read costs less than a pairing, and
  // a copy of a held attestation is the common case (every node relays it). A malformed message
  // carrying a held id is ignored, not rejected, as it always was.
  const candidateId = attestationCandidateId(bytes);
  if (candidateId !== undefined && (await modules.isKnown(candidateId))) {
    throw new AttestationError("ALREADY_HELD", `an attestation for ${candidateId} is already held`, { candidateId });
  }
  return validateAttestation(bytes, options);
}
