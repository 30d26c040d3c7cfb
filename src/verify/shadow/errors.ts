// The shadow deployment's errors: why a run could not reach a report. shadowFailureFindings
// (findings.ts) turns them into findings for both checks the run serves; the codes are the
// reason codes those findings carry.
import { BaseError } from "viem";
import { SentinelError } from "../../errors.ts";

export type ShadowErrorCode = "CHECK_TIMED_OUT" | "BLOCK_UNAVAILABLE" | "CHECK_FAILED";

export class ShadowDeploymentError extends SentinelError<ShadowErrorCode> {
  override name = "ShadowDeploymentError";
  constructor(code: ShadowErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, {}, options);
  }
}

/** The first line of an error's message (viem's short message for its own errors). */
export function firstLine(error: unknown): string {
  const message = error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
