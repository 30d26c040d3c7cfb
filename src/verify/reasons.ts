// Stable reason codes: bit positions in the verdict's reason bitmap, recorded on chain. Never
// renumber; add new codes at the end. docs/verification.md says what each one means.
export const ReasonCode = {
  ORIGIN_INVALID: 0,
  CODE_MISSING: 1,
  FORBIDDEN_OPCODE: 2,
  CHECK_TIMED_OUT: 3,
  CHECK_FAILED: 4,
  // Inputs: the source bundle, the policy, the pinned block.
  SOURCE_UNAVAILABLE: 5,
  POLICY_MISMATCH: 6,
  POLICY_INVALID: 7,
  // Reproducible build.
  COMPILER_UNAVAILABLE: 8,
  COMPILATION_FAILED: 9,
  BYTECODE_MISMATCH: 10,
  REFERENCE_MISMATCH: 11,
  // Bytecode.
  SELFDESTRUCT_REACHABLE: 12,
  DELEGATECALL_REACHABLE: 13,
  CALLCODE_REACHABLE: 14,
  SELECTORS_REMOVED: 15,
  // OpenZeppelin upgrades-core validation errors, one code per kind.
  OZ_CONSTRUCTOR: 16,
  OZ_DELEGATECALL: 17,
  OZ_SELFDESTRUCT: 18,
  OZ_STATE_VARIABLE_ASSIGNMENT: 19,
  OZ_STATE_VARIABLE_IMMUTABLE: 20,
  OZ_EXTERNAL_LIBRARY_LINKING: 21,
  OZ_MISSING_PUBLIC_UPGRADETO: 22,
  OZ_INTERNAL_FUNCTION_STORAGE: 23,
  OZ_MISSING_INITIALIZER: 24,
  OZ_MISSING_INITIALIZER_CALL: 25,
  OZ_DUPLICATE_INITIALIZER_CALL: 26,
  OZ_INCORRECT_INITIALIZER_ORDER: 27,
  OZ_OTHER: 28,
  // Storage layout against the current implementation, one code per kind of change.
  STORAGE_LAYOUT_UNKNOWN: 29,
  STORAGE_INSERTED: 30,
  STORAGE_DELETED: 31,
  STORAGE_TYPE_CHANGED: 32,
  STORAGE_RENAMED: 33,
  STORAGE_REPLACED: 34,
  STORAGE_GAP_MISUSED: 35,
  STORAGE_NAMESPACE_CHANGED: 36,
  STORAGE_OTHER: 37,
  // Proxy safety.
  UUPS_PROXIABLE_MISSING: 38,
  IMPLEMENTATION_INITIALIZABLE: 39,
  TRANSPARENT_SELECTOR_CLASH: 40,
  ADMIN_CHANGED: 41,
  // Shadow deployment.
  UPGRADE_REVERTED: 42,
  INVARIANT_VIOLATED: 43,
  NOT_UPGRADEABLE_AFTER: 44,
  HUMAN_APPROVAL_REQUIRED: 45,
  BLOCK_UNAVAILABLE: 46,
  PINNED_BLOCK_STALE: 47,
  // Proxy safety: an admin entry point a non-authority could not call before the upgrade, and can after.
  AUTHORITY_WEAKENED: 48,
  // Access control (symbolic): a capability a non-authority reaches after the upgrade and not before; a bound hit.
  CAPABILITY_GAINED: 49,
  ANALYSIS_UNKNOWN: 50,
} as const;
export type ReasonCode = keyof typeof ReasonCode;

export function reasonBitmap(codes: Iterable<ReasonCode>): bigint {
  let bitmap = 0n;
  for (const code of codes) bitmap |= 1n << BigInt(ReasonCode[code]);
  return bitmap;
}

/** The names of the codes set in a bitmap, in bit order; unknown bits are named by number. */
export function reasonsFromBitmap(bitmap: bigint): string[] {
  const names: string[] = [];
  const byBit = new Map<number, string>(Object.entries(ReasonCode).map(([name, bit]) => [bit, name]));
  for (let bit = 0; bitmap >> BigInt(bit) !== 0n; bit++) {
    if ((bitmap >> BigInt(bit)) & 1n) names.push(byBit.get(bit) ?? `BIT_${bit}`);
  }
  return names;
}
