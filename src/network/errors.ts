// Typed errors of the network layer. The code is what callers branch on and tests assert on;
// the message is for humans; `details` carries the structured context (never raw payloads).
import type { Hex } from "viem";

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

export class NetworkError extends Error {
  override name = "NetworkError";
  readonly code: NetworkErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: NetworkErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
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

export class BundleFetchError extends Error {
  override name = "BundleFetchError";
  readonly code: BundleFetchErrorCode;
  /** The peer asked, as its string form. */
  readonly peer: string;
  readonly hash: Hex;
  constructor(code: BundleFetchErrorCode, message: string, context: { peer: string; hash: Hex }, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.peer = context.peer;
    this.hash = context.hash;
  }
}
