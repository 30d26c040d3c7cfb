// What a node owes its stored candidates: after a restart, every candidate without an
// attestation that has not expired is verified again (the signing record keeps the verdict the
// same, or none; the attestation follower finds those the chains recorded meanwhile). The same
// walk feeds the scheduler's refill after its queue overflowed.
import type { AdmittedCandidate } from "../admission/admission.ts";
import type { AttestationStore } from "../attestations/attestationStore.ts";
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
    yield { admitted, digest };
  }
}

/** Candidates stored and not verified yet: the scheduler's backlog. */
export async function* ownedCandidates(sources: Sources): AsyncIterable<AdmittedCandidate> {
  for await (const { admitted, digest } of unattested(sources)) if (digest === undefined) yield admitted;
}

export async function resumeCandidates(sources: Sources & { scheduler: VerificationScheduler | undefined }): Promise<void> {
  for await (const { admitted } of unattested(sources)) sources.scheduler?.enqueue(admitted);
}
