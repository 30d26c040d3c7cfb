import { keccak256 } from "viem";
import type { Check } from "../pipeline.ts";

/** Reads the implementation's runtime code: there must be some, and its hash is what is approved. */
export const implementationCodeCheck: Check = {
  name: "implementation-code",
  async run(context) {
    const code = await context.code();
    if (!code) {
      return [{ check: this.name, code: "CODE_MISSING", severity: "reject", message: "no code at the implementation address" }];
    }
    const codehash = keccak256(code);
    return [{ check: this.name, code: "OK", severity: "info", message: "implementation code read", evidence: { codehash } }];
  },
};
