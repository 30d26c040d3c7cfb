// An attestation checked where it is received, with the node's own rules and code
// (consensus/validation/attestation.ts), against a validator set read from a registry: what a
// relayer or a bridge does before trusting, or paying gas for, an attestation.
import { createPublicClient, getAddress, hexToBytes, http, isHex, type Address, type Hex } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { AttestationFormatError, decodeAttestation } from "../codec/attestation.ts";
import { verdictDigest, type Verdict } from "../codec/types.ts";
import { AttestationError, validateAttestation } from "../consensus/validation/attestation.ts";
import { signerIndices, type ValidatorSetView } from "../consensus/validatorSet.ts";
import { RegistryReader, type ValidatorSetView as RegistrySetView } from "../chains/registryReader.ts";
import { ClientError } from "./errors.ts";

export interface OfflineVerification {
  /** Signed by at least the threshold of `set`, for this network: what the registry's verifyAttestation would say. */
  valid: boolean;
  /** The verdict's digest under `networkId`. */
  digest: Hex;
  /** `verdict.binding` is the operation the approval is limited to (a timelock operation id, a Safe transaction hash); absent when unbound. */
  verdict: Verdict;
  signers: number[];
  /** Why it is not valid: the node's rule code and message (WRONG_NETWORK, OTHER_SET, BELOW_THRESHOLD, BAD_SIGNATURE, EXPIRED_SET, …). */
  reason?: string;
}

/**
 * Verifies an attestation (554 bytes, or 586 when bound to an operation) offline with the node's own validation code.
 * `set` may carry `validUntil` (as readValidatorSet returns it): a set past it is refused, as the registry does.
 * @throws ClientError ATTESTATION_MALFORMED when the bytes do not decode at all (no verdict to report)
 * @example
 * const set = await readValidatorSet({ rpcUrl, registry });
 * const { valid, reason } = verifyAttestationOffline(record.encoded, { networkId: set.networkId, set });
 */
export function verifyAttestationOffline(
  encoded: Hex,
  options: { networkId: Hex; set: ValidatorSetView & { validUntil?: bigint }; now?: number },
): OfflineVerification {
  if (typeof encoded !== "string" || !isHex(encoded, { strict: true })) throw new ClientError("ATTESTATION_MALFORMED", "an attestation is 0x-prefixed hex");
  let decoded;
  try {
    decoded = decodeAttestation(encoded);
  } catch (error) {
    if (error instanceof AttestationFormatError) throw new ClientError("ATTESTATION_MALFORMED", `not an attestation: ${error.message}`, { formatCode: error.code }, { cause: error });
    throw error;
  }
  const signers = signerIndices(decoded.signers);
  const base = { digest: verdictDigest(options.networkId, decoded.verdict), verdict: decoded.verdict, signers };
  const nowSeconds = BigInt(Math.floor((options.now ?? Date.now()) / 1000));
  const validUntil = options.set.validUntil;
  if (validUntil !== undefined && decoded.setIndex === options.set.index && nowSeconds > validUntil) {
    return { ...base, valid: false, reason: `EXPIRED_SET: validator set ${options.set.index} was valid until ${validUntil}` };
  }
  try {
    const { digest } = validateAttestation(hexToBytes(encoded), { networkId: options.networkId, set: options.set });
    return { ...base, digest, valid: true };
  } catch (error) {
    if (error instanceof AttestationError) return { ...base, valid: false, reason: `${error.code}: ${error.message}` };
    throw error;
  }
}

/**
 * A registry's validator set (the current one, or `index`) and its network id, read from the chain.
 * @throws ClientError NODE_UNAVAILABLE when the RPC cannot be read, INVALID_ARGUMENT for a set the registry never held
 */
export async function readValidatorSet(options: { rpcUrl: string; registry: Address; chainId?: number; index?: number }): Promise<RegistrySetView & { networkId: Hex }> {
  const client = createPublicClient({ transport: http(options.rpcUrl, { retryCount: 1 }) });
  const registry = getAddress(options.registry);
  try {
    const chainId = options.chainId ?? (await client.getChainId());
    const reader = new RegistryReader({ chainId, registry }, { client: client as never });
    const [networkId, set] = await Promise.all([
      client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName: "NETWORK_ID" }),
      options.index === undefined ? reader.currentValidatorSet() : reader.validatorSet(options.index),
    ]);
    if (set === undefined) throw new ClientError("INVALID_ARGUMENT", `registry ${registry} never held validator set ${options.index}`, { registry });
    return { ...set, networkId };
  } catch (error) {
    if (error instanceof ClientError) throw error;
    const first = (error as Error).message.split("\n")[0];
    throw new ClientError("NODE_UNAVAILABLE", `cannot read the validator set of registry ${registry} at ${options.rpcUrl}: ${first}`, { url: options.rpcUrl }, { cause: error });
  }
}
