// Delivers each webhook's outbox, oldest first, one request at a time per webhook: a receiver
// that is down is asked once per backoff step, not once per queued event. A failed attempt
// (no answer in time, 5xx, 429, 408, a redirect) is retried with a capped exponential backoff
// with jitter, until the delivery is older than `maxAgeMs`, then given up (counted, logged).
// Any other 4xx is the receiver refusing that delivery for good: dropped (counted, logged) so
// it does not hold back the ones after it. Nothing logged names the URL or the secret.
import type { Logger } from "pino";
import { backoff } from "../util/backoff.ts";
import type { Clock, Timer } from "../util/clock.ts";
import type { OutboxEntry, WebhookOutbox } from "./outbox.ts";
import { postWebhook, type Post } from "./post.ts";
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from "./signature.ts";

export interface DispatcherOptions {
  backoffMs: { initial: number; max: number };
  /** A delivery not done by then is given up. */
  maxAgeMs: number;
  /** One attempt, connection to status line. */
  timeoutMs: number;
}

export const DEFAULT_DISPATCHER: DispatcherOptions = { backoffMs: { initial: 1_000, max: 300_000 }, maxAgeMs: 24 * 3600_000, timeoutMs: 10_000 };

export interface DispatchedWebhook {
  name: string;
  url: string;
  secret: string;
}

export interface DispatcherModules {
  outbox: WebhookOutbox;
  webhooks: readonly DispatchedWebhook[];
  clock: Clock;
  logger: Logger;
  /** In [0, 1): the jitter. */
  random?: () => number;
  post?: Post;
}

export type DeliveryResult = "delivered" | "failed" | "refused" | "expired";

interface State {
  webhook: DispatchedWebhook;
  running: Promise<void> | undefined;
  timer: Timer | undefined;
  /** Woken while draining: look again once done, or an entry queued at the end would wait for the next event. */
  again: boolean;
}

export class WebhookDispatcher {
  readonly #options: DispatcherOptions;
  readonly #m: DispatcherModules;
  readonly #states = new Map<string, State>();
  #started = false;
  #stopped = false;
  /** Aborts the attempts in flight at stop: the node does not wait out a slow receiver. */
  readonly #stopping = new AbortController();
  /** Attempts and give-ups by webhook and result. */
  readonly stats = new Map<string, Record<DeliveryResult, number>>();

  constructor(options: Partial<DispatcherOptions>, modules: DispatcherModules) {
    this.#options = { ...DEFAULT_DISPATCHER, ...options };
    this.#m = modules;
    for (const webhook of modules.webhooks) {
      this.#states.set(webhook.name, { webhook, running: undefined, timer: undefined, again: false });
      this.stats.set(webhook.name, { delivered: 0, failed: 0, refused: 0, expired: 0 });
    }
  }

  /** Starts delivering what the outbox holds. */
  start(): void {
    this.#started = true;
    for (const name of this.#states.keys()) this.wake(name);
  }

  /** Something was queued for `webhook`: delivered now, unless it is waiting out a backoff or busy. */
  wake(webhook: string): void {
    const state = this.#states.get(webhook);
    if (!state || !this.#started || this.#stopped || state.timer) return;
    if (state.running) {
      state.again = true;
      return;
    }
    state.again = false;
    state.running = this.#drain(state).finally(() => {
      state.running = undefined;
      if (state.again) this.wake(webhook);
    });
  }

  /** Stops scheduling; resolves when no attempt is in flight (what is left stays in the outbox). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping.abort();
    for (const state of this.#states.values()) {
      state.timer?.cancel();
      state.timer = undefined;
    }
    await Promise.all([...this.#states.values()].map((state) => state.running));
  }

  async #drain(state: State): Promise<void> {
    const { name } = state.webhook;
    // Bounded: every turn removes an entry or returns to wait.
    for (let turn = 0; turn < 1_000_000 && !this.#stopped; turn++) {
      let entry: OutboxEntry | undefined;
      try {
        entry = await this.#m.outbox.head(name);
        if (!entry) return;
        const now = this.#m.clock.now();
        if (now - entry.createdAt > this.#options.maxAgeMs) {
          await this.#m.outbox.remove(entry);
          this.#count(name, "expired");
          this.#m.logger.error({ webhook: name, id: entry.id, type: entry.type, attempts: entry.attempts }, "webhook delivery given up: not delivered within its maximum age");
          continue;
        }
        if (entry.nextAt > now) return this.#wakeAt(state, entry.nextAt - now);
        const result = await this.#attempt(state.webhook, entry);
        if (this.#stopped) return;
        if (result === "delivered" || result === "refused") {
          await this.#m.outbox.remove(entry);
          continue;
        }
        const base = backoff(entry.attempts + 1, this.#options.backoffMs);
        // Equal jitter: half the step fixed, so waits still grow; half random, so nodes restarted together do not retry in step.
        const wait = Math.round(base / 2 + (this.#m.random ?? Math.random)() * (base / 2));
        await this.#m.outbox.retryLater(entry, this.#m.clock.now() + wait);
        return this.#wakeAt(state, wait);
      } catch (error) {
        // The database failed: try again after the longest step rather than spin.
        this.#m.logger.error({ err: error, webhook: name }, "webhook outbox unreadable");
        return this.#wakeAt(state, this.#options.backoffMs.max);
      }
    }
  }

  async #attempt(webhook: DispatchedWebhook, entry: OutboxEntry): Promise<DeliveryResult> {
    const t = Math.floor(this.#m.clock.now() / 1000);
    const headers = { [SIGNATURE_HEADER]: signatureHeader(webhook.secret, t, entry.body), [EVENT_ID_HEADER]: entry.id };
    const log = { webhook: webhook.name, id: entry.id, type: entry.type, attempt: entry.attempts + 1 };
    let status: number;
    try {
      status = await (this.#m.post ?? postWebhook)(webhook.url, headers, entry.body, this.#options.timeoutMs, this.#stopping.signal);
    } catch (error) {
      if (this.#stopped) return "failed";
      this.#count(webhook.name, "failed");
      this.#m.logger.warn({ ...log, reason: (error as { meta?: { reason?: string } }).meta?.reason ?? "unknown" }, "webhook delivery failed; retrying later");
      return "failed";
    }
    if (status >= 200 && status < 300) {
      this.#count(webhook.name, "delivered");
      this.#m.logger.debug({ ...log, status }, "webhook delivered");
      return "delivered";
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      this.#count(webhook.name, "refused");
      this.#m.logger.error({ ...log, status }, "webhook receiver refused the delivery; dropped (check its secret and URL)");
      return "refused";
    }
    this.#count(webhook.name, "failed");
    this.#m.logger.warn({ ...log, status, ...(status >= 300 && status < 400 ? { note: "redirects are not followed; configure the final URL" } : {}) }, "webhook delivery failed; retrying later");
    return "failed";
  }

  #wakeAt(state: State, ms: number): void {
    if (this.#stopped) return;
    state.timer = this.#m.clock.setTimeout(() => {
      state.timer = undefined;
      this.wake(state.webhook.name);
    }, ms);
  }

  #count(webhook: string, result: DeliveryResult): void {
    this.stats.get(webhook)![result]++;
  }
}
