// Validation of a human approval (from the API or from gossip) against what this node holds: the
// candidate's policy gate and this node's own findings digest for it. Every node decides for
// itself; an approval counts only if it approves exactly the report this node produced.
//
// Rules, cheapest first, the chain call last; each refusal an ApprovalError with its gossip
// action. The network id is not a field: it is the EIP-712 domain's salt, so an approval signed
// for another network fails the signature rule.
import { hexToBigInt, isAddressEqual, type Address, type Hex } from "viem";
import type { SignedHumanApproval } from "../../codec/humanApproval.ts";
import type { HumanGate } from "../../codec/policy.ts";
import { humanApprovalDigest } from "../../codec/types.ts";
import { recoverSigner, SignatureError } from "../../crypto/ecdsa.ts";
import { GossipActionError, type GossipAction } from "../../network/errors.ts";

export type ApprovalErrorCode =
  /** Not an approval document (gossip bytes that do not parse, a field out of form). */
  | "MALFORMED"
  /** This node holds no such candidate (yet). */
  | "UNKNOWN_CANDIDATE"
  /** This node has no automated report of the candidate yet: nothing to compare with. */
  | "NOT_VERIFIED"
  /** The automated checks rejected the candidate: no approval can change that. */
  | "NOT_AWAITING"
  /** This node already signed the candidate's verdict. */
  | "DECIDED"
  /** The approver is not one of the policy's approvers. */
  | "NOT_APPROVER"
  /** The approval is of another report than this node's (findings digest). */
  | "OTHER_FINDINGS"
  /** Past its own expiresAt. */
  | "EXPIRED"
  /** A 65-byte signature with s in the upper half of the curve order: a malleated twin. */
  | "MALLEABLE_SIGNATURE"
  /** Neither the approver's ECDSA signature nor accepted by its ERC-1271 isValidSignature. */
  | "BAD_SIGNATURE"
  /** The approver's isValidSignature could not be called (this node's RPC). */
  | "UNVERIFIABLE";

const ACTIONS: Record<ApprovalErrorCode, GossipAction> = {
  MALFORMED: "reject",
  // Local state: the candidate, or this node's report of it, may arrive later.
  UNKNOWN_CANDIDATE: "ignore",
  NOT_VERIFIED: "ignore",
  NOT_AWAITING: "ignore",
  DECIDED: "ignore",
  NOT_APPROVER: "reject",
  // An honest approver signed an honest node's report; nodes that found otherwise just don't count it.
  OTHER_FINDINGS: "ignore",
  // Clock skew between nodes.
  EXPIRED: "ignore",
  MALLEABLE_SIGNATURE: "reject",
  BAD_SIGNATURE: "reject",
  UNVERIFIABLE: "ignore",
};

export class ApprovalError extends GossipActionError<ApprovalErrorCode, { candidateId?: Hex; approver?: Address }> {
  override name = "ApprovalError";
  constructor(code: ApprovalErrorCode, message: string, meta: { candidateId?: Hex; approver?: Address } = {}, options?: ErrorOptions) {
    super(ACTIONS[code], code, message, meta, options);
  }
}

/** Half the secp256k1 group order: a canonical (EIP-2) signature's s is at most this. */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

export interface ApprovalContext {
  networkId: Hex;
  gate: HumanGate;
  /** This node's own automated findings digest of the candidate. */
  findingsDigest: Hex;
  nowSeconds: bigint;
}

export interface ApprovalModules {
  /** ERC-1271 on the candidate's chain at its confirmed head; throws when it could not ask. */
  isValidSignature(wallet: Address, hash: Hex, signature: Hex): Promise<boolean>;
}

/**
 * Resolves when `approval` counts toward the gate; throws ApprovalError otherwise. The caller
 * has matched approval.candidateId to the candidate whose gate and digest it passes.
 */
export async function verifyApproval(approval: SignedHumanApproval, context: ApprovalContext, modules: ApprovalModules): Promise<void> {
  const meta = { candidateId: approval.candidateId, approver: approval.approver };
  // [REJECT] not one of the approvers the enrolled policy names.
  if (!context.gate.approvers.some((approver) => isAddressEqual(approver, approval.approver))) {
    throw new ApprovalError("NOT_APPROVER", `${approval.approver} is not one of the policy's ${context.gate.approvers.length} approvers`, meta);
  }
  // [IGNORE] of another report than this node's.
  if (approval.findingsDigest.toLowerCase() !== context.findingsDigest.toLowerCase()) {
    throw new ApprovalError("OTHER_FINDINGS", `approves findings ${approval.findingsDigest}, this node's report is ${context.findingsDigest}`, meta);
  }
  // [IGNORE] past its own expiry.
  if (approval.expiresAt <= context.nowSeconds) {
    throw new ApprovalError("EXPIRED", `expired at ${approval.expiresAt}, it is ${context.nowSeconds}`, meta);
  }
  const digest = humanApprovalDigest(context.networkId, approval);
  if (approval.signature.length === 132) {
    // [REJECT] high s: the same signer's approval in a second form (EIP-2).
    if (hexToBigInt(`0x${approval.signature.slice(66, 130)}`) > HALF_ORDER) {
      throw new ApprovalError("MALLEABLE_SIGNATURE", "the signature's s is in the upper half of the curve order", meta);
    }
    let signer: Address | undefined;
    try {
      signer = recoverSigner(digest, approval.signature);
    } catch (error) {
      if (!(error instanceof SignatureError)) throw error;
    }
    if (signer !== undefined && isAddressEqual(signer, approval.approver)) return;
  }
  // Not the approver's own ECDSA signature: perhaps a contract wallet's (an EOA has no code, so
  // its call answers nothing and the signature is refused).
  let valid: boolean;
  try {
    valid = await modules.isValidSignature(approval.approver, digest, approval.signature);
  } catch (error) {
    throw new ApprovalError("UNVERIFIABLE", `could not ask ${approval.approver}'s isValidSignature: ${(error as Error).message}`, meta, { cause: error });
  }
  // [REJECT] neither the approver's signature nor accepted by it.
  if (!valid) throw new ApprovalError("BAD_SIGNATURE", `the signature is not ${approval.approver}'s approval of this report on this network`, meta);
}
