// What an API client may cost the node in refused requests. Every request the node refuses as
// malformed (a 4xx other than "no such candidate yet", a conflict or this very refusal) is
// parsed, validated and answered in full, and on one event loop: an address that keeps sending
// them delays every honest client's answers (issue #16's fuzz: a valid request's p99 at 2.5–4×
// idle). So each source address has a budget of refusals, refilled over time (a token bucket);
// once it is spent, the source's connections get a fixed 429 as they are accepted, before a byte
// of their request is parsed, until the budget has refilled enough for one more request.
//
// Sources are keyed by IPv4 address and by IPv6 /64 (one host usually holds a whole /64). The
// table is bounded: past `maxSources`, the source seen least recently is forgotten (which can only
// ever free an abusive source early, never shed an honest one).
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { isIPv4, isIPv6, type Socket } from "node:net";
import type { Clock } from "../util/clock.ts";
import { endSocketWithJson, sendJson } from "./rawReply.ts";

/** The node's log line for an address going over its budget: once per episode (over, then refilled). */
export const OVER_BUDGET = "an API client is over its refusal budget: answered 429 until it refills";

export interface RefusalBudgetOptions {
  /** Refused requests a source may send at once (the bucket's size). */
  readonly refusals: number;
  /** Seconds over which a spent budget refills to `refusals`. */
  readonly perSeconds: number;
  /** Sources remembered at most. */
  readonly maxSources?: number;
}

const DEFAULT_MAX_SOURCES = 10_000;

interface Bucket {
  tokens: number;
  at: number;
  /** This source is over its budget and has been logged as such. */
  over: boolean;
}

export interface RefusalBudgetStats {
  /** Requests refused and charged to their source. */
  charged: number;
  /** Requests and connections answered 429 without being read. */
  shed: number;
  /** Times a source went over its budget. */
  sourcesOver: number;
}

export class RefusalBudget {
  readonly stats: RefusalBudgetStats = { charged: 0, shed: 0, sourcesOver: 0 };
  readonly #buckets = new Map<string, Bucket>();
  readonly #capacity: number;
  /** Tokens per millisecond. */
  readonly #rate: number;
  readonly #maxSources: number;
  readonly #clock: Pick<Clock, "now">;
  readonly #onOver: (source: string) => void;

  constructor(options: RefusalBudgetOptions, modules: { clock: Pick<Clock, "now">; onOver?: (source: string) => void }) {
    if (!(options.refusals >= 1) || !(options.perSeconds > 0)) throw new RangeError("a refusal budget needs refusals ≥ 1 and perSeconds > 0");
    this.#capacity = options.refusals;
    this.#rate = options.refusals / (options.perSeconds * 1000);
    this.#maxSources = options.maxSources ?? DEFAULT_MAX_SOURCES;
    this.#clock = modules.clock;
    this.#onOver = modules.onOver ?? (() => undefined);
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** One refused request from `address`. */
  charge(address: string | undefined): void {
    const source = sourceOf(address);
    if (source === undefined) return;
    const bucket = this.#refilled(source);
    this.stats.charged++;
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    if (bucket.tokens < 1 && !bucket.over) {
      bucket.over = true;
      this.stats.sourcesOver++;
      this.#onOver(source);
    }
  }

  /** Whole seconds until `address` may be served again; 0 when it may be now. */
  retryAfter(address: string | undefined): number {
    const source = sourceOf(address);
    if (source === undefined) return 0;
    const bucket = this.#buckets.get(source);
    if (bucket === undefined) return 0;
    const tokens = this.#tokensAt(bucket, this.#clock.now());
    if (tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - tokens) / this.#rate / 1000));
  }

  /** What `bucket` holds at `now`, refilled since it was last charged. */
  #tokensAt(bucket: Bucket, now: number): number {
    return Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#rate);
  }

  /** The source's bucket refilled to now, and moved to the most recently seen end. */
  #refilled(source: string): Bucket {
    const now = this.#clock.now();
    let bucket = this.#buckets.get(source);
    if (bucket === undefined) {
      bucket = { tokens: this.#capacity, at: now, over: false };
      if (this.#buckets.size >= this.#maxSources) this.#buckets.delete(this.#buckets.keys().next().value!);
    } else {
      this.#buckets.delete(source);
      bucket.tokens = this.#tokensAt(bucket, now);
      bucket.at = now;
      if (bucket.tokens >= this.#capacity) bucket.over = false;
    }
    this.#buckets.set(source, bucket);
    return bucket;
  }
}

/** The key a budget is kept under: an IPv4 address (also when IPv4-mapped), or an IPv6 /64. */
export function sourceOf(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return undefined;
  return `${expandIPv6(address.split("%")[0]!).slice(0, 4).join(":")}::/64`;
}

/** The eight groups of an IPv6 address, as lower-case hex without leading zeros. */
function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.toLowerCase().split("::");
  const groups = (text: string) => (text === "" ? [] : text.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  // A dotted IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) holds two groups.
  const count = (list: string[]) => list.reduce((sum, group) => sum + (group.includes(".") ? 2 : 1), 0);
  const middle = Array.from({ length: Math.max(0, 8 - count(left) - count(right)) }, () => "0");
  return [...left, ...middle, ...right].map((group) => (group.includes(".") ? group : Number.parseInt(group, 16).toString(16)));
}

/**
 * Whether a refusal is charged to its source: every 4xx but a known route's 404 (a candidate or
 * attestation not there yet: relayers poll for them), a conflict (409: a duplicate approval,
 * another node's rotation) and this budget's own 429.
 */
export function chargeable(status: number, unknownRoute: boolean): boolean {
  if (status < 400 || status >= 500) return false;
  if (status === 404) return unknownRoute;
  return status !== 409 && status !== 429;
}

/** The answer of a source over its budget: a 429 that closes the connection. */
function tooMany(seconds: number): { body: Record<string, string>; headers: Record<string, string> } {
  return {
    body: { error: "RATE_LIMITED", message: `this address sent too many malformed requests; retry after ${seconds} s` },
    headers: { "Retry-After": String(seconds) },
  };
}

/** A request handler that answers a source over its budget 429 (keep-alive connections opened before it went over). */
export function shedRequestsOverBudget(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  budget: RefusalBudget,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const seconds = budget.retryAfter(request.socket.remoteAddress);
    if (seconds === 0) return handler(request, response);
    budget.stats.shed++;
    const { body, headers } = tooMany(seconds);
    sendJson(response, 429, body, { ...headers, connection: "close" });
  };
}

/**
 * Connections from a source over its budget are answered 429 as they are accepted, and never
 * reach the HTTP parser: what such a source costs is an accept, one write and a close. Must be
 * called before anything else listens for the server's connections.
 */
export function shedConnectionsOverBudget(server: Server, budget: RefusalBudget): void {
  const http = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  server.on("connection", (socket: Socket) => {
    const seconds = budget.retryAfter(socket.remoteAddress);
    if (seconds === 0) {
      for (const listener of http) listener.call(server, socket);
      return;
    }
    budget.stats.shed++;
    const { body, headers } = tooMany(seconds);
    socket.on("error", () => undefined);
    socket.resume(); // what it sends is read and dropped, so that closing does not reset the answer away
    endSocketWithJson(socket, 429, body, headers);
  });
}
