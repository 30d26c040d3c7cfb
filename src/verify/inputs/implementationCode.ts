import { keccak256 } from "viem";
import { firstLine, type Check } from "../pipeline.ts";

/**
 * How much older than the proposal the pinned block may be. Every check reads state there, so a
 * proposer pinning an old block would have the upgrade judged on state that no longer holds
 * (invariants evaluated before a drain, an owner since replaced).
 */
export const MAX_PINNED_BLOCK_AGE_SECONDS = 3_600n;

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
    const evidence = { blockNumber, blockHash: block.hash ?? "", blockTimestamp: String(block.timestamp) };
    if (block.timestamp + MAX_PINNED_BLOCK_AGE_SECONDS < context.candidate.createdAt) {
      const age = context.candidate.createdAt - block.timestamp;
      return [{ check: this.name, code: "PINNED_BLOCK_STALE", severity: "reject", message: `pinned block ${blockNumber} is ${age} s older than the candidate (at most ${MAX_PINNED_BLOCK_AGE_SECONDS} s)`, evidence }];
    }
    const code = await context.code();
    if (!code) {
      return [{ check: this.name, code: "CODE_MISSING", severity: "reject", message: "no code at the implementation address", evidence }];
    }
    return [{ check: this.name, code: "OK", severity: "info", message: "implementation code read", evidence: { ...evidence, codehash: keccak256(code) } }];
  },
};
