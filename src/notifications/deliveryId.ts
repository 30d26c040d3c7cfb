// The id a webhook receiver deduplicates on. It is the same for every attempt of one delivery,
// and for what several nodes report about one thing: a candidate's admission and attestation
// (its id), a revocation alert (chain, target, approval, invariant, episode; or the proxy's new
// implementation or admin at a block), a revocation signed (its id and episode). What only one
// node does (its verdict, its relay, its abstention) is keyed by that node.
import { createHash } from "node:crypto";
import type { NodeEvent } from "../events/eventLog.ts";
import type { Json } from "../util/json.ts";

/** `evt_` and 32 hex digits; `nodeKey` tells apart the events only one node has (e.g. its BLS public key). */
export function deliveryIdOf(event: NodeEvent, nodeKey: string): string {
  return `evt_${createHash("sha256").update(JSON.stringify(dedupKeyOf(event, nodeKey))).digest("hex").slice(0, 32)}`;
}

export function dedupKeyOf(event: NodeEvent, nodeKey: string): string[] {
  const data = (event.data !== null && typeof event.data === "object" && !Array.isArray(event.data) ? event.data : {}) as Record<string, Json>;
  const field = (name: string) => String(data[name] ?? "").toLowerCase();
  switch (event.type) {
    case "candidate.admitted":
    case "attestation.formed":
      return [event.type, event.candidateId];
    case "revocation.alert":
      return field("kind") === "invariant"
        ? [event.type, field("chainId"), field("target"), event.candidateId, String(data["invariant"] ?? ""), field("episode")]
        : [event.type, field("chainId"), field("target"), field("kind"), field("block"), field("implementation"), field("admin")];
    case "revocation.signed":
      return [event.type, event.candidateId, field("episode")];
    default:
      return [event.type, nodeKey, String(event.id)];
  }
}
