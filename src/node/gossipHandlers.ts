// Each gossip topic's handler: the message is validated by the part that owns its kind
// (admission, consensus/validation/verdict.ts, consensus/validation/attestation.ts,
// candidates/humanGate.ts with consensus/validation/approval.ts). A refusal
// is thrown as an error carrying its gossip action; network/gossip.ts turns it into the result.
import type { Hex } from "viem";
import type { AttestationStore } from "../attestations/attestationStore.ts";
import type { HumanGate } from "../candidates/humanGate.ts";
import type { Intake } from "../candidates/intake.ts";
import type { VerdictAggregator } from "../consensus/aggregator.ts";
import { validateGossipAttestation } from "../consensus/validation/attestation.ts";
import type { ValidatorSetView } from "../consensus/validatorSet.ts";
import type { GossipHandlers } from "../network/index.ts";

export function gossipHandlers(
  options: { networkId: Hex; set: ValidatorSetView },
  modules: { intake: Intake; aggregator: VerdictAggregator; attestations: AttestationStore; humanGate: Pick<HumanGate, "fromGossip"> },
): GossipHandlers {
  return {
    candidate: (data, from) => modules.intake.fromGossip(data, from.toString()),
    verdict: (data) => modules.aggregator.ingestGossip(data),
    attestation: async (data) => {
      const { attestation, digest } = await validateGossipAttestation(data, options, { isKnown: (id) => modules.attestations.has(id) });
      await modules.attestations.accept(attestation, digest, "gossip");
      return "accept";
    },
    approval: (data) => modules.humanGate.fromGossip(data),
  };
}
