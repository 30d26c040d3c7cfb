// The shadow deployment's errors: why a run could not reach a report. shadowFailureFindings
// (shadow.ts) turns them into findings for both checks the run serves.
import { BaseError } from "viem";

export type ShadowErrorCode = "CHECK_TIMED_OUT" | "BLOCK_UNAVAILABLE" | "CHECK_FAILED";

export class ShadowDeploymentError extends Error {
  override name = "ShadowDeploymentError";
  readonly code: ShadowErrorCode;
  constructor(code: ShadowErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The first line of an error's message (viem's short message for its own errors). */
export function firstLine(error: unknown): string {
  const message = error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
