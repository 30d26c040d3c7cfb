// Stable reason codes: bit positions in the verdict's reason bitmap, recorded on chain. Never
// renumber; add new codes at the end.
export const ReasonCode = {
  ORIGIN_INVALID: 0,
  CODE_MISSING: 1,
  FORBIDDEN_OPCODE: 2,
  CHECK_TIMED_OUT: 3,
  CHECK_FAILED: 4,
} as const;
export type ReasonCode = keyof typeof ReasonCode;

export function reasonBitmap(codes: Iterable<ReasonCode>): bigint {
  let bitmap = 0n;
  for (const code of codes) bitmap |= 1n << BigInt(ReasonCode[code]);
  return bitmap;
}

