// A current validator's vote on the next set. The node signs a rotation only when it is the very
// next set of every configured chain's registry, changes one member (so each rotation is one
// reviewable decision) that this node's operator approved, keeps the registry's threshold bounds, carries a valid proof of
// possession for the key it adds (the registry admits none without, and would stay pending),
// and was proposed by a current member. The signing record makes the vote final: one rotation
// digest per set index, across restarts.
import { existsSync, readFileSync } from "node:fs";
import { PublicKey, verify } from "@chainsafe/blst";
import { hexToBytes, type Hex } from "viem";
import { rotationDigests, type RotationRequest } from "../codec/rotation.ts";
import { proofOfPossessionDigest } from "../codec/types.ts";
import { publicKeyRaw, signatureFromEip2537, signatureToEip2537, type SecretKey } from "../crypto/bls.ts";
import { SentinelError } from "../errors.ts";
import type { Clock } from "../util/clock.ts";
import { ConflictingVerdictError, type SigningRecord } from "./signingRecord.ts";
import { minimumThreshold, signProofOfPossession, type ValidatorSetView } from "./validatorSet.ts";

export type RotationErrorCode =
  | "WRONG_SET_INDEX"
  | "SETS_DIFFER"
  | "UNSORTED_KEYS"
  | "INVALID_KEY"
  | "NOT_ONE_CHANGE"
  | "BAD_THRESHOLD"
  | "BAD_PROOF_OF_POSSESSION"
  | "BAD_PROPOSER"
  | "NOT_A_VALIDATOR"
  | "NOT_APPROVED"
  | "CONFLICTING_ROTATION";

export class RotationError extends SentinelError<RotationErrorCode> {
  override name = "RotationError";
}

export interface RotationSignerOptions {
  networkId: Hex;
}

export interface RotationSignerModules {
  secretKey: SecretKey;
  record: SigningRecord;
  /** The current set of each configured chain's registry, read now. */
  currentSets(): Promise<ValidatorSetView[]>;
  /**
   * The changes this node's operator approved, read now (raw keys, lowercase hex): without an
   * operator's say, one validator could grow the set with keys of its own, one by one.
   */
  approvals(): Promise<RotationApprovals>;
  clock: Clock;
}

export interface RotationApprovals {
  add: ReadonlySet<Hex>;
  remove: ReadonlySet<Hex>;
}

export interface RotationVote {
  setIndex: number;
  /** This node's index in the current set: the bit its signature sets in the signer bitmap. */
  validatorIndex: number;
  digest: Hex;
  /** EIP-2537 256-byte signature over the registry's rotation digest. */
  signature: Hex;
  /** This validator's own proof of possession, which the registry needs again to admit the next set. */
  proofOfPossession: Hex;
}

export class RotationSigner {
  readonly #options: RotationSignerOptions;
  readonly #m: RotationSignerModules;

  constructor(options: RotationSignerOptions, modules: RotationSignerModules) {
    this.#options = options;
    this.#m = modules;
  }

