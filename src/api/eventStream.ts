// GET /v1/events: the node's event log as server-sent events. A client resumes with the standard
// `Last-Event-ID` header (or `?lastEventId=`), across its own reconnects and the node's restarts:
// it gets every kept event after that id, then live ones, each once. Heartbeat comments keep
// proxies from closing an idle stream. A client that reads slower than events arrive is cut off
// once its unread bytes pass a bound (it reconnects and resumes); the node never waits for it.
import type { IncomingMessage, ServerResponse } from "node:http";
import { SentinelError } from "../errors.ts";
import { EVENT_TYPES, subjectOf, type EventLog, type EventType, type NodeEvent } from "../events/eventLog.ts";

export interface EventStreamOptions {
  heartbeatMs: number;
  /** Unread bytes a client may have in its socket before it is cut off. */
  maxBufferedBytes: number;
  /** Events read from the database at a time while a client catches up. */
  pageSize: number;
  /** Streams open at once; more get 503. */
  maxClients: number;
  /** How long a client should wait before reconnecting (the SSE `retry` field). */
  retryMs: number;
}

export const DEFAULT_EVENT_STREAM: EventStreamOptions = {
  heartbeatMs: 15_000,
  maxBufferedBytes: 1 << 20,
  pageSize: 500,
  maxClients: 64,
  retryMs: 2_000,
};

/** A request the stream refuses before sending anything: the HTTP status is in `meta`. */
export class EventStreamError extends SentinelError<"BAD_EVENT_ID" | "BAD_QUERY" | "TOO_MANY_STREAMS", { status: number }> {
  override name = "EventStreamError";
}

/** An event id as the stream sends it; the OpenAPI document's schema uses the same pattern. */
export const EVENT_ID_PATTERN = "^(0|[1-9][0-9]{0,14})$";
const EVENT_ID = new RegExp(EVENT_ID_PATTERN);

interface Filter {
  types: Set<EventType> | undefined;
  candidateId: string | undefined;
  /** Lower-case addresses: only events about one of them (subjectOf). */
  targets: Set<string> | undefined;
  /** Decimal: only events about a target on this chain. */
  chainId: string | undefined;
}

/** Targets one stream may filter on: a protocol's proxies, not a crawl of the registry. */
export const MAX_TARGET_FILTER = 32;
export const CHAIN_ID_PATTERN = "^[1-9][0-9]{0,19}$";
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** Whether an event passes a filter; one with a target or chain filter needs a subject (subjectOf). */
export function matches(filter: Filter, event: NodeEvent): boolean {
  if (filter.types && !filter.types.has(event.type)) return false;
  if (filter.candidateId && event.candidateId !== filter.candidateId) return false;
  if (!filter.targets && !filter.chainId) return true;
  const subject = subjectOf(event);
  if (!subject) return false;
  return (!filter.targets || filter.targets.has(subject.target)) && (!filter.chainId || subject.chainId === filter.chainId);
}

