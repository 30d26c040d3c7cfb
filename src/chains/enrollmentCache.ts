// Enrollment answers for admission and the origin check. Both ask the chain the same question
// moments apart (and every node asks it for every candidate): a short-lived answer saves those
// round trips. Short, so an unenrollment takes effect within seconds. A failed read is not kept.
import type { Address, Hex } from "viem";
import type { ChainEnrollment, EnrollmentIndex } from "./enrollmentIndex.ts";
import type { Clock } from "../util/clock.ts";

export interface EnrollmentCacheOptions {
  ttlMs: number;
  maxEntries: number;
}

export const DEFAULT_ENROLLMENT_CACHE: EnrollmentCacheOptions = { ttlMs: 3_000, maxEntries: 1024 };

export interface EnrollmentCacheModules {
  /** Each served chain's enrollment index (it reads the chain when asked). */
  indexes: ReadonlyMap<number, Pick<EnrollmentIndex, "read" | "lookup">>;
  clock: Clock;
}

/** What the origin check needs: whether the proposer is enrolled, and under which authority and policy. */
export interface ProposerEnrollment {
  enrolled: boolean;
  authority?: Address;
  policyHash?: Hex;
}

export class EnrollmentCache {
  readonly #options: EnrollmentCacheOptions;
  readonly #m: EnrollmentCacheModules;
  readonly #answers = new Map<string, { at: number; answer: Promise<ChainEnrollment> }>();

  constructor(options: Partial<EnrollmentCacheOptions>, modules: EnrollmentCacheModules) {
    this.#options = { ...DEFAULT_ENROLLMENT_CACHE, ...options };
    this.#m = modules;
  }

  /** The indexed enrollment, without a chain read (undefined when the index is not current). */
  lookup(chainId: bigint, target: Address): ChainEnrollment | undefined {
    return this.#m.indexes.get(Number(chainId))?.lookup(target);
  }

  /** Rejects when the chain could not be read; a target on a chain not served has no proposers. */
  enrollmentOf(chainId: bigint, target: Address): Promise<ChainEnrollment> {
    const key = `${chainId}:${target}`;
    const now = this.#m.clock.now();
    const cached = this.#answers.get(key);
    if (cached && now - cached.at < this.#options.ttlMs) return cached.answer;
    const index = this.#m.indexes.get(Number(chainId));
    const answer = index ? index.read(target) : Promise.resolve({ proposers: [] });
    if (this.#answers.size >= this.#options.maxEntries) this.#answers.clear();
    this.#answers.set(key, { at: now, answer });
    answer.catch(() => this.#answers.get(key)?.answer === answer && this.#answers.delete(key));
    return answer;
  }

  async proposerEnrollment(chainId: bigint, target: Address, proposer: Address): Promise<ProposerEnrollment> {
    const { proposers, authority, policyHash } = await this.enrollmentOf(chainId, target);
    return { enrolled: proposers.includes(proposer), ...(authority && { authority }), ...(policyHash && { policyHash }) };
  }
}
