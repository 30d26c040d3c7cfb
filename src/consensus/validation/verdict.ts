// Gossip validation of a verdict message: one validator's BLS signature over one verdict. Every
// field is untrusted until the signature verifies against the key the named set holds at the
// named index; the peer that forwarded it is never the signer. The digest is recomputed from
// the fields under this node's network id, so a verdict signed for another network fails the
// signature check (there is no network id on the wire to compare).
//
// Rules, cheapest first, signature last; each refusal is a VerdictError with its gossip action.
import { Signature, type PublicKey } from "@chainsafe/blst";
import { hexToBytes, type Hex } from "viem";
import { verdictDigest, type Verdict } from "../../codec/types.ts";
import { decodeVerdictMessage, VerdictMessageError, type VerdictMessage } from "../../codec/verdictMessage.ts";
import { GossipActionError, type GossipAction } from "../../network/errors.ts";
import type { ValidatorSetView } from "../validatorSet.ts";
import type { BatchVerifier } from "../batchVerifier.ts";

export type VerdictErrorCode =
  /** More bytes than any verdict message (MAX_VERDICT_MESSAGE_BYTES). */
  | "TOO_LARGE"
  /** Not UTF-8 JSON, or a field missing or out of range. */
  | "MALFORMED"
  /** Signed in another validator set than this node's current one. */
  | "OTHER_SET"
  /** The set has no validator at that index. */
  | "UNKNOWN_VALIDATOR"
  /** This validator's signature over this verdict is already counted. */
  | "ALREADY_COUNTED"
  /** The signature bytes are not a compressed point on G2's curve. */
  | "INVALID_SIGNATURE_ENCODING"
  /** The signature does not verify against the validator's key (or is outside the subgroup). */
  | "BAD_SIGNATURE";

const ACTIONS: Record<VerdictErrorCode, GossipAction> = {
  TOO_LARGE: "reject",
  MALFORMED: "reject",
  // A rotation in flight, or a stale peer: honest senders can be a set behind or ahead.
  OTHER_SET: "ignore",
  UNKNOWN_VALIDATOR: "reject",
  // Gossip and the direct broadcast deliver the same signature more than once.
  ALREADY_COUNTED: "ignore",
  INVALID_SIGNATURE_ENCODING: "reject",
  BAD_SIGNATURE: "reject",
};

export interface VerdictErrorMeta {
  setIndex?: number;
  validatorIndex?: number;
  candidateId?: Hex;
  /** The codec's field, for MALFORMED. */
  field?: string;
}

export class VerdictError extends GossipActionError<VerdictErrorCode, VerdictErrorMeta> {
  override name = "VerdictError";
  constructor(code: VerdictErrorCode, message: string, meta: VerdictErrorMeta = {}, options?: ErrorOptions) {
    super(ACTIONS[code], code, message, meta, options);
  }
}

export interface VerdictValidationOptions {
  networkId: Hex;
  set: ValidatorSetView;
}

/** A validator's signature as counted: what it signed first for a candidate. */
export interface CountedSignature {
  digest: Hex;
  signature: Hex;
}

export interface VerdictValidationModules {
  /** Checks signatures, in batches when several are pending (its subgroup check included). */
  verifier: Pick<BatchVerifier, "verify">;
  /** What `validatorIndex` signed first for `candidateId`, if its signature is counted. */
  counted(candidateId: Hex, validatorIndex: number): CountedSignature | undefined;
  /** The verdict's digest under networkId; injected so that the aggregator can cache it. */
  digestOf?(verdict: Verdict): Hex;
}

export interface ValidatedVerdict {
  message: VerdictMessage;
  digest: Hex;
  /** The validator's key in the set. */
  publicKey: PublicKey;
  /** The parsed signature, checked: aggregating it needs no second subgroup check. */
  signature: Signature;
  /**
   * What the validator signed first for this candidate, read before the signature was checked,
   * when it is another verdict: then this one is evidence of equivocation, not a vote. Another
   * message of the validator may be counted while this one's signature is checked: the
   * aggregator reads it again when it counts.
   */
  previous: CountedSignature | undefined;
}

/** Parses untrusted bytes. [REJECT] oversized, not UTF-8 JSON, or a field out of range. */
export function decodeGossipVerdict(bytes: Uint8Array): VerdictMessage {
  try {
    return decodeVerdictMessage(bytes);
  } catch (error) {
    if (!(error instanceof VerdictMessageError)) throw error;
    const meta = error.meta.field === undefined ? {} : { field: error.meta.field };
    throw new VerdictError(error.code, error.message, meta, { cause: error });
  }
}

/** The rules after parsing; throws VerdictError. */
export async function validateVerdictMessage(
  message: VerdictMessage,
  options: VerdictValidationOptions,
  modules: VerdictValidationModules,
): Promise<ValidatedVerdict> {
  const { set } = options;
  const { validatorIndex, setIndex } = message;
  const { candidateId } = message.verdict;
  // [IGNORE] another set: a rotation in flight, or a stale peer.
  if (setIndex !== set.index) {
    throw new VerdictError("OTHER_SET", `verdict signed in set ${setIndex}, this node is in set ${set.index}`, { setIndex, validatorIndex, candidateId });
  }
  // [REJECT] no such validator in the set.
  const publicKey = set.keys[validatorIndex];
  if (!publicKey) {
    throw new VerdictError("UNKNOWN_VALIDATOR", `set ${set.index} has ${set.keys.length} validators, not index ${validatorIndex}`, {
      setIndex,
      validatorIndex,
      candidateId,
    });
  }
  const digest = modules.digestOf?.(message.verdict) ?? verdictDigest(options.networkId, message.verdict);
  const previous = modules.counted(candidateId, validatorIndex);
  // [IGNORE] already counted: the same validator's signature over the same verdict.
  if (previous?.digest === digest) {
    throw new VerdictError("ALREADY_COUNTED", `validator ${validatorIndex}'s verdict on ${candidateId} is already counted`, { validatorIndex, candidateId });
  }
  // [REJECT] the signature must be a point on G2's curve...
  let signature: Signature;
  try {
    signature = Signature.fromBytes(hexToBytes(message.signature));
  } catch (error) {
    throw new VerdictError("INVALID_SIGNATURE_ENCODING", "signature is not a compressed G2 point", { validatorIndex, candidateId }, { cause: error });
  }
  // [REJECT] ...and verify against the validator's key under this network's digest. The subgroup
  // check is the verifier's: it checks each signature once, as it combines it.
  if (!(await modules.verifier.verify({ message: hexToBytes(digest), publicKey, signature }))) {
    throw new VerdictError("BAD_SIGNATURE", `validator ${validatorIndex}'s signature does not verify`, { validatorIndex, candidateId });
  }
  return { message, digest, publicKey, signature, previous };
}

/**
 * The verdict gossip validator: parses `bytes`, then applies the rules. Resolves with the
 * checked verdict; throws VerdictError, whose action the network reports.
 *
 * @example
 * const valid = await validateGossipVerdict(data, { networkId, set }, { verifier, counted });
 */
export async function validateGossipVerdict(
  bytes: Uint8Array,
  options: VerdictValidationOptions,
  modules: VerdictValidationModules,
): Promise<ValidatedVerdict> {
  return validateVerdictMessage(decodeGossipVerdict(bytes), options, modules);
}
