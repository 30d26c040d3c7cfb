// The gas limit of a submitAttestation transaction, from the registry's measured cost model
// (docs/gas.md) instead of a per-transaction eth_estimateGas: the estimate's binary search runs
// the pairing check and hash-to-curve several times and was the largest stage of the critical
// path (55–200 ms on anvil). Only gasUsed is paid, so a generous limit costs nothing; a limit that
// proves too low (another chain's pricing) shows as an out-of-gas receipt and the relayer goes
// back to estimating (relayer.ts).
import { MAX_VALIDATORS, signerIndices } from "../consensus/validatorSet.ts";

/**
 * submitAttestation measured at 248.6k–249.3k gas with every signer present, for sets of 4 to
 * 200 keys; this leaves ~25% for other outcomes, larger calldata costs and repricing.
 */
const BASE_GAS = 310_000n;
/** Measured 745 per absent signer (one EXTCODECOPY and one G1ADD); rounded up. */
const GAS_PER_ABSENT_SIGNER = 1_000n;

/**
 * The gas limit for an attestation signed by `signers` of its set. The set's size is not in the
 * attestation, so every key up to the largest possible set counts as absent.
 */
export function attestationGasLimit(signers: bigint): bigint {
  const present = BigInt(signerIndices(signers).length);
  const absent = present >= BigInt(MAX_VALIDATORS) ? 0n : BigInt(MAX_VALIDATORS) - present;
  return BASE_GAS + GAS_PER_ABSENT_SIGNER * absent;
}
