import { findForbiddenOpcodes } from "../opcodes.ts";
import type { Check } from "../pipeline.ts";

/** SELFDESTRUCT and CALLCODE anywhere in the implementation's instructions reject it. */
export const forbiddenOpcodesCheck: Check = {
  name: "forbidden-opcodes",
  async run(context) {
    const code = await context.code();
    if (!code) return [];
    const hits = findForbiddenOpcodes(code);
    if (hits.length === 0) return [{ check: this.name, code: "OK", severity: "info", message: "no forbidden opcode" }];
    return hits.map((hit) => ({
      check: this.name,
      code: "FORBIDDEN_OPCODE" as const,
      severity: "reject" as const,
      message: `${hit.name} at pc ${hit.pc}`,
      evidence: { opcode: hit.name, pc: String(hit.pc) },
    }));
  },
};
