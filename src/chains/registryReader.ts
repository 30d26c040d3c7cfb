// Typed reads of one chain's SentinelRegistry: validator sets (with their keys parsed into blst
// public keys), recorded digests, approvals and enrollments. What the chain returns is parsed
// here, at the boundary; callers get typed objects or a typed error, never raw words.
import { PublicKey } from "@chainsafe/blst";
import { getAddress, hexToBytes, type Address, type Hex, type PublicClient } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import type { ValidatorSetView as ValidatorSetMembers } from "../consensus/validatorSet.ts";
import { MAX_VALIDATORS } from "../consensus/validatorSet.ts";
import { G1_RAW_LENGTH } from "../crypto/bls.ts";
import { SentinelError } from "../errors.ts";

const abi = SentinelRegistry.abi;

/** The registry's MAX_PROPOSERS: an enrollment read back with more is refused as malformed. */
const MAX_PROPOSERS = 32;

export interface RegistryReaderOptions {
  chainId: number;
  registry: Address;
}

export interface RegistryReaderModules {
  client: PublicClient;
}

/** A validator set as the registry holds it. */
/** A validator set as the registry holds it: the members, plus how long it stays valid. */
export interface ValidatorSetView extends ValidatorSetMembers {
  /** The set's keys in the registry's (signer-bitmap) order, validated by blst. */
  keys: PublicKey[];
  /** Unix seconds; 2^64 - 1 while the set is current, now + grace once it was replaced. */
  validUntil: bigint;
}

export interface EnrollmentView {
  policyHash: Hex;
  /** Unix seconds of the enrollment transaction's block. */
  enrolledAt: bigint;
  proposers: Address[];
}

export type RegistryReaderErrorCode = "NO_ACTIVE_VALIDATOR_SET" | "MALFORMED_VALIDATOR_SET" | "MALFORMED_ENROLLMENT";

export class RegistryReaderError extends SentinelError<RegistryReaderErrorCode, { chainId: number; registry: Address }> {
  override name = "RegistryReaderError";

  constructor(code: RegistryReaderErrorCode, context: { chainId: number; registry: Address }, message: string) {
    super(code, `${message} (registry ${context.registry} on chain ${context.chainId})`, context);
  }

  get chainId(): number {
    return this.meta.chainId;
  }

  get registry(): Address {
    return this.meta.registry;
  }
}

export class RegistryReader {
  readonly chainId: number;
  readonly registry: Address;
  private readonly client: PublicClient;

  constructor(options: RegistryReaderOptions, modules: RegistryReaderModules) {
    const clientChainId = modules.client.chain?.id;
    if (clientChainId !== undefined && clientChainId !== options.chainId) {
      throw new Error(`RegistryReader for chain ${options.chainId} was given a client for chain ${clientChainId}`);
    }
    this.chainId = options.chainId;
    this.registry = getAddress(options.registry);
    this.client = modules.client;
  }

  /**
   * The set that verifies new verdicts and rotations now. Every field is read at one block, so a
   * rotation landing between the reads cannot mix two sets.
   * @throws RegistryReaderError NO_ACTIVE_VALIDATOR_SET before the genesis keys are all admitted.
   */
  async currentValidatorSet(): Promise<ValidatorSetView> {
    const blockNumber = await this.client.getBlockNumber({ cacheTime: 0 });
    const [active, index] = await Promise.all([
      this.client.readContract({ address: this.registry, abi, functionName: "hasActiveSet", blockNumber }),
      this.client.readContract({ address: this.registry, abi, functionName: "currentSetIndex", blockNumber }),
    ]);
    if (!active) throw this.error("NO_ACTIVE_VALIDATOR_SET", "the registry has no active validator set yet");
    const set = await this.readSet(index, blockNumber);
    if (set === undefined) throw this.error("MALFORMED_VALIDATOR_SET", `current set ${index} is not stored`);
    return set;
  }

