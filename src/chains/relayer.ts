// Relaying attestations to one chain's SentinelRegistry. One ChainRelayer per chain. Every node
// of the set may relay; the relay order (consensus/relayOrder.ts) staggers them, and each relayer checks
// the registry before it spends anything, so normally one transaction lands per digest and the
// others stop for free.
//
// Safety rules, in the order they apply:
// - a digest is relayed at most once at a time by one relayer, and never again once recorded;
// - nothing is sent unless a simulation at the latest state succeeds (the registry reverts an
//   already recorded digest with AlreadyRecorded before anything else); the one exception is the
//   primary's first attempt at an attestation aggregated on this node a moment ago (`fresh`);
// - a contract revert is deterministic: it ends the job without a retry (retrying burns gas);
// - RPC and network failures are retried with exponential backoff, up to maxAttempts;
// - a transaction is signed before it is broadcast and remembered by hash, so a send whose
//   answer was lost is followed up (receipt, mempool, nonce) and, while it may still land, only
//   ever re-broadcast byte for byte, never replaced by a second transaction.
// Two relayers of the same rank can still both land a transaction if both pass their simulation
// before either is mined; the registry then reverts the second with AlreadyRecorded
// before the pairing check, which keeps that loss small (~40k gas against ~250k).
// Relaying "until done", across outages and restarts, is attestations/relayDispatcher.ts's job.
//
// Over 500 lines because one job's attempt, follow-up of a signed transaction, receipt wait and
// send queue share the job's state and its safety rules; split apart, each would need the others'
// internals. How failures are classified lives in relayErrors.ts.
import {
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  encodeFunctionData,
  getAddress,
  hexToBigInt,
  isHex,
  keccak256,
  size,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import type { Logger } from "pino";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { decodeAttestation } from "../codec/attestation.ts";
import { verdictDigest } from "../codec/types.ts";
import { attestationGasLimit } from "./relayGas.ts";
import { relayDelayMs } from "../consensus/relayOrder.ts";
import { SendAhead, type Fees, type SendState } from "./sendAhead.ts";
import { backoff } from "../util/backoff.ts";
import { faultPoint } from "../util/faultPoints.ts";
import { classify, isAborted, isNodeRefusal, RelayAttemptError, type RelayFailureCode } from "./relayErrors.ts";

const abi = SentinelRegistry.abi;

/** Defaults for the options a caller may leave out. */
export const RELAYER_DEFAULTS = {
  /** Longer than a few blocks on any chain we target; a timeout is retried, never re-sent. */
  receiptTimeoutMs: 120_000,
  receiptPollMs: 1_000,
  /** Status records and done digests kept; the oldest finished ones are dropped first. */
  maxTrackedJobs: 1_024,
} as const;

export interface ChainRelayerOptions {
  chainId: number;
  registry: Address;
  /** Delay per relay rank: the relayer of rank r waits r * fallbackStepMs before its first check. */
  fallbackStepMs: number;
  /** Attempts per job, the first included. Only RPC or network failures use more than one. */
  maxAttempts: number;
  /** Backoff before retry n (n ≥ 1): min(max, initial * 2^(n-1)). */
  backoffMs: { initial: number; max: number };
  receiptTimeoutMs?: number;
  receiptPollMs?: number;
  maxTrackedJobs?: number;
  /**
   * The gas limit of a relay transaction: "model" (default) from the registry's cost model
   * (relayGas.ts), "estimate" by eth_estimateGas, or a fixed limit. After a transaction runs out
   * of gas at a limit that was not estimated, the relayer estimates from then on.
   */
  gas?: RelayGas;
}

export type RelayGas = "model" | "estimate" | bigint;

export interface ChainRelayerModules {
  client: PublicClient;
  wallet: WalletClient<Transport, Chain, Account>;
  logger: Logger;
  /** Milliseconds clock, for status timestamps and receipt deadlines. */
  now?: () => number;
  /** Resolves after `ms`; may honour `signal`, the relayer races it against the signal anyway. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RelayJob {
  candidateId: Hex;
  /** EIP-712 digest of the attested verdict; checked against the attestation. */
  digest: Hex;
  /** The attestation (554 bytes, 586 when bound), as submitAttestation takes it. */
  attestation: Hex;
  /** This node's rank in the candidate's relay order (relayRank). */
  rank: number;
  /**
   * The attestation was aggregated on this node a moment ago, so nothing can have recorded it
   * yet: the primary (rank 0) may send its first attempt unsimulated. Anything learned from a
   * peer or a chain, or relayed again, is not fresh and is always simulated first, so a relayer
   * that learned the outcome from the chain sends nothing.
   */
  fresh?: boolean;
}


export type RelayResult =
  | { status: "submitted"; txHash: Hex; gasUsed: bigint; blockNumber: bigint }
  /** `by` is absent when this relayer recorded the digest itself in an earlier job. */
  | { status: "already-recorded"; by?: "other-relayer" }
  | { status: "failed"; code: RelayFailureCode; error: string; attempts: number };

export type RelayJobState = "waiting" | "submitting" | "submitted" | "already-recorded" | "failed";

/** What the status API shows of one job. */
export interface RelayJobStatus {
  chainId: number;
  candidateId: Hex;
  digest: Hex;
  rank: number;
  state: RelayJobState;
  /** Attempts started so far. */
  attempts: number;
  /** The transaction this job signed, once it has one (even if it later failed or was cancelled). */
  txHash?: Hex;
  blockNumber?: bigint;
  gasUsed?: bigint;
  code?: RelayFailureCode;
  error?: string;
  createdAt: number;
  /** When this job's transaction was broadcast (ms since the epoch). */
  sentAt?: number;
  updatedAt: number;
}

export interface RelayerStats {
  submitted: number;
  alreadyRecorded: number;
  failed: number;
  retries: number;
  /** Finished status records dropped to stay within maxTrackedJobs. */
  evictedRecords: number;
  /** Jobs refused because maxTrackedJobs jobs were in flight. */
  refusedBusy: number;
}

/** A signed transaction, remembered from before its broadcast until it is settled. */
interface SignedSubmission {
  hash: Hex;
  serialized: Hex;
  from: Address;
  nonce: number;
  /** Its gas limit: a receipt that used all of it ran out of gas. */
  gas: bigint;
  /** Whether it was simulated before signing (the primary's first attempt sends unsimulated). */
  simulated: boolean;
}

interface JobRecord {
  status: RelayJobStatus;
  controller: AbortController;
}

export class ChainRelayer {
  readonly chainId: number;
  readonly registry: Address;
  private readonly options: Required<Omit<ChainRelayerOptions, "gas">>;
  private gas: RelayGas;
  private readonly client: PublicClient;
  private readonly wallet: WalletClient<Transport, Chain, Account>;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  /** Status records by digest, oldest first. */
  private readonly records = new Map<Hex, JobRecord>();
  private readonly inflight = new Map<Hex, Promise<RelayResult>>();
  /** Digests known recorded: by this relayer ("self") or someone else. */
  private readonly recorded = new Map<Hex, "self" | "other-relayer">();
  /** Signed transactions not yet settled, by digest; a later job for the digest follows them up. */
  private readonly signed = new Map<Hex, SignedSubmission>();
  /** Tail of the send queue: prepare (nonce) → sign → broadcast, one at a time. */
  private sendTail: Promise<unknown> = Promise.resolve();
  /** Nonce and fees read ahead of the primary's attestation (anticipate()). */
  private readonly ahead: SendAhead;
  private stopped = false;
  private readonly counters: RelayerStats = {
    submitted: 0,
    alreadyRecorded: 0,
    failed: 0,
    retries: 0,
    evictedRecords: 0,
    refusedBusy: 0,
  };

  constructor(options: ChainRelayerOptions, modules: ChainRelayerModules) {
    const { fallbackStepMs, maxAttempts, backoffMs } = options;
    if (!(fallbackStepMs >= 0) || !Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new Error(`relayer: fallbackStepMs must be ≥ 0 and maxAttempts an integer ≥ 1`);
    }
    if (!(backoffMs.initial >= 0) || !(backoffMs.max >= backoffMs.initial)) {
      throw new Error(`relayer: backoffMs needs 0 ≤ initial ≤ max`);
    }
    const { receiptTimeoutMs, receiptPollMs, maxTrackedJobs } = { ...RELAYER_DEFAULTS, ...options };
    if (!(receiptTimeoutMs > 0) || !(receiptPollMs > 0) || !Number.isInteger(maxTrackedJobs) || maxTrackedJobs < 1) {
      throw new Error(`relayer: receiptTimeoutMs and receiptPollMs must be > 0, maxTrackedJobs an integer ≥ 1`);
    }
    for (const [name, client] of [["client", modules.client], ["wallet", modules.wallet]] as const) {
      if (client.chain !== undefined && client.chain.id !== options.chainId) {
        throw new Error(`relayer for chain ${options.chainId} was given a ${name} for chain ${client.chain.id}`);
      }
    }
    this.options = { ...RELAYER_DEFAULTS, ...options, registry: getAddress(options.registry) };
    this.gas = options.gas ?? "model";
    this.chainId = options.chainId;
    this.registry = this.options.registry;
    this.client = modules.client;
    this.wallet = modules.wallet;
    this.log = modules.logger.child({ module: "relayer", chainId: options.chainId });
    this.now = modules.now ?? Date.now;
    this.sleep = modules.sleep ?? defaultSleep;
    this.ahead = new SendAhead(() => this.sendState(), this.now);
  }

  /** The account this relayer sends from. */
  get sender(): Address {
    return this.wallet.account.address;
  }

  /**
   * Relays one attestation: waits `rank * fallbackStepMs`, then records it unless someone did.
   * Never throws; every outcome is a RelayResult. A second call for a digest already in flight
   * joins it (and answers "already-recorded" if the first one submitted).
   */
  async relay(job: RelayJob): Promise<RelayResult> {
    if (this.stopped) return { status: "failed", code: "RELAY_STOPPED", error: "the relayer is stopped", attempts: 0 };
    const invalid = checkJob(job);
    if (invalid !== undefined) {
      this.log.warn({ candidateId: job.candidateId, digest: job.digest, reason: invalid }, "relay job refused");
      return { status: "failed", code: "RELAY_INVALID_JOB", error: invalid, attempts: 0 };
    }
    const digest = job.digest.toLowerCase() as Hex;
    const running = this.inflight.get(digest);
    if (running !== undefined) {
      const first = await running;
      if (first.status === "submitted") return { status: "already-recorded" };
      return first;
    }
    const known = this.recorded.get(digest);
    if (known !== undefined) return known === "self" ? { status: "already-recorded" } : { status: "already-recorded", by: "other-relayer" };

    const record = this.track({ ...job, digest });
    if (record === undefined) {
      this.counters.refusedBusy++;
      return { status: "failed", code: "RELAY_BUSY", error: "too many relay jobs in flight", attempts: 0 };
    }
    const promise = this.run({ ...job, digest }, record).finally(() => this.inflight.delete(digest));
    this.inflight.set(digest, promise);
    return promise;
  }

  /**
   * This relayer is the primary for an attestation that will form soon: read the nonce and fees
   * now, so that the first attempt signs and sends at once. Cheap to call often (a fresh read is
   * kept for a few seconds); resolves when the read ends, never rejects.
   */
  async anticipate(): Promise<void> {
    if (!this.stopped && this.gas !== "estimate") await this.ahead.anticipate();
  }

  /**
   * Forgets that `digest` was recorded: a reorg removed the record, and the next relay() must
   * check the chain again instead of answering from memory.
   */
  forget(digest: Hex): void {
    this.recorded.delete(digest.toLowerCase() as Hex);
  }

  /** Aborts the pending waits of a candidate's jobs; they end as failed / RELAY_CANCELLED. */
  cancel(candidateId: Hex): number {
    let cancelled = 0;
    for (const record of this.records.values()) {
      if (!sameHex(record.status.candidateId, candidateId) || isFinal(record.status.state)) continue;
      record.controller.abort();
      cancelled++;
    }
    return cancelled;
  }

  /** Refuses new jobs, aborts every pending wait and resolves once all jobs have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const record of this.records.values()) record.controller.abort();
    await Promise.allSettled([...this.inflight.values()]);
  }

  /** Every tracked job of a candidate on this chain (a revoke is a second job), oldest first. */
  status(candidateId: Hex): RelayJobStatus[] {
    return [...this.records.values()]
      .filter((record) => sameHex(record.status.candidateId, candidateId))
      .map((record) => ({ ...record.status }));
  }

  /** When the candidate's last job started, was broadcast and was last updated (ms since the epoch). */
  timesOf(candidateId: Hex): { startedAt: number; sentAt?: number; finishedAt: number } | undefined {
    const job = this.status(candidateId).at(-1);
    return job ? { startedAt: job.createdAt, ...(job.sentAt !== undefined && { sentAt: job.sentAt }), finishedAt: job.updatedAt } : undefined;
  }

  /** Every tracked job, oldest first. */
  jobs(): RelayJobStatus[] {
    return [...this.records.values()].map((record) => ({ ...record.status }));
  }

  stats(): RelayerStats {
    return { ...this.counters };
  }

  // ---------------------------------------------------------------- one job

  private async run(job: RelayJob, record: JobRecord): Promise<RelayResult> {
    const { signal } = record.controller;
    const context = { candidateId: job.candidateId, digest: job.digest, rank: job.rank };
    let lastError = "";
    try {
      await this.wait(relayDelayMs(job.rank, this.options.fallbackStepMs), signal);
      for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
        this.update(record, { state: "submitting", attempts: attempt });
        try {
          return this.finish(record, job, await this.attempt(job, record, signal));
        } catch (error) {
          if (isAborted(error)) throw error;
          const verdict = classify(error);
          if (verdict.kind === "revert") {
            if (verdict.errorName === "AlreadyRecorded") {
              return this.finish(record, job, { status: "already-recorded", by: "other-relayer" });
            }
            return this.finish(record, job, { status: "failed", code: "RELAY_REVERTED", error: verdict.message, attempts: attempt });
          }
          if (verdict.kind === "fatal") {
            return this.finish(record, job, { status: "failed", code: verdict.code, error: verdict.message, attempts: attempt });
          }
          lastError = verdict.message;
          if (attempt === this.options.maxAttempts) break;
          const delay = backoff(attempt, this.options.backoffMs);
          this.counters.retries++;
          this.log.warn({ ...context, attempt, delayMs: delay, error: verdict.message }, "relay attempt failed, retrying");
          this.update(record, { state: "waiting", error: verdict.message });
          await this.wait(delay, signal);
        }
      }
      return this.finish(record, job, {
        status: "failed",
        code: "RELAY_RETRIES_EXHAUSTED",
        error: `gave up after ${this.options.maxAttempts} attempts: ${lastError}`,
        attempts: this.options.maxAttempts,
      });
    } catch (error) {
      if (!isAborted(error)) throw error;
      const code = this.stopped ? "RELAY_STOPPED" : "RELAY_CANCELLED";
      return this.finish(record, job, { status: "failed", code, error: "relay aborted", attempts: record.status.attempts });
    }
  }

  /**
   * One attempt. Returns a final result; throws what classify() decides about (a revert ends the
   * job, an RPC failure is retried).
   */
  private async attempt(job: RelayJob, record: JobRecord, signal: AbortSignal): Promise<RelayResult> {
    const pending = this.signed.get(job.digest);
    if (pending !== undefined) {
      const settled = await this.followUp(job, pending, signal);
      if (settled !== undefined) return settled;
    }

    this.checkpoint(signal);
    const submission = await this.serialised(async () => {
      this.checkpoint(signal);
      // The primary's first attempt sends with what anticipate() read, unsimulated: nothing can
      // have recorded the digest before the fallback relayers' first step, and a revert is
      // retried through the simulation. Every other attempt simulates first.
      const ahead =
        job.fresh === true && job.rank === 0 && record.status.attempts === 1 && this.gas !== "estimate" ? await this.ahead.take() : undefined;
      const request = ahead !== undefined ? this.requestWith(job.attestation, ahead) : await this.prepare(job.attestation);
      const serialized = await this.sign(request);
      const signedTx: SignedSubmission = {
        hash: keccak256(serialized),
        serialized,
        from: this.wallet.account.address,
        nonce: request.nonce,
        gas: request.gas,
        simulated: ahead === undefined,
      };
      this.remember(job.digest, signedTx);
      this.update(record, { txHash: signedTx.hash });
      try {
        faultPoint("relay.beforeSend");
        await this.wallet.sendRawTransaction({ serializedTransaction: serialized });
        faultPoint("relay.afterSend");
        this.ahead.used(request.nonce);
        this.update(record, { sentAt: this.now() });
      } catch (error) {
        // A refusal by the node means it was not broadcast; a lost answer may hide a broadcast.
        if (classify(error).kind !== "retry" || isNodeRefusal(error)) this.signed.delete(job.digest);
        if (ahead !== undefined) this.ahead.forget();
        throw error;
      }
      return signedTx;
    });
    this.log.debug({ candidateId: job.candidateId, digest: job.digest, txHash: submission.hash }, "attestation sent");
    return this.settle(job, submission, signal);
  }

  /**
   * The transaction to sign. Everything it needs goes out in one round trip: a simulation at the
   * latest state (a revert — AlreadyRecorded once another relayer's transaction is mined,
   * StaleVerdict, a bad signature... — ends the job before anything is signed), the nonce and the
   * fees. The gas limit comes from the registry's cost model, not from
   * eth_estimateGas, whose binary search would run the pairing check several times more;
   * in "estimate" mode the estimate is the simulation.
   */
  private async prepare(attestation: Hex) {
    const account = this.wallet.account;
    const data = submitCalldata(attestation);
    const call = { account, to: this.registry, data };
    const [estimate, state] = await Promise.all([
      this.gas === "estimate" ? this.client.estimateGas(call) : this.client.call(call).then(() => undefined),
      this.sendState(),
    ]);
    return this.requestWith(attestation, state, estimate, data);
  }

  /** The account's next nonce and the fees, read together (what anticipate() reads ahead). */
  private async sendState(): Promise<SendState> {
    const [nonce, fees] = await Promise.all([
      this.client.getTransactionCount({ address: this.wallet.account.address, blockTag: "pending" }),
      this.fees(),
    ]);
    return { nonce, fees };
  }

  private requestWith(attestation: Hex, { nonce, fees }: SendState, estimate?: bigint, data = submitCalldata(attestation)) {
    const gas = estimate ?? (typeof this.gas === "bigint" ? this.gas : attestationGasLimit(decodeAttestation(attestation).signers));
    return { to: this.registry, data, gas, nonce, chainId: this.chainId, ...fees };
  }

  /** A local key signs without asking the node anything (viem's wallet would ask its chain id). */
  private sign(request: ReturnType<ChainRelayer["requestWith"]>): Promise<Hex> {
    const account = this.wallet.account;
    if (account.signTransaction !== undefined) return account.signTransaction(request);
    return this.wallet.signTransaction({ ...request, account, chain: this.wallet.chain });
  }

  /**
   * EIP-1559 fees where the chain has a base fee (a cap of twice the latest base fee plus the
   * node's suggested tip, so the transaction stays includable through several full blocks), a
   * legacy gas price elsewhere. The block and the tip are asked for together: one round trip.
   */
  private async fees(): Promise<Fees> {
    const [block, tip] = await Promise.all([
      this.client.getBlock({ blockTag: "latest" }),
      this.client.request({ method: "eth_maxPriorityFeePerGas" }).then(
        (answer) => hexToBigInt(answer),
        () => undefined,
      ),
    ]);
    if (block.baseFeePerGas === null || block.baseFeePerGas === undefined) return { gasPrice: await this.client.getGasPrice() };
    const maxPriorityFeePerGas = tip ?? (await this.client.estimateMaxPriorityFeePerGas({ chain: this.wallet.chain }));
    return { maxFeePerGas: 2n * block.baseFeePerGas + maxPriorityFeePerGas, maxPriorityFeePerGas };
  }

  /**
   * A transaction of this digest was signed earlier and its fate is unknown. Its receipt settles
   * the job; if it is still in the mempool, wait for it; if the node does not know it and its nonce
   * was taken, it is dead (undefined: send afresh); otherwise broadcast the very same bytes again.
   */
  private async followUp(job: RelayJob, pending: SignedSubmission, signal: AbortSignal): Promise<RelayResult | undefined> {
    const receipt = await this.receiptOf(pending.hash);
    if (receipt !== undefined) return this.fromReceipt(job, receipt, pending);
    if (await this.isKnownTransaction(pending.hash)) return this.settle(job, pending, signal);

    const nextNonce = await this.client.getTransactionCount({ address: pending.from, blockTag: "pending" });
    if (nextNonce > pending.nonce) {
      this.signed.delete(job.digest);
      this.log.warn({ digest: job.digest, txHash: pending.hash, nonce: pending.nonce }, "signed transaction was displaced");
      return undefined;
    }
    if (await this.isRecorded(job.digest)) {
      this.signed.delete(job.digest);
      return { status: "already-recorded", by: "other-relayer" };
    }
    this.checkpoint(signal);
    await this.serialised(async () => {
      try {
        await this.wallet.sendRawTransaction({ serializedTransaction: pending.serialized });
      } catch (error) {
        // "already known" or "nonce too low": it got there after all; the receipt will tell.
        if (classify(error).kind === "retry" && !isNodeRefusal(error)) throw error;
      }
    });
    this.log.info({ digest: job.digest, txHash: pending.hash }, "re-broadcast the signed transaction");
    return this.settle(job, pending, signal);
  }

  private async settle(job: RelayJob, submission: SignedSubmission, signal: AbortSignal): Promise<RelayResult> {
    return this.fromReceipt(job, await this.awaitReceipt(submission.hash, signal), submission);
  }

  private async fromReceipt(job: RelayJob, receipt: TransactionReceipt, submission: SignedSubmission): Promise<RelayResult> {
    const gasLimit = submission.gas;
    this.signed.delete(job.digest);
    const txHash = receipt.transactionHash;
    if (receipt.status === "success") {
      return { status: "submitted", txHash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber };
    }
    // Someone's transaction got in between our simulation and our inclusion.
    if (await this.isRecorded(job.digest)) {
      this.log.warn({ digest: job.digest, txHash, gasUsed: receipt.gasUsed }, "lost the relay race on chain");
      return { status: "already-recorded", by: "other-relayer" };
    }
    // Every unit of gas used: out of gas (a revert returns what is left). The cost model does not
    // fit this chain; estimate every transaction from now on, this job's next attempt included.
    if (receipt.gasUsed >= gasLimit && this.gas !== "estimate") {
      this.gas = "estimate";
      this.log.warn({ digest: job.digest, txHash, gasLimit }, "relay transaction ran out of gas at the modelled limit; estimating gas from now on");
      throw new RelayAttemptError("OUT_OF_GAS", `transaction ${txHash} ran out of gas at ${gasLimit}; the next attempt estimates it`);
    }
    if (!submission.simulated) throw new RelayAttemptError("UNSIMULATED_REVERT", `unsimulated transaction ${txHash} reverted; the next attempt simulates first`);
    return { status: "failed", code: "RELAY_TX_REVERTED", error: `transaction ${txHash} reverted`, attempts: 0 };
  }

  /** Polls for the receipt; bounded by receiptTimeoutMs and by a poll count (time is injected). */
  private async awaitReceipt(hash: Hex, signal: AbortSignal): Promise<TransactionReceipt> {
    const { receiptTimeoutMs, receiptPollMs } = this.options;
    const deadline = this.now() + receiptTimeoutMs;
    const maxPolls = Math.ceil(receiptTimeoutMs / Math.max(receiptPollMs, 1)) + 1;
    for (let poll = 0; poll < maxPolls; poll++) {
      const receipt = await this.receiptOf(hash);
      if (receipt !== undefined) return receipt;
      if (this.now() >= deadline) break;
      await this.wait(receiptPollMs, signal);
    }
    throw new RelayAttemptError("RECEIPT_TIMEOUT", `no receipt for ${hash} within ${receiptTimeoutMs} ms`);
  }

  // ---------------------------------------------------------------- chain reads

  private isRecorded(digest: Hex): Promise<boolean> {
    return this.client.readContract({ address: this.registry, abi, functionName: "isRecorded", args: [digest] });
  }

  private async receiptOf(hash: Hex): Promise<TransactionReceipt | undefined> {
    try {
      return await this.client.getTransactionReceipt({ hash });
    } catch (error) {
      if (error instanceof TransactionReceiptNotFoundError) return undefined;
      throw error;
    }
  }

  private async isKnownTransaction(hash: Hex): Promise<boolean> {
    try {
      await this.client.getTransaction({ hash });
      return true;
    } catch (error) {
      if (error instanceof TransactionNotFoundError) return false;
      throw error;
    }
  }

  // ---------------------------------------------------------------- bookkeeping

  /** Runs `task` after every earlier send task: nonces are taken one transaction at a time. */
  private serialised<T>(task: () => Promise<T>): Promise<T> {
    const result = this.sendTail.then(task);
    this.sendTail = result.catch(() => undefined);
    return result;
  }

  private async wait(ms: number, signal: AbortSignal): Promise<void> {
    this.checkpoint(signal);
    if (ms <= 0) return;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new RelayAttemptError("ABORTED", "relay aborted"));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([this.sleep(ms, signal), aborted]);
    } finally {
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    }
    this.checkpoint(signal);
  }

  private checkpoint(signal: AbortSignal): void {
    if (signal.aborted) throw new RelayAttemptError("ABORTED", "relay aborted");
  }

  private track(job: RelayJob): JobRecord | undefined {
    // A digest relayed again (its last job failed) replaces its old record at the newest end.
    const previous = this.records.get(job.digest);
    this.records.delete(job.digest);
    if (this.records.size >= this.options.maxTrackedJobs) {
      const oldestFinished = [...this.records].find(([, record]) => isFinal(record.status.state));
      if (oldestFinished === undefined) {
        if (previous !== undefined) this.records.set(job.digest, previous);
        return undefined;
      }
      this.records.delete(oldestFinished[0]);
      this.counters.evictedRecords++;
    }
    const now = this.now();
    const record: JobRecord = {
      controller: new AbortController(),
      status: {
        chainId: this.chainId,
        candidateId: job.candidateId,
        digest: job.digest,
        rank: job.rank,
        state: "waiting",
        attempts: 0,
        createdAt: now,
        updatedAt: now,
      },
    };
    this.records.set(job.digest, record);
    return record;
  }

  private remember(digest: Hex, submission: SignedSubmission): void {
    this.signed.set(digest, submission);
    bound(this.signed, this.options.maxTrackedJobs);
  }

  private update(record: JobRecord, patch: Partial<RelayJobStatus>): void {
    Object.assign(record.status, patch, { updatedAt: this.now() });
  }

  private finish(record: JobRecord, job: RelayJob, result: RelayResult): RelayResult {
    const context = { candidateId: job.candidateId, digest: job.digest, rank: job.rank };
    switch (result.status) {
      case "submitted":
        this.counters.submitted++;
        this.recorded.set(job.digest, "self");
        this.update(record, { state: "submitted", txHash: result.txHash, blockNumber: result.blockNumber, gasUsed: result.gasUsed });
        delete record.status.error;
        this.log.info({ ...context, txHash: result.txHash, gasUsed: result.gasUsed, blockNumber: result.blockNumber }, "attestation recorded");
        break;
      case "already-recorded":
        this.counters.alreadyRecorded++;
        this.recorded.set(job.digest, result.by ?? "self");
        this.update(record, { state: "already-recorded" });
        delete record.status.error;
        this.log.debug(context, "attestation already recorded");
        break;
      case "failed": {
        this.counters.failed++;
        const attempts = result.attempts === 0 ? record.status.attempts : result.attempts;
        result = { ...result, attempts };
        this.update(record, { state: "failed", code: result.code, error: result.error, attempts });
        this.log.warn({ ...context, code: result.code, error: result.error, attempts }, "relay failed");
        break;
      }
    }
    bound(this.recorded, this.options.maxTrackedJobs);
    return result;
  }
}

