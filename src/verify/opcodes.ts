// A minimal bytecode scan: which forbidden opcodes appear as instructions (PUSH data skipped,
// the trailing CBOR metadata removed). Reachability analysis belongs to the verification engine.
import { hexToBytes, type Hex } from "viem";

export const FORBIDDEN_OPCODES: ReadonlyMap<number, string> = new Map([
  [0xff, "SELFDESTRUCT"],
  [0xf2, "CALLCODE"],
]);

const PUSH1 = 0x60;
const PUSH32 = 0x7f;

export interface OpcodeHit {
  name: string;
  pc: number;
}

/** Runtime code without Solidity's CBOR metadata (its length is the last two bytes). */
export function stripMetadata(code: Uint8Array): Uint8Array {
  if (code.length < 2) return code;
  const metadataLength = (code[code.length - 2]! << 8) | code[code.length - 1]!;
  const end = code.length - 2 - metadataLength;
  // A CBOR map opens with 0xa1..0xb7; anything else means there is no metadata to strip.
  if (end < 0 || (code[end]! & 0xe0) !== 0xa0) return code;
  return code.subarray(0, end);
}

export function findForbiddenOpcodes(runtimeCode: Hex, forbidden = FORBIDDEN_OPCODES): OpcodeHit[] {
  const code = stripMetadata(hexToBytes(runtimeCode));
  const hits: OpcodeHit[] = [];
  for (let pc = 0; pc < code.length; pc++) {
    const opcode = code[pc]!;
    const name = forbidden.get(opcode);
    if (name) hits.push({ name, pc });
    if (opcode >= PUSH1 && opcode <= PUSH32) pc += opcode - PUSH1 + 1;
  }
  return hits;
}
