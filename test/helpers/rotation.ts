// A rotation request as `sentinel validator propose` builds it, from secret keys held by a test.
import { bytesToHex, hexToBytes, type Hex } from "viem";
import { rotationDigests, type RotationRequest } from "../../src/codec/rotation.ts";
import { minimumThreshold, signProofOfPossession } from "../../src/consensus/validatorSet.ts";
import { publicKeyRaw, signatureToEip2537, type SecretKey } from "../../src/crypto/bls.ts";

/** The next set `members` at `setIndex`, proposed by `proposer` (a current member) as validator `proposerIndex`. */
export function rotationRequest(
  networkId: Hex,
  members: readonly SecretKey[],
  proposer: SecretKey,
  proposerIndex: number,
  options: { setIndex?: number; current?: readonly SecretKey[] } = {},
): RotationRequest {
  const sorted = [...members].sort((a, b) => Buffer.compare(publicKeyRaw(a.toPublicKey()), publicKeyRaw(b.toPublicKey())));
  const current = new Set((options.current ?? []).map((sk) => bytesToHex(publicKeyRaw(sk.toPublicKey()))));
  const keys = sorted.map((sk) => bytesToHex(publicKeyRaw(sk.toPublicKey())));
  const base = {
    setIndex: options.setIndex ?? 1,
    keys,
    threshold: minimumThreshold(sorted.length),
    // Only the keys joining carry a proof (`current`: the current set's members).
    proofsOfPossession: sorted.filter((_, i) => !current.has(keys[i]!)).map((sk) => signatureToEip2537(signProofOfPossession(sk, networkId))),
  };
  const { proposal } = rotationDigests(networkId, base);
  return { ...base, proposer: { validatorIndex: proposerIndex, signature: signatureToEip2537(proposer.sign(hexToBytes(proposal))) } };
}
