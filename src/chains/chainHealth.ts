// Whether a chain's RPC answers, as this node's own reads find it: the enrollment index polls
// every chain every second, and /ready asks too. A change is logged once each way (unreachable,
// reachable again), by chain id and a short reason: never the RPC URL, which may carry an API key,
// and never viem's whole error, which repeats the URL.
import type { Logger } from "pino";
import { rpcFailureReason } from "../log/logger.ts";
import type { Clock } from "../util/clock.ts";

export interface ChainHealthStatus {
  chainId: number;
  /** null until the first read ends. */
  reachable: boolean | null;
  /** When it last changed (ms since the epoch), or null before the first read. */
  since: number | null;
  /** Why the last read failed, while unreachable. */
  reason: string | null;
}

export class ChainHealth {
  readonly #chainId: number;
  readonly #log: Logger;
  readonly #clock: Pick<Clock, "now">;
  #reachable: boolean | null = null;
  #since: number | null = null;
  #reason: string | null = null;

  constructor(options: { chainId: number }, modules: { logger: Logger; clock: Pick<Clock, "now"> }) {
    this.#chainId = options.chainId;
    this.#log = modules.logger;
    this.#clock = modules.clock;
  }

  /** A read of the chain succeeded. */
  up(): void {
    if (this.#reachable === true) return;
    const now = this.#clock.now();
    if (this.#reachable === false) this.#log.info({ chainId: this.#chainId, downForMs: now - this.#since! }, "chain reachable again");
    this.#reachable = true;
    this.#since = now;
    this.#reason = null;
  }

  /** A read of the chain failed: `error` gives the reason (its URL and request left out). */
  down(error: unknown): void {
    this.#reason = rpcFailureReason(error);
    if (this.#reachable === false) return;
    this.#reachable = false;
    this.#since = this.#clock.now();
    this.#log.warn({ chainId: this.#chainId, reason: this.#reason }, "chain unreachable");
  }

  get status(): ChainHealthStatus {
    return { chainId: this.#chainId, reachable: this.#reachable, since: this.#since, reason: this.#reason };
  }
}