// ---------------------------------------------------------------- pure helpers

function submitCalldata(attestation: Hex): Hex {
  return encodeFunctionData({ abi, functionName: "submitAttestation", args: [attestation] });
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Why a job cannot be relayed as given, or undefined. The attestation is untrusted bytes. */
function checkJob(job: RelayJob): string | undefined {
  if (!Number.isInteger(job.rank) || job.rank < 0) return `invalid rank ${job.rank}`;
  if (!isHex(job.digest) || size(job.digest) !== 32) return "digest must be 32 bytes";
  if (!isHex(job.candidateId) || size(job.candidateId) !== 32) return "candidate id must be 32 bytes";
  let attestation;
  try {
    attestation = decodeAttestation(job.attestation);
  } catch (error) {
    return `malformed attestation: ${(error as Error).message}`;
  }
  if (!sameHex(attestation.verdict.candidateId, job.candidateId)) return "candidate id does not match the attestation";
  if (!sameHex(verdictDigest(attestation.networkId, attestation.verdict), job.digest)) {
    return "digest does not match the attestation's verdict";
  }
  return undefined;
}

function isFinal(state: RelayJobState): boolean {
  return state === "submitted" || state === "already-recorded" || state === "failed";
}

function sameHex(a: Hex, b: Hex): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Drops the oldest entries of an insertion-ordered map beyond `limit`. */
function bound<K, V>(map: Map<K, V>, limit: number): void {
  while (map.size > limit) {
    const oldest = map.keys().next();
    if (oldest.done === true) return;
    map.delete(oldest.value);
  }
}
