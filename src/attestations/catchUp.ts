// Catch-up from the chains: a candidate this node signed and holds no attestation for may have
// been attested while this node was away (restarted, partitioned, its verdict late). Every
// interval, each such candidate old enough not to be simply in flight is looked up on every
// chain: only a record at the confirmed head counts, and its attestation is read back from the
// recording transaction, through logs read in pages.
import type { Logger } from "pino";
import type { Hex } from "viem";
import type { Attestation } from "../codec/attestation.ts";
import { findRecordedAttestation, recordState, DEFAULT_LOG_PAGING, type LogPaging, type RegistryRef } from "../chains/registryRecords.ts";
import type { Clock, Timer } from "../util/clock.ts";

export interface CatchUpOptions {
  networkId: Hex;
  intervalMs: number;
  /** Younger candidates are in flight, not missed: the sweep leaves them alone. */
  minAgeMs: number;
  paging: LogPaging;
  /** Candidates watched at most (the oldest are dropped first; a restart rebuilds the list). */
  maxWatched: number;
}

export const DEFAULT_CATCH_UP: Omit<CatchUpOptions, "networkId"> = {
  intervalMs: 2_000,
  minAgeMs: 10_000,
  paging: DEFAULT_LOG_PAGING,
  maxWatched: 16_384,
};

export interface CatchUpChain extends RegistryRef {
  chainId: number;
}

export interface CatchUpModules {
  chains: readonly CatchUpChain[];
  /** Hands a found attestation to the attestation store. */
  accept(attestation: Attestation, digest: Hex, recordedOn: readonly number[]): Promise<unknown>;
  hasAttestation(candidateId: Hex): Promise<boolean>;
  clock: Clock;
  logger: Logger;
}

interface Watched {
  digest: Hex;
  admittedAt: number;
  expiresAt: number;
}

export class ChainCatchUp {
  readonly #options: CatchUpOptions;
  readonly #m: CatchUpModules;
  /**
   * Kept in memory (rebuilt at start from the store) so a sweep every 2 s costs what is pending,
   * not a read of every candidate ever stored.
   */
  readonly #watched = new Map<Hex, Watched>();
  #timer: Timer | undefined;
  #stopped = false;
  #sweeping: Promise<void> | undefined;
  readonly stats = { sweeps: 0, found: 0, failures: 0 };

  constructor(options: Partial<CatchUpOptions> & { networkId: Hex }, modules: CatchUpModules) {
    this.#options = { ...DEFAULT_CATCH_UP, ...options };
    this.#m = modules;
  }

  get watching(): number {
    return this.#watched.size;
  }

  /** Looks for the attestation of a candidate this node signed `digest` for. */
  watch(candidateId: Hex, digest: Hex, admittedAtMs: number, expiresAtMs: number): void {
    this.#watched.delete(candidateId);
    this.#watched.set(candidateId, { digest, admittedAt: admittedAtMs, expiresAt: expiresAtMs });
    while (this.#watched.size > this.#options.maxWatched) this.#watched.delete(this.#watched.keys().next().value!);
  }

  unwatch(candidateId: Hex): void {
    this.#watched.delete(candidateId);
  }

  start(): void {
    const loop = () => {
      this.#timer = this.#m.clock.setTimeout(() => {
        void this.sweep().finally(() => {
          if (!this.#stopped) loop();
        });
      }, this.#options.intervalMs);
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#sweeping;
  }

  /** One pass over the watched candidates. Never rejects: the next sweep retries. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweepOnce().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<void> {
    this.stats.sweeps++;
    const now = this.#m.clock.now();
    for (const [id, { digest, admittedAt, expiresAt }] of [...this.#watched]) {
      if (this.#stopped) return;
      try {
        if (expiresAt <= now || (await this.#m.hasAttestation(id))) {
          this.#watched.delete(id);
          continue;
        }
        if (admittedAt > now - this.#options.minAgeMs) continue;
        const found = await this.#find(digest);
        if (found) {
          this.stats.found++;
          this.#watched.delete(id);
          this.#m.logger.info({ candidate: id, chainId: found.chainId }, "attestation found on a chain");
          await this.#m.accept(found.attestation, digest, [found.chainId]);
        }
      } catch (error) {
        this.stats.failures++;
        this.#m.logger.debug({ err: error, candidate: id }, "catch-up read failed; the next sweep retries");
      }
    }
  }

  async #find(digest: Hex): Promise<{ attestation: Attestation; chainId: number } | undefined> {
    for (const chain of this.#m.chains) {
      if ((await recordState(chain, digest)) !== "final") continue;
      const head = await chain.client.getBlockNumber({ cacheTime: 0 });
      const toBlock = head - BigInt(chain.confirmations);
      const attestation = await findRecordedAttestation(chain, this.#options.networkId, digest, toBlock < 0n ? 0n : toBlock, this.#options.paging);
      if (attestation) return { attestation, chainId: chain.chainId };
    }
    return undefined;
  }
}
