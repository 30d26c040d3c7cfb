// What must hold after everything the campaign did, read from the chains and the nodes' APIs:
// every candidate recorded exactly once on every chain (none lost, none twice), no validator
// ever signed two different digests for one candidate, and each outcome the right one.
import type { Hex } from "viem";
import { Outcome } from "../../src/codec/types.ts";
import { getJson, verdictRecords, type Campaign } from "./campaign.ts";

export interface InvariantResult {
  candidates: number;
  /** (candidate, chain) pairs with no VerdictRecorded. */
  attestationsLost: number;
  /** VerdictRecorded events beyond the first for one candidate on one chain. */
  doubleSubmissions: number;
  /** (validator, candidate) pairs with two digests: a signing record against the attestation, two verdicts seen, or an equivocation proof. */
  conflictingSignatures: number;
  /** A benign candidate refused or a malicious one approved. */
  wrongDecisions: number;
  /** Malicious candidates refused on every chain. */
  maliciousRefused: number;
  problems: string[];
}

interface Status {
  signedDigest: Hex | null;
  verdictsSeen: { digest: Hex; signers: number[] }[];
}

export async function checkInvariants(campaign: Campaign): Promise<InvariantResult> {
  const { devnet, submitted } = campaign;
  const result: InvariantResult = { candidates: submitted.length, attestationsLost: 0, doubleSubmissions: 0, conflictingSignatures: 0, wrongDecisions: 0, maliciousRefused: 0, problems: [] };
  const records = await Promise.all(devnet.chains.map((chain) => verdictRecords(chain)));
  const digests = new Map<Hex, Set<Hex>>();
  for (const entry of submitted) {
    for (const [i, chain] of devnet.chains.entries()) {
      const mine = records[i]!.filter((record) => record.candidateId === entry.id);
      if (mine.length === 0) {
        result.attestationsLost++;
        result.problems.push(`${entry.phase} candidate ${entry.id} not recorded on chain ${chain.chainId}`);
      }
      if (mine.length > 1) {
        result.doubleSubmissions += mine.length - 1;
        result.problems.push(`${entry.phase} candidate ${entry.id} recorded ${mine.length} times on chain ${chain.chainId}`);
      }
      for (const record of mine) (digests.get(entry.id) ?? digests.set(entry.id, new Set()).get(entry.id)!).add(record.digest);
    }
    const recorded = digests.get(entry.id);
    if (recorded !== undefined && recorded.size > 1) result.problems.push(`candidate ${entry.id}: the chains recorded different digests`);
  }

  const conflicts = new Set<string>();
  for (const node of devnet.nodes) {
    if (!node.running) continue;
    for (const entry of submitted) {
      const status = await getJson<Status & { attestation: { digest: Hex; outcome: number } | null }>(`${node.apiUrl}/v1/candidates/${entry.id}`);
      if (status === undefined) continue;
      const recorded = digests.get(entry.id);
      if (status.signedDigest && recorded !== undefined && !recorded.has(status.signedDigest)) conflicts.add(`${node.index}:${entry.id}`);
      const seenBy = new Map<number, Hex>();
      for (const group of status.verdictsSeen ?? []) {
        for (const signer of group.signers) {
          if (seenBy.has(signer) && seenBy.get(signer) !== group.digest) conflicts.add(`${signer}:${entry.id}`);
          seenBy.set(signer, group.digest);
        }
      }
      if (node.index === 0 && status.attestation) {
        const right = entry.malicious ? Outcome.Reject : Outcome.Approve;
        if (status.attestation.outcome !== right) {
          result.wrongDecisions++;
          result.problems.push(`${entry.phase} candidate ${entry.id} (${entry.malicious ? "malicious" : "benign"}) decided ${status.attestation.outcome}`);
        } else if (entry.malicious) result.maliciousRefused++;
      }
    }
    const evidence = await getJson<{ evidence: { validatorIndex: number; candidateId?: Hex; first?: { candidateId?: Hex } }[] }>(`${node.apiUrl}/v1/evidence`);
    for (const proof of evidence?.evidence ?? []) conflicts.add(`${proof.validatorIndex}:${proof.candidateId ?? proof.first?.candidateId ?? "?"}`);
  }
  result.conflictingSignatures = conflicts.size;
  for (const conflict of conflicts) result.problems.push(`conflicting signatures: validator:candidate ${conflict}`);
  return result;
}
