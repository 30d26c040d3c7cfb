import { keccak256 } from "viem";
import { firstLine, type Check } from "../pipeline.ts";

/**
 * Reads the pinned block and the implementation's runtime code there: there must be both, and
 * the code's hash is what is approved.
 */
export const implementationCodeCheck: Check = {
  name: "implementation-code",
  async run(context) {
    const blockNumber = context.candidate.blockNumber.toString();
    let block;
    try {
      block = await context.block();
    } catch (error) {
      return [{ check: this.name, code: "BLOCK_UNAVAILABLE", severity: "reject", message: `pinned block ${blockNumber} unavailable: ${firstLine(error)}`, evidence: { blockNumber } }];
    }
    const code = await context.code();
    const evidence = { blockNumber, blockHash: block.hash ?? "" };
    if (!code) {
      return [{ check: this.name, code: "CODE_MISSING", severity: "reject", message: "no code at the implementation address", evidence }];
    }
    return [{ check: this.name, code: "OK", severity: "info", message: "implementation code read", evidence: { ...evidence, codehash: keccak256(code) } }];
  },
};
