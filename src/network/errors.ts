// Typed errors of the network layer. The code is what callers branch on and tests assert on;
// the message is for humans; `meta` carries the structured context (never raw payloads).
import type { Hex } from "viem";
import { SentinelError } from "../errors.ts";

export type NetworkErrorCode =
  /** The options are malformed (bad network id, multiaddr, key type, size). */
  | "INVALID_OPTIONS"
  /** The gossipsub score thresholds are not ordered gossip >= publish >= graylist, all <= 0. */
  | "INVALID_SCORE_THRESHOLDS"
  /** The score parameters are rejected by gossipsub or do not penalise one invalid message enough. */
  | "INVALID_SCORE_PARAMS"
  /** A local publish larger than maxMessageBytes: every peer would reject it. */
  | "MESSAGE_TOO_LARGE"
  /** Gossipsub refused the publish for a reason other than "no peers" or "duplicate". */
  | "PUBLISH_FAILED"
  /** The libp2p host could not start (port in use, bad listen address). */
  | "START_FAILED"
  /** The network was used after stop(). */
  | "STOPPED"
  /** The installed gossipsub lacks a method this layer relies on. */
  | "UNSUPPORTED_GOSSIPSUB";

export class NetworkError extends SentinelError<NetworkErrorCode, Record<string, unknown>> {
  override name = "NetworkError";
}

export type BundleFetchErrorCode =
  /** The requested hash is not 0x + 64 hex characters. */
  | "INVALID_HASH"
  /** No connection or no stream for the bundle protocol could be opened. */
  | "DIAL_FAILED"
  /** The remote peer does not have the bundle. */
  | "NOT_FOUND"
  /** The remote peer has the bundle but could not serve it (store failure, over its own limit). */
  | "UNAVAILABLE"
  /** The response frame is larger than maxBundleBytes. */
  | "TOO_LARGE"
  /** The response bytes do not hash (keccak256) to the requested hash: the peer served wrong data. */
  | "HASH_MISMATCH"
  /** The response is not a well-formed frame (unknown status, truncated, empty). */
  | "PROTOCOL"
  /** The request did not complete within its time budget. */
  | "TIMEOUT"
  /** The stream failed (reset, closed) before a response arrived. */
  | "STREAM";

export interface BundleFetchErrorMeta {
  /** The peer asked, as its string form. */
  peer: string;
  hash: Hex;
}

export class BundleFetchError extends SentinelError<BundleFetchErrorCode, BundleFetchErrorMeta> {
  override name = "BundleFetchError";
}

/**
 * What gossipsub should do with a message a validator refused: REJECT when the sender should
 * have known (its score pays for it), IGNORE when an honest peer could have sent it (timing,
 * duplicates, state this node lacks).
 */
export type GossipAction = "reject" | "ignore";

/**
 * The base of every gossip validation error: a coded error that also carries its gossip action.
 * Validators live with their domain (admission/, consensus/) and subclass this; the network
 * layer only maps the action to a gossipsub result (gossip.ts, gossipResultOf), so it never
 * needs to know the domain's codes.
 */
export class GossipActionError<Code extends string = string, Meta extends object = Record<string, unknown>> extends SentinelError<
  Code,
  Meta
> {
  override name = "GossipActionError";
  readonly action: GossipAction;

  constructor(action: GossipAction, code: Code, message: string, meta?: Meta, options?: ErrorOptions) {
    super(code, message, meta, options);
    this.action = action;
  }
}
