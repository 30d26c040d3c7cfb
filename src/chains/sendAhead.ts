// What a relay transaction needs besides its calldata — the account's next nonce and the fees —
// read before the calldata exists. The primary relayer of a candidate knows it is primary as soon
// as it admits the candidate, seconds before the attestation forms; reading then takes the
// round trip off the critical path, where a loaded chain node made it the slowest step of the
// relay. The nonce is also tracked locally, so a prefetch older than this relayer's last
// transaction is never used with a nonce already taken.

export type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { gasPrice: bigint };

export interface SendState {
  nonce: number;
  fees: Fees;
}

export interface SendAheadOptions {
  /** A read younger than this is fresh: anticipate() does not read again. */
  refreshMs: number;
  /** A read older than this is not used: fees move, and another sender may have used the account. */
  maxAgeMs: number;
}

export const SEND_AHEAD_DEFAULTS: SendAheadOptions = { refreshMs: 3_000, maxAgeMs: 30_000 };

interface Read {
  at: number;
  state: SendState;
}

export class SendAhead {
  private readonly read: () => Promise<SendState>;
  private readonly now: () => number;
  private readonly options: SendAheadOptions;
  private latest: Read | undefined;
  private reading: Promise<Read | undefined> | undefined;
  /** The nonce after this relayer's last transaction: no state read earlier may go below it. */
  private nextNonce = 0;

  constructor(read: () => Promise<SendState>, now: () => number, options: SendAheadOptions = SEND_AHEAD_DEFAULTS) {
    this.read = read;
    this.now = now;
    this.options = options;
  }

  /**
   * Starts a read unless a fresh one is held or one is under way. Resolves when the read ends;
   * never rejects (a failed read is forgotten: the relay reads the ordinary way).
   */
  async anticipate(): Promise<void> {
    if (this.reading !== undefined) return void (await this.reading);
    if (this.latest !== undefined && this.now() - this.latest.at < this.options.refreshMs) return;
    const startedAt = this.now();
    this.reading = this.read().then(
      (state) => {
        const read = { at: startedAt, state };
        if (this.latest === undefined || this.latest.at <= startedAt) this.latest = read;
        return read;
      },
      () => undefined,
    );
    void this.reading.finally(() => (this.reading = undefined));
    await this.reading;
  }

  /**
   * The state to send with now, or undefined if nothing was anticipated in time (the caller reads
   * it the ordinary way). A usable read is taken without waiting; otherwise one under way is
   * awaited, since it started earlier than a read started now would.
   */
  async take(): Promise<SendState | undefined> {
    const usable = (read: Read | undefined) => read !== undefined && this.now() - read.at < this.options.maxAgeMs;
    let read = usable(this.latest) ? this.latest : undefined;
    if (read === undefined && this.reading !== undefined) {
      const awaited = await this.reading;
      if (usable(awaited)) read = awaited;
    }
    if (read === undefined) return undefined;
    return { nonce: Math.max(read.state.nonce, this.nextNonce), fees: read.state.fees };
  }

  /** A transaction with `nonce` was broadcast: later ones need a higher nonce. */
  used(nonce: number): void {
    this.nextNonce = Math.max(this.nextNonce, nonce + 1);
  }

  /** The node refused a transaction sent with this state (a nonce taken elsewhere...): read afresh next time. */
  forget(): void {
    this.latest = undefined;
    this.nextNonce = 0;
  }
}
