// Who may propose for each enrolled target of one chain, kept current from the chain's logs, so
// that admitting a candidate needs no chain read. At 32 nodes, admission's three round trips
// (code, admin slot and owner; the admin's owner; the registry entry) were most of its time:
// every node asks them at the same moment, and each hop of the candidate's gossip waits for them.
//
// The index is a cache, never an authority: it answers only while its last poll of the chain is
// recent, it answers only "enrolled" (a proposer it does not list gets a fresh read, so a stale
// entry can never refuse an honest candidate), and the verification's origin check reads the
// chain again. An entry is dropped when the registry emits Enrolled for its target, or when the
// target or its ERC-1967 admin emits any log (ownership transfers, admin changes, upgrades), and
// is read again after maxAgeMs in case a contract changed its owner without an event.
import { getAddress, isAddressEqual, toEventSelector, type Address, type Hex, type PublicClient } from "viem";
import type { Logger } from "pino";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { NoUpgradeAuthority, resolveUpgradeAuthority, wordAddress } from "./authority.ts";
import type { RegistryReader } from "./registryReader.ts";
import { confirmedHead } from "./registryRecords.ts";

/** A target's enrollment as the chain holds it: admission reads the proposers, the origin check the policy too. Empty proposers: nobody may propose. */
export interface ChainEnrollment {
  proposers: readonly Address[];
  authority?: Address;
  policyHash?: Hex;
}

export interface EnrollmentIndexOptions {
  /** How often the chain's head is polled for new logs. */
  pollIntervalMs: number;
  /** The index answers only while its last complete poll is at most this old. */
  freshForMs: number;
  /** An entry is read again after this long, even without a log. */
  maxAgeMs: number;
  /** At start, Enrolled events of this many past blocks are indexed; older enrollments are indexed when first read. */
  backfillBlocks: bigint;
  /** getLogs asks for at most this many blocks at a time (RPC providers cap the range). */
  maxLogRange: bigint;
  /**
   * The chain's confirmations: the index reads and applies logs only up to the head minus this
   * many blocks, so a reorg cannot make it believe an enrollment that is gone.
   */
  confirmations: number;
}

export const DEFAULT_ENROLLMENT_INDEX: EnrollmentIndexOptions = {
  pollIntervalMs: 1_000,
  freshForMs: 3_000,
  maxAgeMs: 10 * 60_000,
  backfillBlocks: 1_000_000n,
  maxLogRange: 10_000n,
  confirmations: 0,
};

export interface EnrollmentIndexModules {
  client: PublicClient;
  reader: RegistryReader;
  logger: Logger;
  now?(): number;
  /** Told how each poll ended (the chain's health): undefined when it succeeded, else its error. */
  onPoll?(error: unknown): void;
}

interface Entry {
  enrollment: ChainEnrollment;
  /** The target, and its ERC-1967 admin if it has one: a log from either drops the entry. */
  watched: Address[];
  readAtMs: number;
}

/** Targets resolved at once while polling: a backfill of many targets must not flood the RPC. */
const RESOLVE_CONCURRENCY = 4;
const ENROLLED_TOPIC = toEventSelector(SentinelRegistry.abi.find((item) => item.type === "event" && item.name === "Enrolled")!);

