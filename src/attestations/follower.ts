// What the chains have recorded, followed: every VerdictRecorded log of every configured
// registry, from a backfill window at start up to each chain's confirmed head (its head minus its
// confirmations, so a reorg cannot make the node believe a record that is gone), then onwards.
// Each record's attestation is read back from its transaction and handed to the attestation
// store. This is how a node that was away (restarted, partitioned, its verdict late) learns what
// was decided, and how a node that started late has the history: the API and the event stream
// answer for attestations recorded before it existed. Logs are read in pages, since RPC
// providers cap log ranges.
import type { Logger } from "pino";
import { decodeEventLog, decodeFunctionData, type Hex, type Log } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { confirmedHead, type RegistryRef } from "../chains/registryRecords.ts";
import { decodeAttestation, type Attestation } from "../codec/attestation.ts";
import { verdictDigest } from "../codec/types.ts";
import type { Clock, Timer } from "../util/clock.ts";

const abi = SentinelRegistry.abi;

export interface FollowerOptions {
  networkId: Hex;
  pollIntervalMs: number;
  /** At start, records of this many past blocks are read (history for a node that starts late). */
  backfillBlocks: bigint;
  /** getLogs asks for at most this many blocks at a time. */
  maxLogRange: bigint;
}

export const DEFAULT_FOLLOWER: Omit<FollowerOptions, "networkId"> = {
  pollIntervalMs: 2_000,
  backfillBlocks: 1_000_000n,
  maxLogRange: 10_000n,
};

export interface FollowedChain extends RegistryRef {
  chainId: number;
}

export interface FollowerModules {
  chains: readonly FollowedChain[];
  /** Hands a recorded attestation to the store (which ignores one it holds). */
  accept(attestation: Attestation, digest: Hex, recordedOn: readonly number[]): Promise<unknown>;
  hasAttestation(candidateId: Hex): Promise<boolean>;
  clock: Clock;
  logger: Logger;
}

export class AttestationFollower {
  readonly #options: FollowerOptions;
  readonly #m: FollowerModules;
  /** Per chain, the last block whose logs were applied. */
  readonly #covered = new Map<number, bigint>();
  #timer: Timer | undefined;
  #stopped = false;
  #polling: Promise<void> | undefined;
  readonly stats = { polls: 0, found: 0, failures: 0 };

  constructor(options: Partial<FollowerOptions> & { networkId: Hex }, modules: FollowerModules) {
    this.#options = { ...DEFAULT_FOLLOWER, ...options };
    this.#m = modules;
  }

  start(): void {
    const loop = () => {
      this.#timer = this.#m.clock.setTimeout(() => {
        void this.poll().finally(() => {
          if (!this.#stopped) loop();
        });
      }, this.#options.pollIntervalMs);
    };
    void this.poll().finally(() => {
      if (!this.#stopped) loop();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#polling;
  }

  /** One pass over every chain's new confirmed blocks. Never rejects: the next poll retries. */
  poll(): Promise<void> {
    this.#polling ??= this.#pollOnce().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    this.stats.polls++;
    for (const chain of this.#m.chains) {
      if (this.#stopped) return;
      try {
        await this.#follow(chain);
      } catch (error) {
        this.stats.failures++;
        this.#m.logger.debug({ err: error, chainId: chain.chainId }, "reading recorded attestations failed; the next poll retries");
      }
    }
  }

  async #follow(chain: FollowedChain): Promise<void> {
    const head = await confirmedHead(chain);
    const covered = this.#covered.get(chain.chainId);
    const from = covered === undefined ? (head > this.#options.backfillBlocks ? head - this.#options.backfillBlocks : 0n) : covered + 1n;
    // Bounded: each page advances `start` by maxLogRange.
    for (let start = from; start <= head && !this.#stopped; start += this.#options.maxLogRange) {
      const end = start + this.#options.maxLogRange - 1n < head ? start + this.#options.maxLogRange - 1n : head;
      const logs = await chain.client.getLogs({ address: chain.registry, event: VERDICT_RECORDED, fromBlock: start, toBlock: end });
      for (const log of logs) await this.#apply(chain, log);
      // Applied page by page: a failure later resumes after the last complete page.
      this.#covered.set(chain.chainId, end);
    }
  }

  async #apply(chain: FollowedChain, log: Log): Promise<void> {
    const { args } = decodeEventLog({ abi, eventName: "VerdictRecorded", data: log.data, topics: log.topics });
    const { digest, candidateId } = args as { digest: Hex; candidateId: Hex };
    if (!log.transactionHash || (await this.#m.hasAttestation(candidateId))) return;
    const transaction = await chain.client.getTransaction({ hash: log.transactionHash });
    let call;
    try {
      call = decodeFunctionData({ abi, data: transaction.input });
    } catch {
      return; // Submitted through another contract: the bytes are not in this input.
    }
    if (call.functionName !== "submitAttestation") return;
    const attestation = decodeAttestation(call.args[0]);
    if (verdictDigest(this.#options.networkId, attestation.verdict) !== digest) return;
    this.stats.found++;
    await this.#m.accept(attestation, digest, [chain.chainId]);
  }
}

const VERDICT_RECORDED = abi.find((item) => item.type === "event" && item.name === "VerdictRecorded") as Extract<
  (typeof abi)[number],
  { type: "event"; name: "VerdictRecorded" }
>;
