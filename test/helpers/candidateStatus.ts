// A node's view of one candidate, as the e2e tests read it from GET /v1/candidates/:id.
import type { Hex } from "viem";
import type { Devnet } from "../../src/devnet/devnet.ts";

export interface CandidateStatus {
  signedDigest: Hex | null;
  abstention: { findings: { check: string; code: string; message?: string }[] } | null;
  attestation: { digest: Hex; outcome: number; signers: number[] } | null;
}

/** Node `node`'s status of candidate `id`; undefined while it does not know it. */
export async function candidateStatus(devnet: Devnet, node: number, id: Hex): Promise<CandidateStatus | undefined> {
  const response = await fetch(`${devnet.nodes[node]!.apiUrl}/v1/candidates/${id}`);
  return response.ok ? ((await response.json()) as CandidateStatus) : undefined;
}
