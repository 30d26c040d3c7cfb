// A whole committee's secret keys in one process: for the local network, tests and benchmarks
// only. A real deployment has one key per operator node and never gathers them.
import type { SecretKey, Signature } from "@chainsafe/blst";
import { hexToBytes, type Hex } from "viem";
import type { Attestation } from "../codec/attestation.ts";
import { rotationDigest, verdictDigest, keysHash, type Verdict } from "../codec/types.ts";
import { generateSecretKey, publicKeyRaw, signatureToEip2537 } from "../crypto/bls.ts";
import type { GenesisSet } from "../chains/registry.ts";
import {
  aggregate,
  encodeKeys,
  minimumThreshold,
  signerBitmap,
  signProofOfPossession,
} from "../consensus/validatorSet.ts";

export class LocalCommittee {
  /** Secret keys in the registry's order (ascending raw public key). */
  readonly secretKeys: readonly SecretKey[];
  readonly threshold: number;
  readonly networkId: Hex;

  constructor(secretKeys: readonly SecretKey[], networkId: Hex, threshold = minimumThreshold(secretKeys.length)) {
    this.secretKeys = [...secretKeys].sort((a, b) =>
      Buffer.compare(publicKeyRaw(a.toPublicKey()), publicKeyRaw(b.toPublicKey())),
    );
    this.networkId = networkId;
    this.threshold = threshold;
  }

  static generate(size: number, networkId: Hex, threshold?: number): LocalCommittee {
    return new LocalCommittee(Array.from({ length: size }, () => generateSecretKey()), networkId, threshold);
  }

  get size(): number {
    return this.secretKeys.length;
  }

  get publicKeys() {
    return this.secretKeys.map((sk) => sk.toPublicKey());
  }

  get keysBlob(): Hex {
    return encodeKeys(this.publicKeys);
  }

  genesis(): GenesisSet {
    return {
      keys: this.publicKeys,
      proofs: this.secretKeys.map((sk) => signProofOfPossession(sk, this.networkId)),
      threshold: this.threshold,
    };
  }

  /** The first `count` members, or all of them. */
  firstSigners(count = this.size): number[] {
    return Array.from({ length: count }, (_, i) => i);
  }

  signDigest(digest: Hex, signers: readonly number[]): Signature {
    const message = hexToBytes(digest);
    return aggregate(signers.map((i) => this.secretKeys[i]!.sign(message)));
  }

  attest(verdict: Verdict, setIndex: number, signers: readonly number[] = this.firstSigners()): Attestation {
    const signature = this.signDigest(verdictDigest(this.networkId, verdict), signers);
    return {
      networkId: this.networkId,
      setIndex,
      verdict,
      signers: signerBitmap(signers),
      signature: signatureToEip2537(signature),
    };
  }

  /** This committee's signature on a rotation to `next` (what proposeValidatorSet checks). */
  attestRotation(next: LocalCommittee, newSetIndex: number, signers: readonly number[] = this.firstSigners()) {
    const digest = rotationDigest(this.networkId, newSetIndex, keysHash(next.keysBlob), next.threshold);
    return { signers: signerBitmap(signers), signature: signatureToEip2537(this.signDigest(digest, signers)) };
  }
}
