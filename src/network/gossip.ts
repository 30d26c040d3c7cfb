// Gossip validation: turns the application's handlers into gossipsub results. Every message is
// untrusted until its handler says "accept"; gossipsub forwards it only then (asyncValidation),
// so a rejected message stops at the first honest node and its sender pays the P4 penalty.
//
// Rules, cheapest first:
//   [REJECT] the message is larger than maxMessageBytes (checked before any handler runs)
//   [REJECT] its sender has spent its budget of refused or useless messages (peerLedger.ts;
//            checked before any handler runs)
//   [IGNORE] more than maxPendingValidations messages are already being validated, or the
//            sender already has its share of them in flight
//   [IGNORE] the handler throws an error without a gossip action, returns something other
//            than a verdict, or takes longer than validationTimeoutMs (a local failure is no
//            evidence against the sender)
//   otherwise the handler's verdict, or the action of the GossipActionError it threw.
import { createHash } from "node:crypto";
import type { PeerId } from "@libp2p/interface";
import type { Logger } from "pino";
import { GossipActionError, type GossipAction } from "./errors.ts";
import type { PeerLedger } from "./peerLedger.ts";
import type { GossipKind } from "./topics.ts";

export type GossipVerdict = "accept" | GossipAction;

/**
 * One function per message kind. `data` is the raw, untrusted payload; `from` is the peer that
 * forwarded it to us (the propagation source), not its author: messages are unsigned at the
 * gossip layer and a peer id is never a signer identity. Resolve "accept", or refuse: return
 * the action, or throw a GossipActionError that carries it. "reject" only for messages that
 * are invalid for every node (bad encoding, bad signature); "ignore" for anything that depends
 * on local state (unknown candidate yet, clock skew, already seen).
 */
export interface GossipHandlers {
  candidate(data: Uint8Array, from: PeerId): Promise<GossipVerdict>;
  verdict(data: Uint8Array, from: PeerId): Promise<GossipVerdict>;
  attestation(data: Uint8Array, from: PeerId): Promise<GossipVerdict>;
  /** A human approval of a candidate's report (candidates/humanGate.ts). */
  approval(data: Uint8Array, from: PeerId): Promise<GossipVerdict>;
}

/** What validation did, since start; counts what is dropped. */
export interface GossipCounters {
  accepted: number;
  ignored: number;
  rejected: number;
  /** Rejected for size before any handler ran (also counted in rejected). */
  oversized: number;
  /** Handlers that threw or returned a non-verdict (counted in ignored). */
  handlerErrors: number;
  /** Handlers slower than validationTimeoutMs (counted in ignored). */
  timeouts: number;
  /** Messages ignored because maxPendingValidations were in flight (counted in ignored). */
  droppedOverload: number;
  /** Rejected unvalidated: the sender had spent its budget (counted in rejected). */
  refusedPeer: number;
  /** Ignored unvalidated: the sender had its share in flight (counted in ignored). */
  droppedPeerBusy: number;
}

export interface GossipValidatorOptions {
  maxMessageBytes: number;
  validationTimeoutMs: number;
  maxPendingValidations: number;
}

export interface GossipValidatorModules {
  handlers: GossipHandlers;
  logger: Logger;
  /** Per-peer budgets; without one, peers are not limited individually. */
  ledger?: PeerLedger;
  /** Hands the result to gossipsub (reportMessageValidationResult); called once per message. */
  report(msgId: string, propagationSource: PeerId, verdict: GossipVerdict, kind: GossipKind): void;
}

const VERDICTS: ReadonlySet<unknown> = new Set<GossipVerdict>(["accept", "ignore", "reject"]);

export class GossipValidator {
  private readonly options: GossipValidatorOptions;
  private readonly modules: GossipValidatorModules;
  private readonly counts: GossipCounters = {
    accepted: 0,
    ignored: 0,
    rejected: 0,
    oversized: 0,
    handlerErrors: 0,
    timeouts: 0,
    droppedOverload: 0,
    refusedPeer: 0,
    droppedPeerBusy: 0,
  };
  /** Results per kind, for the metrics' topic label. */
  private readonly byKind: Record<GossipKind, Record<GossipVerdict, number>> = {
    candidate: { accept: 0, ignore: 0, reject: 0 },
    verdict: { accept: 0, ignore: 0, reject: 0 },
    attestation: { accept: 0, ignore: 0, reject: 0 },
    approval: { accept: 0, ignore: 0, reject: 0 },
  };
  private pending = 0;

  constructor(options: GossipValidatorOptions, modules: GossipValidatorModules) {
    this.options = options;
    this.modules = modules;
  }

  counters(): Readonly<GossipCounters> {
    return { ...this.counts };
  }

  /** Validation results per gossip kind and action, since start. */
  countersByKind(): Record<GossipKind, Record<GossipVerdict, number>> {
    return { candidate: { ...this.byKind.candidate }, verdict: { ...this.byKind.verdict }, attestation: { ...this.byKind.attestation }, approval: { ...this.byKind.approval } };
  }