export class EnrollmentIndex {
  readonly #options: EnrollmentIndexOptions;
  readonly #client: PublicClient;
  readonly #reader: RegistryReader;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #onPoll: ((error: unknown) => void) | undefined;
  readonly #entries = new Map<Address, Entry>();
  /** Watched address → the targets whose entries it can invalidate. */
  readonly #watchers = new Map<Address, Set<Address>>();
  /** The last block whose logs were applied. */
  #covered: bigint | undefined;
  #lastPollAtMs = -Infinity;
  #polling = false;
  #polls = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: Partial<EnrollmentIndexOptions>, modules: EnrollmentIndexModules) {
    this.#options = { ...DEFAULT_ENROLLMENT_INDEX, ...options };
    this.#client = modules.client;
    this.#reader = modules.reader;
    this.#log = modules.logger;
    this.#now = modules.now ?? Date.now;
    this.#onPoll = modules.onPoll;
  }

  /** Polls until stop(); the first poll indexes the backfill window. */
  start(): void {
    const loop = async () => {
      await this.poll();
      if (!this.#stopped) this.#timer = setTimeout(() => void loop(), this.#options.pollIntervalMs);
    };
    void loop();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Indexed targets (for metrics and tests). */
  get size(): number {
    return this.#entries.size;
  }

  /** The indexed enrollment of `target`, or undefined if it is not indexed or the index is not current. */
  lookup(target: Address): ChainEnrollment | undefined {
    if (this.#now() - this.#lastPollAtMs > this.#options.freshForMs) return undefined;
    return this.#entries.get(getAddress(target))?.enrollment;
  }

  /**
   * Reads the enrollment of `target` from the chain now (the latest block) and indexes it if it
   * lists proposers. Rejects when the chain could not be read.
   */
  async read(target: Address): Promise<ChainEnrollment> {
    const address = getAddress(target);
    // Kept only if no poll ran meanwhile: a poll that scanned the logs without watching this
    // target could have missed one that changes it.
    const polls = this.#polls;
    const idle = !this.#polling;
    const at = this.#options.confirmations === 0 ? "latest" : await this.confirmedHead();
    const { enrollment, watched } = await this.resolve(address, at);
    if (idle && !this.#polling && polls === this.#polls && enrollment.proposers.length > 0) this.put(address, enrollment, watched);
    return enrollment;
  }

  /** One poll: apply the logs of the blocks since the last one, then read again what they touched. */
  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    this.#polls++;
    try {
      const head = await this.confirmedHead();
      const backfillFrom = head >= this.#options.backfillBlocks ? head - this.#options.backfillBlocks : 0n;
      const from = this.#covered === undefined ? backfillFrom : this.#covered + 1n;
      const stale = new Set<Address>();
      for (let start = from; start <= head; start += this.#options.maxLogRange) {
        const end = start + this.#options.maxLogRange - 1n < head ? start + this.#options.maxLogRange - 1n : head;
        for (const target of await this.touched(start, end)) stale.add(target);
      }
      const now = this.#now();
      for (const [target, entry] of this.#entries) if (now - entry.readAtMs > this.#options.maxAgeMs) stale.add(target);
      for (const target of stale) this.drop(target);
      await this.reindex([...stale], head);
      if (this.#covered === undefined || head > this.#covered) this.#covered = head;
      this.#lastPollAtMs = this.#now();
      this.#onPoll?.(undefined);
    } catch (error) {
      // Not current any more: lookups miss until a poll succeeds, and admission reads the chain.
      this.#log.debug({ err: error }, "enrollment index poll failed");
      this.#onPoll?.(error);
    } finally {
      this.#polling = false;
    }
  }

  private confirmedHead(): Promise<bigint> {
    return confirmedHead({ client: this.#client, confirmations: this.#options.confirmations });
  }

  /** Targets whose enrollment the logs of blocks [from, to] may have changed. */
  private async touched(from: bigint, to: bigint): Promise<Set<Address>> {
    const registry = this.#reader.registry;
    const logs = await this.#client.getLogs({ address: [registry, ...this.#watchers.keys()], fromBlock: from, toBlock: to });
    const targets = new Set<Address>();
    for (const log of logs) {
      const emitter = getAddress(log.address);
      if (isAddressEqual(emitter, registry)) {
        const [topic, targetWord] = log.topics;
        if (topic === ENROLLED_TOPIC && targetWord) targets.add(wordAddress(targetWord));
        continue;
      }
      for (const target of this.#watchers.get(emitter) ?? []) targets.add(target);
    }
    return targets;
  }

  private async reindex(targets: Address[], blockNumber: bigint): Promise<void> {
    const queue = [...targets];
    const worker = async () => {
      for (let target = queue.shift(); target !== undefined; target = queue.shift()) {
        try {
          const { enrollment, watched } = await this.resolve(target, blockNumber);
          if (enrollment.proposers.length > 0) this.put(target, enrollment, watched);
        } catch (error) {
          // Left out of the index: admission reads it from the chain, and indexes it again then.
          this.#log.debug({ err: error, target }, "enrollment index could not read a target");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(RESOLVE_CONCURRENCY, queue.length) }, worker));
  }

  private async resolve(target: Address, at: bigint | "latest"): Promise<{ enrollment: ChainEnrollment; watched: Address[] }> {
    const pinned = at === "latest" ? {} : { blockNumber: at };
    try {
      const { authority, admin } = await resolveUpgradeAuthority(this.#client, target, pinned);
      const watched = admin ? [target, admin] : [target];
      const entry = await this.#reader.enrollment(target, authority, pinned);
      const enrollment = entry ? { proposers: entry.proposers, authority, policyHash: entry.policyHash } : { proposers: [], authority };
      return { enrollment, watched };
    } catch (error) {
      if (!(error instanceof NoUpgradeAuthority)) throw error;
      return { enrollment: { proposers: [] }, watched: [target] };
    }
  }

  private put(target: Address, enrollment: ChainEnrollment, watched: Address[]): void {
    this.drop(target);
    this.#entries.set(target, { enrollment, watched, readAtMs: this.#now() });
    for (const address of watched) {
      const targets = this.#watchers.get(address) ?? new Set<Address>();
      targets.add(target);
      this.#watchers.set(address, targets);
    }
  }

  private drop(target: Address): void {
    const entry = this.#entries.get(target);
    if (!entry) return;
    this.#entries.delete(target);
    for (const address of entry.watched) {
      const targets = this.#watchers.get(address);
      targets?.delete(target);
      if (targets?.size === 0) this.#watchers.delete(address);
    }
  }
}