  /** Set `index` (current or past), or undefined if the registry never activated it. */
  async validatorSet(index: number): Promise<ValidatorSetView | undefined> {
    return this.readSet(index, await this.client.getBlockNumber({ cacheTime: 0 }));
  }

  isRecorded(digest: Hex): Promise<boolean> {
    return this.client.readContract({ address: this.registry, abi, functionName: "isRecorded", args: [digest] });
  }

  /** An approval is in force: recorded, not overtaken by a reject or revoke, not expired. */
  isApproved(chainId: bigint | number, target: Address, codehash: Hex): Promise<boolean> {
    return this.client.readContract({
      address: this.registry,
      abi,
      functionName: "isApproved",
      args: [BigInt(chainId), target, codehash],
    });
  }

  /**
   * Whether `authority` enrolled `proposer` for `target`. Pass the authority resolved off chain
   * (see resolveUpgradeAuthority): entries written by anyone else mean nothing.
   */
  isEnrolledProposer(target: Address, authority: Address, proposer: Address): Promise<boolean> {
    return this.client.readContract({
      address: this.registry,
      abi,
      functionName: "isEnrolledProposer",
      args: [target, authority, proposer],
    });
  }

  /**
   * `authority`'s enrollment of `target` (at `blockNumber`, else the latest block), or undefined
   * if it has none (an empty list unenrolls).
   */
  async enrollment(target: Address, authority: Address, options: { blockNumber?: bigint } = {}): Promise<EnrollmentView | undefined> {
    const entry = await this.client.readContract({
      address: this.registry,
      abi,
      functionName: "enrollment",
      args: [target, authority],
      ...(options.blockNumber !== undefined && { blockNumber: options.blockNumber }),
    });
    if (entry.proposers.length === 0) return undefined;
    if (entry.proposers.length > MAX_PROPOSERS) {
      throw this.error("MALFORMED_ENROLLMENT", `enrollment lists ${entry.proposers.length} proposers`);
    }
    return { policyHash: entry.policyHash, enrolledAt: entry.enrolledAt, proposers: entry.proposers.map((p) => getAddress(p)) };
  }

  private async readSet(index: number, blockNumber: bigint): Promise<ValidatorSetView | undefined> {
    const set = await this.client.readContract({
      address: this.registry,
      abi,
      functionName: "validatorSet",
      args: [index],
      blockNumber,
    });
    if (BigInt(set.keys) === 0n) return undefined;
    if (set.size < 1 || set.size > MAX_VALIDATORS || set.threshold < 1 || set.threshold > set.size) {
      throw this.error("MALFORMED_VALIDATOR_SET", `set ${index} has size ${set.size} and threshold ${set.threshold}`);
    }
    const blob = await this.client.readContract({
      address: this.registry,
      abi,
      functionName: "validatorKeys",
      args: [index],
      blockNumber,
    });
    return { index, keys: this.parseKeys(index, blob, set.size), threshold: set.threshold, validUntil: set.validUntil };
  }

  /** n * 96 raw bytes (x ‖ y) into blst keys, each checked on the curve and in the subgroup. */
  private parseKeys(index: number, blob: Hex, size: number): PublicKey[] {
    const bytes = hexToBytes(blob);
    if (bytes.length !== size * G1_RAW_LENGTH) {
      throw this.error("MALFORMED_VALIDATOR_SET", `set ${index}: ${bytes.length} key bytes for ${size} keys`);
    }
    return Array.from({ length: size }, (_, i) => {
      const raw = bytes.subarray(i * G1_RAW_LENGTH, (i + 1) * G1_RAW_LENGTH);
      try {
        return PublicKey.fromBytes(raw, true);
      } catch (cause) {
        const error = this.error("MALFORMED_VALIDATOR_SET", `set ${index}: key ${i} is not a valid G1 point`);
        error.cause = cause;
        throw error;
      }
    });
  }

  private error(code: RegistryReaderErrorCode, message: string): RegistryReaderError {
    return new RegistryReaderError(code, { chainId: this.chainId, registry: this.registry }, message);
  }
}
