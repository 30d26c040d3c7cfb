// The one error of the command line: a command used wrongly. Commands print its message with
// their usage text and exit 2; anything else they print as a failure (exit 1 or 2, per command).
import { SentinelError } from "../errors.ts";

export class UsageError extends SentinelError<"USAGE"> {
  override name = "UsageError";
  constructor(message: string, options?: ErrorOptions) {
    super("USAGE", message, {}, options);
  }
}