  async vote(request: RotationRequest): Promise<RotationVote> {
    const fail = (code: RotationErrorCode, message: string) => new RotationError(code, message);
    const sets = await this.#m.currentSets();
    const current = sets[0]!;
    const same = (a: ValidatorSetView, b: ValidatorSetView) =>
      a.index === b.index && a.threshold === b.threshold && a.keys.length === b.keys.length && a.keys.every((k, i) => Buffer.from(publicKeyRaw(k)).equals(Buffer.from(publicKeyRaw(b.keys[i]!))));
    if (!sets.every((set) => same(set, current))) throw fail("SETS_DIFFER", "the registries of this node's chains do not hold the same current set; finish the previous rotation everywhere first");
    if (request.setIndex !== current.index + 1) throw fail("WRONG_SET_INDEX", `the next set is ${current.index + 1}, not ${request.setIndex}`);

    const raw = request.keys.map((key) => Buffer.from(hexToBytes(key)));
    for (let i = 1; i < raw.length; i++) {
      if (Buffer.compare(raw[i - 1]!, raw[i]!) >= 0) throw fail("UNSORTED_KEYS", `keys must be strictly ascending (the registry's order); key ${i} is not`);
    }
    const keys = raw.map((bytes, i) => {
      try {
        const key = PublicKey.fromBytes(bytes, true);
        key.keyValidate();
        return key;
      } catch {
        throw fail("INVALID_KEY", `key ${i} is not a valid BLS public key`);
      }
    });
    const currentRaw = new Set(current.keys.map((k) => Buffer.from(publicKeyRaw(k)).toString("hex")));
    const nextRaw = new Set(raw.map((b) => b.toString("hex")));
    const added = [...nextRaw].filter((k) => !currentRaw.has(k));
    const removed = [...currentRaw].filter((k) => !nextRaw.has(k));
    if (added.length + removed.length !== 1) {
      throw fail("NOT_ONE_CHANGE", `a rotation adds or removes exactly one validator; this one adds ${added.length} and removes ${removed.length}`);
    }
    const minimum = minimumThreshold(keys.length);
    if (request.threshold < minimum || request.threshold > keys.length) {
      throw fail("BAD_THRESHOLD", `threshold ${request.threshold} is outside ${minimum}..${keys.length} for ${keys.length} keys`);
    }
    const joining = keys.flatMap((key, i) => (currentRaw.has(raw[i]!.toString("hex")) ? [] : [{ key, i }]));
    if (request.proofsOfPossession.length !== joining.length) {
      throw fail("BAD_PROOF_OF_POSSESSION", `expected ${joining.length} proof(s) of possession, one per key the current set does not hold; got ${request.proofsOfPossession.length}`);
    }
    for (const [j, { key, i }] of joining.entries()) {
      const digest = proofOfPossessionDigest(this.#options.networkId, request.keys[i]!);
      if (!verifies(digest, key, request.proofsOfPossession[j]!)) throw fail("BAD_PROOF_OF_POSSESSION", `the proof of possession of key ${i} does not verify`);
    }

    const digests = rotationDigests(this.#options.networkId, request);
    const proposerKey = current.keys[request.proposer.validatorIndex];
    if (!proposerKey || !verifies(digests.proposal, proposerKey, request.proposer.signature)) {
      throw fail("BAD_PROPOSER", "the proposal is not signed by the current set's validator it names");
    }
    const approvals = await this.#m.approvals();
    const change = added.length === 1 ? { key: `0x${added[0]}` as Hex, list: approvals.add, verb: "adding" } : { key: `0x${removed[0]}` as Hex, list: approvals.remove, verb: "removing" };
    if (!change.list.has(change.key)) {
      throw fail("NOT_APPROVED", `this node's operator has not approved ${change.verb} key ${change.key} (validator.rotationApprovals)`);
    }
    const own = Buffer.from(publicKeyRaw(this.#m.secretKey.toPublicKey()));
    const validatorIndex = current.keys.findIndex((k) => own.equals(Buffer.from(publicKeyRaw(k))));
    if (validatorIndex < 0) throw fail("NOT_A_VALIDATOR", `this node is not in the current set ${current.index}`);

    try {
      const signature = await this.#m.record.signRotationOnce(request.setIndex, digests.rotation, new Date(this.#m.clock.now()), () =>
        signatureToEip2537(this.#m.secretKey.sign(hexToBytes(digests.rotation))),
      );
      const proofOfPossession = signatureToEip2537(signProofOfPossession(this.#m.secretKey, this.#options.networkId));
      return { setIndex: request.setIndex, validatorIndex, digest: digests.rotation, signature, proofOfPossession };
    } catch (error) {
      if (error instanceof ConflictingVerdictError) {
        throw fail("CONFLICTING_ROTATION", `this node already signed another rotation (${error.signedDigest}) for set ${request.setIndex}`);
      }
      throw error;
    }
  }
}

function verifies(digest: Hex, key: PublicKey, signature: Hex): boolean {
  try {
    return verify(hexToBytes(digest), key, signatureFromEip2537(signature), false, true);
  } catch {
    return false;
  }
}

/**
 * Reads an approvals file: `{add: [key…], remove: [key…]}`, raw 96-byte keys as `keys show`
 * prints them ("publicKey"). No file approves nothing; a malformed one is an error, not "nothing".
 */
export function readRotationApprovals(file: string | undefined): RotationApprovals {
  const none = { add: new Set<Hex>(), remove: new Set<Hex>() };
  if (file === undefined || !existsSync(file)) return none;
  const document = JSON.parse(readFileSync(file, "utf8")) as { add?: unknown; remove?: unknown };
  const list = (value: unknown, field: string) => {
    if (value === undefined) return new Set<Hex>();
    if (!Array.isArray(value) || !value.every((k) => typeof k === "string" && /^0x[0-9a-fA-F]{192}$/.test(k))) {
      throw new RotationError("NOT_APPROVED", `${file}: "${field}" must be a list of raw 96-byte public keys (0x + 192 hex digits)`);
    }
    return new Set(value.map((k: string) => k.toLowerCase() as Hex));
  };
  return { add: list(document.add, "add"), remove: list(document.remove, "remove") };
}