  /** Validations in flight (handlers that have not settled yet). */
  pendingValidations(): number {
    return this.pending;
  }

  /**
   * The synchronous pre-check gossipsub runs before caching a message: [REJECT] oversized.
   * Returns the verdict, or undefined when the message goes on to its handler.
   */
  precheck(kind: GossipKind, data: Uint8Array, from: PeerId): "reject" | undefined {
    if (this.oversized(kind, data, from)) {
      this.counts.rejected += 1;
      this.byKind[kind].reject += 1;
      return "reject";
    }
    if (this.modules.ledger?.refused(from.toString())) {
      this.counts.rejected += 1;
      this.counts.refusedPeer += 1;
      this.byKind[kind].reject += 1;
      return "reject";
    }
    return undefined;
  }

  /** Runs the handler for one message and reports the result exactly once. Never throws. */
  async validate(kind: GossipKind, msgId: string, data: Uint8Array, from: PeerId): Promise<void> {
    const verdict = await this.decide(kind, data, from);
    this.counts[verdict === "accept" ? "accepted" : verdict === "reject" ? "rejected" : "ignored"] += 1;
    this.byKind[kind][verdict] += 1;
    try {
      this.modules.report(msgId, from, verdict, kind);
    } catch (err) {
      this.modules.logger.debug({ err, kind, from: from.toString() }, "could not report gossip validation result");
    }
  }

  private async decide(kind: GossipKind, data: Uint8Array, from: PeerId): Promise<GossipVerdict> {
    // Defensive: gossipsub already rejected oversized messages through precheck.
    if (this.oversized(kind, data, from)) return "reject";
    if (this.pending >= this.options.maxPendingValidations) {
      this.counts.droppedOverload += 1;
      this.modules.logger.debug({ kind, from: from.toString(), pending: this.pending }, "gossip message ignored: too many in flight");
      return "ignore";
    }
    const peer = from.toString();
    const ledger = this.modules.ledger;
    if (ledger && !ledger.begin(peer)) {
      this.counts.droppedPeerBusy += 1;
      return "ignore";
    }
    this.pending += 1;
    const handled = this.callHandler(kind, data, from).then((verdict) => {
      this.pending -= 1;
      ledger?.end(peer, verdict);
      return verdict;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.options.validationTimeoutMs);
    });
    try {
      const outcome = await Promise.race([handled, timeout]);
      if (outcome === "timeout") {
        this.counts.timeouts += 1;
        this.modules.logger.debug({ kind, from: from.toString(), ms: this.options.validationTimeoutMs }, "gossip handler timed out: ignore");
        return "ignore";
      }
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  }

  private oversized(kind: GossipKind, data: Uint8Array, from: PeerId): boolean {
    if (data.byteLength <= this.options.maxMessageBytes) return false;
    this.counts.oversized += 1;
    this.modules.logger.debug(
      { kind, from: from.toString(), bytes: data.byteLength, max: this.options.maxMessageBytes },
      "gossip message rejected: oversized",
    );
    return true;
  }

  private async callHandler(kind: GossipKind, data: Uint8Array, from: PeerId): Promise<GossipVerdict> {
    try {
      const verdict: unknown = await this.modules.handlers[kind](data, from);
      if (VERDICTS.has(verdict)) return verdict as GossipVerdict;
      this.counts.handlerErrors += 1;
      this.modules.logger.debug({ kind, from: from.toString(), verdict: String(verdict) }, "gossip handler returned no verdict: ignore");
      return "ignore";
    } catch (err) {
      const action = gossipActionOf(err);
      if (err instanceof GossipActionError) {
        this.modules.logger.debug({ kind, from: from.toString(), code: err.code, action }, "gossip message refused");
      } else {
        this.counts.handlerErrors += 1;
        this.modules.logger.debug({ err, kind, from: from.toString() }, "gossip handler threw: ignore");
      }
      return action;
    }
  }
}

/**
 * The gossip action of anything a validator threw: the action a GossipActionError carries, and
 * IGNORE for every other error, because a local failure (a bug, a closed database, a chain that
 * did not answer) is no evidence against the sender and must not cost its score. The one place
 * errors become gossip results; network.ts's ACCEPTANCE turns results into gossipsub's.
 */
export function gossipActionOf(error: unknown): GossipAction {
  return error instanceof GossipActionError ? error.action : "ignore";
}

/**
 * The gossipsub message id: sha256(u32 topic length || topic || data). Content-derived, so the
 * same payload published by two nodes is one message (deduplicated network-wide), and nothing
 * in it depends on who sent it (messages carry no author, see StrictNoSign in network.ts).
 * The topic is bound in so that a payload copied onto another topic cannot mark the genuine
 * message as already seen there (gossipsub's seen-cache is shared by all topics).
 */
export function gossipMessageId(topic: string, data: Uint8Array): Uint8Array {
  const topicBytes = Buffer.from(topic, "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(topicBytes.byteLength);
  return new Uint8Array(createHash("sha256").update(length).update(topicBytes).update(data).digest());
}
