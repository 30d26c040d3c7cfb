// How the relayer reads a failure: "the contract said no" (a revert: deterministic, never
// retried), "the RPC failed" (retried with backoff) or "retrying cannot help" (fatal), from viem's
// error chain; and the relayer's own reasons an attempt ends. Kept apart from relayer.ts so the
// rules can be read, and tested, on their own.
import {
  BaseError,
  ContractFunctionRevertedError,
  ExecutionRevertedError,
  HttpRequestError,
  InsufficientFundsError,
  InternalRpcError,
  LimitExceededRpcError,
  ResourceUnavailableRpcError,
  SocketClosedError,
  TimeoutError,
  WebSocketRequestError,
  decodeErrorResult,
  isHex,
  type Hex,
} from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { SentinelError } from "../errors.ts";

const abi = SentinelRegistry.abi;

export type RelayFailureCode =
  /** The job itself is malformed: the digest or candidate id does not match the attestation. */
  | "RELAY_INVALID_JOB"
  /** The simulation or the gas estimate reverted (StaleVerdict, expired, bad signature, ...). */
  | "RELAY_REVERTED"
  /** The transaction was mined and reverted, and the digest is still not recorded. */
  | "RELAY_TX_REVERTED"
  /** maxAttempts attempts, each ended by an RPC or network failure (or a receipt timeout). */
  | "RELAY_RETRIES_EXHAUSTED"
  /** The node refused the request for good (HTTP 4xx other than 408/429). */
  | "RELAY_RPC_REJECTED"
  | "RELAY_INSUFFICIENT_FUNDS"
  | "RELAY_CANCELLED"
  | "RELAY_STOPPED"
  /** maxTrackedJobs jobs are in flight already. */
  | "RELAY_BUSY"
  /** Not an RPC or contract error: a bug, reported rather than retried. */
  | "RELAY_UNEXPECTED";

export type RelayAttemptCode =
  /** The job's wait was aborted by cancel() or stop(): ends the job, never retried. */
  | "ABORTED"
  | "RECEIPT_TIMEOUT"
  /** The transaction ran out of gas at a limit that was not estimated: retried with an estimate. */
  | "OUT_OF_GAS"
  /** An unsimulated transaction reverted: retried through the simulation, which names the reason. */
  | "UNSIMULATED_REVERT";

/** The relayer's own reasons an attempt ends; internal: jobs report RelayFailureCode instead. */
export class RelayAttemptError extends SentinelError<RelayAttemptCode> {
  override name = "RelayAttemptError";
}

/** Codes are per area: another area's "ABORTED" is not a cancelled relay. */
export const isAborted = (error: unknown): boolean => error instanceof RelayAttemptError && error.code === "ABORTED";

/** Attempt failures another attempt can fix. */
export const RETRIED: readonly RelayAttemptCode[] = ["RECEIPT_TIMEOUT", "OUT_OF_GAS", "UNSIMULATED_REVERT"];

/** How the relayer treats an error: end the job, or try again after a backoff. */
export type ErrorClass =
  | { kind: "revert"; errorName: string; message: string }
  | { kind: "retry"; message: string }
  | { kind: "fatal"; code: RelayFailureCode; message: string };

const TRANSIENT_HTTP_STATUS = new Set([408, 425, 429]);

/**
 * Decides between "the contract said no" (a revert: deterministic, never retried), "the RPC
 * failed" (retried) and "retrying cannot help" (fatal).
 */
export function classifyRelayError(error: unknown): { kind: "revert" | "retry" | "fatal"; name?: string; message: string } {
  const c = classify(error);
  return c.kind === "revert" ? { kind: c.kind, name: c.errorName, message: c.message } : { kind: c.kind, message: c.message };
}

export function classify(error: unknown): ErrorClass {
  if (error instanceof RelayAttemptError && RETRIED.includes(error.code)) return { kind: "retry", message: error.message };
  if (!(error instanceof BaseError)) {
    return { kind: "fatal", code: "RELAY_UNEXPECTED", message: error instanceof Error ? error.message : String(error) };
  }
  const message = error.shortMessage;

  const http = error.walk((e) => e instanceof HttpRequestError) as HttpRequestError | null;
  if (http !== null) {
    const status = http.status;
    if (status === undefined || status >= 500 || TRANSIENT_HTTP_STATUS.has(status)) {
      return { kind: "retry", message: status === undefined ? `RPC unreachable: ${details(http)}` : `RPC answered HTTP ${status}` };
    }
    return { kind: "fatal", code: "RELAY_RPC_REJECTED", message: `RPC refused the request with HTTP ${status}` };
  }
  if (error.walk((e) => e instanceof TimeoutError || e instanceof SocketClosedError || e instanceof WebSocketRequestError)) {
    return { kind: "retry", message: `RPC timed out or disconnected: ${message}` };
  }
  if (error.walk((e) => e instanceof LimitExceededRpcError || e instanceof ResourceUnavailableRpcError)) {
    return { kind: "retry", message: `RPC busy: ${message}` };
  }
  if (error.walk((e) => e instanceof InsufficientFundsError)) {
    return { kind: "fatal", code: "RELAY_INSUFFICIENT_FUNDS", message: "the relayer account cannot pay for gas" };
  }

  const revert = revertOf(error);
  if (revert !== undefined) return { kind: "revert", ...revert };
  return { kind: "retry", message };
}

/**
 * The registry error a call reverted with, or undefined if the error is no revert. viem reads a
 * JSON-RPC "internal error" (-32603) as a revert; without revert data that is the node failing.
 */
function revertOf(error: BaseError): { errorName: string; message: string } | undefined {
  const internal = error.walk((e) => e instanceof InternalRpcError) !== null;
  const contractRevert = error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
  if (contractRevert !== null) {
    const decoded = contractRevert.data;
    if (decoded !== undefined) {
      const args = (decoded.args ?? []).map((arg) => String(arg)).join(", ");
      return { errorName: decoded.errorName, message: `${decoded.errorName}(${args})` };
    }
    if (contractRevert.reason !== undefined) return { errorName: "Error", message: contractRevert.reason };
    const raw = contractRevert.raw;
    if (raw !== undefined && raw !== "0x") return { errorName: "Unknown", message: `reverted with ${raw}` };
    if (internal) return undefined;
    return { errorName: "Unknown", message: "reverted without data" };
  }
  // Gas estimation and eth_sendRawTransaction errors are not decoded against the ABI.
  const withData = error.walk((e) => isHex((e as { data?: unknown }).data) && (e as { data: Hex }).data !== "0x") as {
    data: Hex;
  } | null;
  if (withData !== null) {
    try {
      const decoded = decodeErrorResult({ abi, data: withData.data });
      const args = (decoded.args ?? []).map((arg) => String(arg)).join(", ");
      return { errorName: decoded.errorName, message: `${decoded.errorName}(${args})` };
    } catch {
      if (!internal) return { errorName: "Unknown", message: `reverted with ${withData.data}` };
    }
  }
  if (error.walk((e) => e instanceof ExecutionRevertedError) !== null && !internal) {
    return { errorName: "Unknown", message: "execution reverted" };
  }
  return undefined;
}

/** The node answered and refused the transaction (nonce too low, already known, underpriced...). */
export function isNodeRefusal(error: unknown): boolean {
  if (!(error instanceof BaseError)) return false;
  if (error.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof SocketClosedError)) return false;
  return error.walk((e) => typeof (e as { code?: unknown }).code === "number") !== null;
}

function details(error: HttpRequestError): string {
  return error.details || error.shortMessage;
}
