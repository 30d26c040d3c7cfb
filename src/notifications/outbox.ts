// The webhook outbox: one record per (webhook, event) still to deliver, in the `webhooks`
// sublevel, written in the event log's own batch (EventRecorder), so an event recorded is an
// event that will be delivered, across crashes and restarts. Bounded per webhook: an event that
// finds its webhook's outbox full is not queued, and that is counted and logged (the first
// drop, and again when room comes back with the number dropped meanwhile).
import type { Logger } from "pino";
import type { BatchOperation, Database, Sublevel } from "../db/database.ts";
import { subjectOf, type EventRecorder, type NodeEvent } from "../events/eventLog.ts";
import { deliveryIdOf } from "./deliveryId.ts";

export interface OutboxEntry {
  [key: string]: string | number;
  webhook: string;
  /** The receiver's deduplication key (deliveryId.ts). */
  id: string;
  type: string;
  /** The event log's id on this node. */
  eventId: number;
  /** When the event happened (ms): the delivery's age counts from here. */
  createdAt: number;
  /** The exact bytes sent on every attempt (the signature covers them). */
  body: string;
  attempts: number;
  /** Not before (ms). */
  nextAt: number;
}

/** What the outbox needs of a configured webhook. */
export interface OutboxWebhook {
  name: string;
  events: readonly string[];
  /** `chainId:lower-case address`; absent: every event of the types. */
  targets?: ReadonlySet<string>;
}

export interface OutboxOptions {
  /** Entries kept per webhook. */
  maxEntries: number;
  /** Tells apart the events only this node has (deliveryId.ts). */
  nodeKey: string;
  /** Appears in every body, so a receiver knows which node sent it. */
  nodeName: string;
}

export interface OutboxModules {
  db: Database;
  logger: Logger;
  webhooks: readonly OutboxWebhook[];
  /** An entry of this webhook was written. */
  onQueued?: (webhook: string) => void;
}

const keyOf = (webhook: string, eventId: number) => `${webhook}/${eventId.toString().padStart(16, "0")}`;

export class WebhookOutbox implements EventRecorder {
  readonly #options: OutboxOptions;
  readonly #m: OutboxModules;
  readonly #entries: Sublevel<OutboxEntry>;
  /** Entries per webhook, those being written included. */
  readonly #sizes = new Map<string, number>();
  /** Drops since the outbox was last found with room, per webhook (for the log). */
  readonly #droppedRun = new Map<string, number>();
  readonly stats = { queued: new Map<string, number>(), dropped: new Map<string, number>() };

  constructor(options: OutboxOptions, modules: OutboxModules) {
    this.#options = options;
    this.#m = modules;
    this.#entries = modules.db.sublevel<OutboxEntry>("webhooks");
  }

  /** Counts what a previous run left to deliver; entries of webhooks no longer configured are deleted. */
  async open(): Promise<void> {
    const names = new Set(this.#m.webhooks.map((w) => w.name));
    for (const name of names) this.#sizes.set(name, 0);
    const stale: BatchOperation[] = [];
    // Bounded by what the outboxes held: maxEntries per webhook, plus what unconfigured ones left.
    for await (const [key, entry] of this.#entries.entries()) {
      if (names.has(entry.webhook)) this.#sizes.set(entry.webhook, this.#sizes.get(entry.webhook)! + 1);
      else stale.push({ sublevel: "webhooks", key, del: true });
    }
    if (stale.length > 0) {
      await this.#m.db.batch(stale, { sync: false });
      this.#m.logger.info({ deleted: stale.length }, "deleted the pending deliveries of webhooks no longer configured");
    }
  }

  size(webhook: string): number {
    return this.#sizes.get(webhook) ?? 0;
  }

  opsFor(event: NodeEvent): BatchOperation[] {
    const ops: BatchOperation[] = [];
    let body: string | undefined;
    for (const webhook of this.#m.webhooks) {
      if (!wants(webhook, event)) continue;
      const size = this.size(webhook.name);
      if (size >= this.#options.maxEntries) {
        this.#dropped(webhook.name, event);
        continue;
      }
      this.#roomAgain(webhook.name);
      this.#sizes.set(webhook.name, size + 1);
      const id = deliveryIdOf(event, this.#options.nodeKey);
      body ??= JSON.stringify({ id, type: event.type, at: event.at, node: this.#options.nodeName, eventId: event.id, candidateId: event.candidateId, data: event.data });
      const entry: OutboxEntry = { webhook: webhook.name, id, type: event.type, eventId: event.id, createdAt: event.at, body, attempts: 0, nextAt: 0 };
      ops.push({ sublevel: "webhooks", key: keyOf(webhook.name, event.id), value: entry });
    }
    return ops;
  }

  recorded(_event: NodeEvent, ops: BatchOperation[]): void {
    for (const op of ops) {
      if (!("value" in op)) continue;
      const webhook = (op.value as OutboxEntry).webhook;
      this.stats.queued.set(webhook, (this.stats.queued.get(webhook) ?? 0) + 1);
      this.#m.onQueued?.(webhook);
    }
  }

  failed(_event: NodeEvent, ops: BatchOperation[]): void {
    for (const op of ops) if ("value" in op) this.#sizes.set((op.value as OutboxEntry).webhook, this.size((op.value as OutboxEntry).webhook) - 1);
  }

  /** The oldest entry of a webhook. */
  async head(webhook: string): Promise<OutboxEntry | undefined> {
    for await (const [, entry] of this.#entries.entries({ gte: `${webhook}/`, lt: `${webhook}0`, limit: 1 })) return entry;
    return undefined;
  }

  /** Records a failed attempt: the next one not before `nextAt`. */
  async retryLater(entry: OutboxEntry, nextAt: number): Promise<OutboxEntry> {
    const next = { ...entry, attempts: entry.attempts + 1, nextAt };
    await this.#entries.put(keyOf(entry.webhook, entry.eventId), next);
    return next;
  }

  /** Delivered, refused for good, or too old: gone. */
  async remove(entry: OutboxEntry): Promise<void> {
    await this.#entries.del(keyOf(entry.webhook, entry.eventId));
    this.#sizes.set(entry.webhook, Math.max(0, this.size(entry.webhook) - 1));
  }

  #dropped(webhook: string, event: NodeEvent): void {
    this.stats.dropped.set(webhook, (this.stats.dropped.get(webhook) ?? 0) + 1);
    const run = (this.#droppedRun.get(webhook) ?? 0) + 1;
    this.#droppedRun.set(webhook, run);
    if (run === 1) this.#m.logger.error({ webhook, type: event.type, eventId: event.id, maxEntries: this.#options.maxEntries }, "webhook outbox full: events are not queued for it until deliveries succeed (counted in sentinel_webhook_deliveries_total{result=\"dropped\"})");
  }

  #roomAgain(webhook: string): void {
    const run = this.#droppedRun.get(webhook);
    if (run === undefined) return;
    this.#droppedRun.delete(webhook);
    this.#m.logger.warn({ webhook, dropped: run }, "webhook outbox has room again; events were not queued meanwhile");
  }
}

function wants(webhook: OutboxWebhook, event: NodeEvent): boolean {
  if (!webhook.events.includes(event.type)) return false;
  if (!webhook.targets) return true;
  const subject = subjectOf(event);
  return subject !== undefined && webhook.targets.has(`${subject.chainId}:${subject.target}`);
}
