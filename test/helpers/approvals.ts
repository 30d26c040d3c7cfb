// Human approvals for tests: a candidate put under a 2-of-3 gate on an API test node, and
// approvals signed by its approvers.
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { signedApprovalToJson, type SignedHumanApprovalJson } from "../../src/codec/humanApproval.ts";
import type { HumanGate } from "../../src/codec/policy.ts";
import { Outcome, sentinelDomain, SENTINEL_TYPES, type HumanApproval, type Verdict } from "../../src/codec/types.ts";
import { NETWORK_ID, type ApiNode } from "./apiNode.ts";

export const APPROVAL_FINDINGS = keccak256(stringToHex("automated findings"));

export interface GatedCandidate {
  id: Hex;
  approvers: PrivateKeyAccount[];
  /** The approvers' private keys, in the same order. */
  keys: Hex[];
  gate: HumanGate;
  verdict: Verdict;
}

/**
 * Puts the stored candidate `id` under a 2-of-3 gate, as a verification that approved would;
 * `otherApprover` (a Safe, say) replaces the third EOA.
 */
export async function gateCandidate(node: ApiNode, id: Hex, otherApprover?: Address): Promise<GatedCandidate> {
  const keys = [0, 1, 2].map(() => generatePrivateKey());
  const approvers = keys.map((key) => privateKeyToAccount(key));
  const gate: HumanGate = { threshold: 2, approvers: [approvers[0]!.address, approvers[1]!.address, otherApprover ?? approvers[2]!.address] };
  for await (const { admitted } of node.store.entries()) {
    if (admitted.id !== id) continue;
    const { candidate } = admitted.signed;
    const verdict: Verdict = {
      candidateId: id,
      chainId: candidate.chainId,
      target: candidate.target,
      codehash: keccak256("0x00"),
      outcome: Outcome.Approve,
      policyHash: candidate.policyHash,
      reasons: 0n,
      findingsDigest: APPROVAL_FINDINGS,
      issuedAt: candidate.createdAt,
      expiresAt: candidate.expiresAt,
    };
    await node.humanGate.wait(admitted, verdict, gate);
    return { id, approvers, keys, gate, verdict };
  }
  throw new Error(`candidate ${id} is not stored`);
}

export async function signApproval(account: PrivateKeyAccount, candidateId: Hex, fields: Partial<HumanApproval> = {}, networkId: Hex = NETWORK_ID): Promise<SignedHumanApprovalJson> {
  const message: HumanApproval = { candidateId, findingsDigest: APPROVAL_FINDINGS, expiresAt: BigInt(Math.floor(Date.now() / 1000) + 3600), ...fields };
  const signature = await account.signTypedData({ domain: sentinelDomain(networkId), types: SENTINEL_TYPES, primaryType: "HumanApproval", message });
  return signedApprovalToJson({ ...message, approver: account.address, signature });
}
