// The pipeline's own errors: how a check says a shared value it does not own is missing. Each
// check's folder has the errors of its own work (bytecode/errors.ts, shadow/errors.ts, …).
import { SentinelError } from "../errors.ts";

/** Enrollment was not asked for (a dry run without a registry or a proposer). */
export class EnrollmentNotChecked extends SentinelError<"ENROLLMENT_NOT_CHECKED"> {
  override name = "EnrollmentNotChecked";
  constructor(message: string) {
    super("ENROLLMENT_NOT_CHECKED", message);
  }
}

/**
 * A value a check needs could not be had; the check that owns it reports why. Matched by class,
 * never by name: an error a check throws that merely calls itself this is a failure, not a skip.
 */
export class PrerequisiteUnavailable extends SentinelError<"PREREQUISITE_UNAVAILABLE", { prerequisite: string }> {
  override name = "PrerequisiteUnavailable";
  readonly prerequisite: string;
  constructor(prerequisite: string, cause: unknown) {
    super("PREREQUISITE_UNAVAILABLE", `${prerequisite} unavailable`, { prerequisite }, { cause });
    this.prerequisite = prerequisite;
  }
}
