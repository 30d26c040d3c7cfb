// The bytecode analysis's one error: its input is not code it can read (malformed hex, a
// placeholder no link reference covers). Odd but well-formed bytecode never throws.
import { SentinelError } from "../../errors.ts";

export class BytecodeFormatError extends SentinelError<"BYTECODE_FORMAT"> {
  override name = "BytecodeFormatError";
  constructor(message: string) {
    super("BYTECODE_FORMAT", message);
  }
}
