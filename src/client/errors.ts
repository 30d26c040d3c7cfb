// The client's coded errors. A relayer or a CI job branches on `code`; the message says what to do.
import { SentinelError } from "../errors.ts";

export type ClientErrorCode =
  /** The node did not answer in time (connect, request or the whole wait). */
  | "CLIENT_TIMEOUT"
  /** The node could not be reached, or answered 5xx: try again, or another node. */
  | "NODE_UNAVAILABLE"
  /** The node refused the request (4xx); `meta.apiCode` is the API's own code (NOT_ENROLLED, BUNDLE_INVALID, …). */
  | "REFUSED"
  /** The node answered something this client cannot read: not the API it was built for. */
  | "BAD_RESPONSE"
  /** The caller's own input is wrong (a malformed id, options). */
  | "INVALID_ARGUMENT"
  /** The attestation bytes do not decode (length, version, outcome). */
  | "ATTESTATION_MALFORMED"
  /** The caller aborted the wait. */
  | "ABORTED";

export interface ClientErrorMeta {
  status?: number;
  apiCode?: string;
  url?: string;
  [key: string]: unknown;
}

export class ClientError extends SentinelError<ClientErrorCode, ClientErrorMeta> {
  override name = "ClientError";
}
