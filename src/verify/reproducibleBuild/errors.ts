// The build's own error; the compilers' are in compiler/errors.ts.
import { SentinelError } from "../../errors.ts";

/** The bundle names a contract its compilation does not have (a wrong source path or name). */
export class ContractNotInOutput extends SentinelError<"CONTRACT_NOT_IN_OUTPUT", { contract: string }> {
  override name = "ContractNotInOutput";
  constructor(contract: string, message: string) {
    super("CONTRACT_NOT_IN_OUTPUT", message, { contract });
  }
}
