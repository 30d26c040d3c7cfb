// Each gossip topic's handler: the message is validated by the part that owns its kind, and the
// result is the gossip action (accept, or reject / ignore as the rule that refused it says).
import type { Hex } from "viem";
import type { AttestationStore } from "../attestations/attestationStore.ts";
import type { Intake } from "../candidates/intake.ts";
import { attestationCandidateId } from "../codec/attestation.ts";
import { decodeVerdictMessage } from "../codec/verdictMessage.ts";
import type { VerdictAggregator } from "../consensus/aggregator.ts";
import type { ValidatorSetView } from "../consensus/validatorSet.ts";
import { checkAttestation } from "./attestationCheck.ts";

type Action = "accept" | "reject" | "ignore";

export function gossipHandlers(
  options: { networkId: Hex; set: ValidatorSetView },
  modules: { intake: Intake; aggregator: VerdictAggregator; attestations: AttestationStore },
): Record<"candidate" | "verdict" | "attestation", (data: Uint8Array, from: { toString(): string }) => Promise<Action>> {
  return {
    candidate: (data, from) => modules.intake.fromGossip(data, from.toString()),
    verdict: async (data) => {
      let message;
      try {
        message = decodeVerdictMessage(data);
      } catch {
        // [REJECT] not a verdict message.
        return "reject";
      }
      return modules.aggregator.ingest(message);
    },
    attestation: async (data) => {
      // [IGNORE] an attestation for a candidate this node already holds one for: no pairing needed.
      const candidateId = attestationCandidateId(data);
      if (candidateId && (await modules.attestations.has(candidateId))) return "ignore";
      const check = checkAttestation(data, options.networkId, options.set);
      if (!check.ok) return check.action;
      await modules.attestations.accept(check.attestation, check.digest, "gossip");
      return "accept";
    },
  };
}
