// What a node owes its stored candidates: after a restart, every candidate without an
// attestation that has not expired is verified again (the signing record keeps the verdict the
// same, or none), and those already signed are looked for on the chains. The same walk feeds the
// scheduler's refill after its queue overflowed.
import type { AdmittedCandidate } from "../admission/admission.ts";
import type { AttestationStore } from "../attestations/attestationStore.ts";
import type { ChainCatchUp } from "../attestations/catchUp.ts";
import type { Clock } from "../util/clock.ts";
import type { CandidateStore } from "./candidateStore.ts";
import type { VerificationScheduler } from "./scheduler.ts";

interface Sources {
  candidates: CandidateStore;
  attestations: Pick<AttestationStore, "has">;
  clock: Clock;
}

/** Stored candidates not expired and without an attestation, with their signed digest if any. */
async function* unattested({ candidates, attestations, clock }: Sources) {
  for await (const { admitted, record } of candidates.entries()) {
    if (Number(admitted.signed.candidate.expiresAt) * 1000 <= clock.now()) continue;
    if (await attestations.has(admitted.id)) continue;
    const digest = (record.verification as { digest?: `0x${string}` } | null)?.digest;
    yield { admitted, admittedAt: Date.parse(record.admittedAt), digest };
  }
}

/** Candidates stored and not verified yet: the scheduler's backlog. */
export async function* ownedCandidates(sources: Sources): AsyncIterable<AdmittedCandidate> {
  for await (const { admitted, digest } of unattested(sources)) if (digest === undefined) yield admitted;
}

export async function resumeCandidates(sources: Sources & { catchUp: ChainCatchUp; scheduler: VerificationScheduler | undefined }): Promise<void> {
  for await (const { admitted, admittedAt, digest } of unattested(sources)) {
    if (digest) sources.catchUp.watch(admitted.id, digest, admittedAt, Number(admitted.signed.candidate.expiresAt) * 1000);
    sources.scheduler?.enqueue(admitted);
  }
}
