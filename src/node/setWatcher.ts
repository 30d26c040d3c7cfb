// A node works with the validator set it read at start: its index, the aggregators' inboxes, the
// threshold. When a rotation activates on the registry it reads, that view is stale; the watcher
// notices (one cheap read every interval) and says so once, and the node is restarted with the
// new set (see `sentinel node start`). Pending candidates and relays survive a restart by design.
import type { Logger } from "pino";
import type { Clock, Timer } from "../util/clock.ts";

export interface SetWatcherOptions {
  /** The set index the node started with. */
  setIndex: number;
  intervalMs: number;
}

export const DEFAULT_SET_WATCH_INTERVAL_MS = 2_000;

export interface SetWatcherModules {
  /** The registry's current set index, read now. */
  currentSetIndex(): Promise<number>;
  onChanged(setIndex: number): void;
  clock: Clock;
  logger: Logger;
}

export class SetWatcher {
  readonly #options: SetWatcherOptions;
  readonly #m: SetWatcherModules;
  #timer: Timer | undefined;
  #stopped = false;

  constructor(options: SetWatcherOptions, modules: SetWatcherModules) {
    this.#options = options;
    this.#m = modules;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#m.clock.setTimeout(() => void this.#poll(), this.#options.intervalMs);
  }

  async #poll(): Promise<void> {
    try {
      const index = await this.#m.currentSetIndex();
      if (!this.#stopped && index !== this.#options.setIndex) {
        this.#stopped = true;
        this.#m.logger.info({ from: this.#options.setIndex, to: index }, "validator set rotated on chain");
        this.#m.onChanged(index);
        return;
      }
    } catch (error) {
      // A chain that does not answer now is the durable relay's concern, not a rotation.
      this.#m.logger.debug({ err: error }, "could not read the current validator set index");
    }
    this.#schedule();
  }
}