/** What a request asks for: where to resume and which events; throws EventStreamError (400) on a bad value. */
export function parseEventRequest(request: IncomingMessage): { after: number; filter: Filter } {
  const url = new URL(request.url ?? "/", "http://localhost");
  const raw = request.headers["last-event-id"] ?? url.searchParams.get("lastEventId") ?? "0";
  const text = Array.isArray(raw) ? raw[0]! : raw;
  if (!EVENT_ID.test(text)) throw new EventStreamError("BAD_EVENT_ID", "Last-Event-ID must be a non-negative integer, as the stream sent it", { status: 400 });
  const typesParam = url.searchParams.get("types");
  let types: Set<EventType> | undefined;
  if (typesParam !== null) {
    const asked = typesParam.split(",").filter(Boolean);
    const unknown = asked.filter((type) => !(EVENT_TYPES as readonly string[]).includes(type));
    if (unknown.length > 0 || asked.length === 0) throw new EventStreamError("BAD_QUERY", `types must be a comma-separated list of ${EVENT_TYPES.join(", ")}`, { status: 400 });
    types = new Set(asked as EventType[]);
  }
  const candidate = url.searchParams.get("candidateId");
  if (candidate !== null && !/^0x[0-9a-fA-F]{64}$/.test(candidate)) throw new EventStreamError("BAD_QUERY", "candidateId must be 0x followed by 64 hex digits", { status: 400 });
  const targetParam = url.searchParams.get("target")?.split(",") ?? [];
  if (targetParam.length > MAX_TARGET_FILTER || targetParam.some((target) => !ADDRESS.test(target))) {
    throw new EventStreamError("BAD_QUERY", `target must be 0x followed by 40 hex digits (at most ${MAX_TARGET_FILTER}, comma-separated)`, { status: 400 });
  }
  const chainId = url.searchParams.get("chainId");
  if (chainId !== null && !new RegExp(CHAIN_ID_PATTERN).test(chainId)) throw new EventStreamError("BAD_QUERY", "chainId must be a positive decimal integer", { status: 400 });
  const targets = targetParam.length > 0 ? new Set(targetParam.map((target) => target.toLowerCase())) : undefined;
  return { after: Number(text), filter: { types, candidateId: candidate?.toLowerCase(), targets, chainId: chainId ?? undefined } };
}

export function frame(event: NodeEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export class EventStream {
  readonly #options: EventStreamOptions;
  readonly #log: EventLog;
  #clients = 0;
  readonly stats = { opened: 0, cutOff: 0 };

  constructor(options: Partial<EventStreamOptions>, modules: { log: EventLog }) {
    this.#options = { ...DEFAULT_EVENT_STREAM, ...options };
    this.#log = modules.log;
  }

  get clients(): number {
    return this.#clients;
  }

  /** Serves one stream until the client goes (or is cut off). Throws EventStreamError before any byte is sent. */
  async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { after, filter } = parseEventRequest(request);
    if (this.#clients >= this.#options.maxClients) throw new EventStreamError("TOO_MANY_STREAMS", "too many event streams open; retry later", { status: 503 });
    this.#clients++;
    this.stats.opened++;
    let last = after;
    let closed = false;
    let catchingUp = true;
    const live: NodeEvent[] = [];
    const send = (text: string): boolean => {
      if (closed) return false;
      response.write(text);
      if (response.writableLength > this.#options.maxBufferedBytes) {
        this.stats.cutOff++;
        response.destroy();
        return false;
      }
      return true;
    };
    const deliver = (event: NodeEvent): boolean => {
      if (event.id <= last) return true;
      last = event.id;
      return matches(filter, event) ? send(frame(event)) : true;
    };
    // Subscribed before the replay, so nothing written meanwhile falls between the two.
    const unsubscribe = this.#log.subscribe((event) => {
      if (catchingUp) live.push(event);
      else deliver(event);
    });
    const heartbeat = setInterval(() => send(": ping\n\n"), this.#options.heartbeatMs);
    heartbeat.unref();
    const done = new Promise<void>((resolve) => {
      response.once("close", () => {
        closed = true;
        resolve();
      });
    });
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
    send(`retry: ${this.#options.retryMs}\n\n`);
    if (last < this.#log.oldestId - 1) {
      send(`: events up to ${this.#log.oldestId - 1} were pruned; resuming from the oldest kept\n\n`);
    }
    try {
      // Bounded: each page advances `last`; a client that stops reading is cut off by send().
      for (let page = 0; page < 1_000_000 && !closed; page++) {
        const events = await this.#log.read(last, this.#options.pageSize);
        if (events.length === 0) break;
        for (const event of events) if (!deliver(event)) break;
      }
      catchingUp = false;
      for (const event of live.splice(0)) if (!deliver(event)) break;
      await done;
    } finally {
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      this.#clients--;
    }
  }
}
