// A typed client of one Sentinel node's HTTP API: submit a candidate, read its status and
// attestation, wait for the network's decision, follow the event stream. What the node answers
// is untrusted: the fields a caller branches on are checked here, and anything else is a coded
// ClientError (REFUSED with the API's code, NODE_UNAVAILABLE, CLIENT_TIMEOUT, BAD_RESPONSE).
import { getAddress, isAddress, isHex, size, type Address, type Hex } from "viem";
import { ClientError } from "./errors.ts";
import { SseOverflowError, SseParser } from "./sse.ts";
import {
  OUTCOMES,
  type ApprovalSubmission,
  type AttestationRecord,
  type CandidateStatus,
  type HumanGateStatus,
  type Decision,
  type NodeEvent,
  type Progress,
  type RelayPending,
  type RelayResult,
} from "./types.ts";

export interface SentinelClientOptions {
  /** The node's API, e.g. http://127.0.0.1:8545 (a trailing slash is ignored). */
  url: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface Submission {
  candidate: unknown;
  signature: Hex;
  bundle?: unknown;
  /** The proposer key's address: a node that recovers another signer names the mismatch as a signature error. */
  proposer?: Address;
}

export interface WaitOptions {
  /** Default 5 minutes. */
  timeoutMs?: number;
  onProgress?: (step: Progress) => void;
  signal?: AbortSignal;
  /** Between status reads; default 500 ms. */
  pollMs?: number;
}

export interface SubscribeOptions {
  /** Resume after this id (the node sends every kept event after it). */
  lastEventId?: number;
  types?: string[];
  candidateId?: Hex;
  /** Only events about these contracts (at most 32; docs/notifications.md says which events name one). */
  targets?: Address[];
  /** Only events about a target on this chain. */
  chainId?: number | bigint;
  /** Told of each failure the subscription recovers from (it reconnects) or stops on (a 4xx). */
  onError?: (error: ClientError) => void;
}

export interface Subscription {
  close(): void;
  /** The id of the last event received: where a new subscription resumes. */
  readonly lastEventId: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_WAIT_MS = 5 * 60_000;
const DEFAULT_POLL_MS = 500;
/** Reconnects start at the server's `retry:` (or this) and double up to the cap. */
const RECONNECT_INITIAL_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
/** A stream that sent nothing (not even a heartbeat, every 15 s) for this long is dead: reconnect. */
const STREAM_IDLE_MS = 45_000;

export class SentinelClient {
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: SentinelClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new ClientError("INVALID_ARGUMENT", `not a URL: ${options.url} (give the node's API, e.g. http://127.0.0.1:8545)`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new ClientError("INVALID_ARGUMENT", `the node's URL must be http or https: ${options.url}`);
    this.url = parsed.toString().replace(/\/$/, "");
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** POST /v1/candidates. A duplicate (the node holds it already) is not an error. */
  async submit(submission: Submission): Promise<{ candidateId: Hex; duplicate: boolean }> {
    const { status, body } = await this.#request("POST", "/v1/candidates", submission);
    const candidateId = (body as { candidateId?: unknown }).candidateId;
    if ((status !== 200 && status !== 202) || !isBytes32(candidateId)) throw badResponse(this.url, status, "no candidateId in the answer");
    return { candidateId: candidateId.toLowerCase() as Hex, duplicate: status === 200 };
  }

  /**
   * POST /v1/candidates/:id/approvals: a human approver's signed approval. `added` is false when
   * the node already held this approver's approval. A refusal is a ClientError REFUSED whose
   * apiCode says why (NOT_APPROVER, BAD_SIGNATURE, OTHER_FINDINGS, DECIDED, ...).
   */
  async approve(approval: ApprovalSubmission): Promise<{ added: boolean; humanGate: HumanGateStatus }> {
    const { status, body } = await this.#request("POST", `/v1/candidates/${checkId(approval.candidateId)}/approvals`, approval);
    const humanGate = (body as { humanGate?: unknown }).humanGate;
    if ((status !== 200 && status !== 202) || !isObject(humanGate) || !Number.isSafeInteger(humanGate["count"])) throw badResponse(this.url, status, "no humanGate in the answer");
    return { added: status === 202, humanGate: humanGate as unknown as HumanGateStatus };
  }

  /** GET /v1/candidates/:id; undefined if the node does not know the candidate. */
  async status(candidateId: Hex): Promise<CandidateStatus | undefined> {
    const { status, body } = await this.#request("GET", `/v1/candidates/${checkId(candidateId)}`, undefined, { notFound: true });
    if (status === 404) return undefined;
    return parseStatus(body, this.url);
  }

  /** GET /v1/attestations/:id; undefined until the node holds one. */
  async attestation(candidateId: Hex): Promise<AttestationRecord | undefined> {
    const { status, body } = await this.#request("GET", `/v1/attestations/${checkId(candidateId)}`, undefined, { notFound: true });
    if (status === 404) return undefined;
    return parseAttestation(body, this.url);
  }

  /**
   * Resolves when the verdict is recorded on every chain the node relays to (or refused); onProgress gets each step.
   * @throws ClientError CLIENT_TIMEOUT (meta.last: the last step seen), ABORTED, REFUSED (a 4xx on the status route)
   */
  async waitForDecision(candidateId: Hex, options: WaitOptions = {}): Promise<Decision> {
    const id = checkId(candidateId);
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_WAIT_MS);
    const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    const seen = new Set<string>();
    const progress: { last?: Progress } = {};
    const report = (key: string, step: Progress) => {
      if (seen.has(key)) return;
      seen.add(key);
      progress.last = step;
      options.onProgress?.(step);
    };
    let unreachable: ClientError | undefined;
    for (;;) {
      if (options.signal?.aborted) throw new ClientError("ABORTED", "the wait was aborted", { url: this.url });
      let status: CandidateStatus | undefined;
      try {
        status = await this.status(id);
        unreachable = undefined;
      } catch (error) {
        // A node restarting or a blip: keep waiting until the deadline, then say which it was.
        if (!(error instanceof ClientError) || (error.code !== "NODE_UNAVAILABLE" && error.code !== "CLIENT_TIMEOUT")) throw error;
        unreachable = error;
      }
      if (status === undefined && !unreachable) report("waiting", { step: "waiting", message: "the node does not know this candidate yet" });
      if (status) {
        const decision = this.#progress(status, report);
        if (decision) return decision;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const message = unreachable
          ? `the node at ${this.url} did not answer (${unreachable.message}); try again later or ask another node`
          : `no decision recorded on every chain yet (last step: ${progress.last?.message ?? "none"}); run status again later`;
        throw new ClientError(unreachable ? "NODE_UNAVAILABLE" : "CLIENT_TIMEOUT", message, { url: this.url, last: progress.last ?? null }, unreachable ? { cause: unreachable } : undefined);
      }
      await sleep(Math.min(pollMs, left), options.signal);
    }
  }

  /** Reports every new step of `status`; returns the decision once every chain's relay is done. */
  #progress(status: CandidateStatus, report: (key: string, step: Progress) => void): Decision | undefined {
    report("admitted", { step: "admitted", message: "admitted by the node" });
    if (status.verification !== null) report("verified", { step: "verified", message: "verified by the node" });
    if (status.signedDigest) report("signed", { step: "signed", message: `the node signed verdict ${status.signedDigest}`, digest: status.signedDigest });
    const attestation = status.attestation;
    if (!attestation) return undefined;
    const outcome = OUTCOMES[attestation.outcome] ?? "reject";
    report("attestation", {
      step: "attestation",
      message: `attestation formed: ${outcome.toUpperCase()} signed by validators ${attestation.signers.join(", ")}`,
      outcome,
      signers: attestation.signers,
      digest: attestation.digest,
    });
    const chains: Record<string, RelayResult> = {};
    const notRelayed: string[] = [];
    let done = true;
    for (const [chainId, relay] of Object.entries(status.relay)) {
      // The node writes a chain's pending relay in the same batch as the attestation: none now
      // means none to come (it does not relay there, or read the attestation from that chain).
      if (relay === null) {
        notRelayed.push(chainId);
        continue;
      }
      if ("pending" in relay && relay.pending) {
        done = false;
        const pending = relay as RelayPending;
        report(`relay:${chainId}:${pending.state}:${pending.dispatches}`, {
          step: "relay",
          chainId,
          result: pending,
          message: `chain ${chainId}: ${pending.state}${pending.lastError ? ` (last error: ${pending.lastError}; retry ${pending.dispatches})` : ""}`,
        });
        continue;
      }
      const result = relay as RelayResult;
      chains[chainId] = result;
      const how = result.status === "submitted" ? `recorded (tx ${result.txHash})` : result.status === "already-recorded" ? "recorded" : `refused: ${result.code ?? ""} ${result.error ?? ""}`.trim();
      report(`relay:${chainId}:done`, { step: "relay", chainId, result, message: `chain ${chainId}: ${how}` });
    }
    if (!done) return undefined;
    return {
      candidateId: status.candidateId,
      outcome,
      digest: attestation.digest,
      attestation,
      chains,
      notRelayed,
      recordedEverywhere: Object.values(chains).every((r) => r.status !== "failed"),
    };
  }

  /** Server-sent events with reconnect and Last-Event-ID; returns a handle to close. */
  subscribe(options: SubscribeOptions, onEvent: (event: NodeEvent) => void): Subscription {
    const query = new URLSearchParams();
    if (options.types?.length) query.set("types", options.types.join(","));
    if (options.candidateId !== undefined) query.set("candidateId", checkId(options.candidateId));
    if (options.targets?.length) query.set("target", options.targets.join(","));
    if (options.chainId !== undefined) query.set("chainId", options.chainId.toString());
    const url = `${this.url}/v1/events${query.size > 0 ? `?${query}` : ""}`;
    const abort = new AbortController();
    let lastEventId = options.lastEventId ?? 0;
    let delay = RECONNECT_INITIAL_MS;
    const fail = (error: ClientError) => options.onError?.(error);

    const connect = async (): Promise<"retry" | "stop"> => {
      const parser = new SseParser();
      const idle = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const touch = () => {
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), STREAM_IDLE_MS);
        timer.unref?.();
      };
      const onAbort = () => idle.abort();
      abort.signal.addEventListener("abort", onAbort);
      try {
        touch();
        const response = await this.#fetch(url, {
          headers: { accept: "text/event-stream", "last-event-id": String(lastEventId) },
          signal: idle.signal,
        });
        if (response.status === 429) {
          // Over the node's refusal budget: reconnect once it has refilled, not before.
          delay = Math.max(delay, 1000 * (Number(response.headers.get("retry-after")) || 1));
          await response.body?.cancel();
          fail(new ClientError("NODE_UNAVAILABLE", `the event stream answered 429 RATE_LIMITED; reconnecting in ${Math.round(delay / 1000)} s`, { status: 429, url }));
          return "retry";
        }
        if (response.status >= 400 && response.status < 500) {
          const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
          fail(new ClientError("REFUSED", `the node refused the event stream: ${body.error ?? response.status} ${body.message ?? ""}`.trim(), { status: response.status, apiCode: body.error ?? "", url }));
          return "stop";
        }
        if (!response.ok || !response.body) {
          fail(new ClientError("NODE_UNAVAILABLE", `the event stream answered ${response.status}; reconnecting`, { status: response.status, url }));
          return "retry";
        }
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          touch();
          for (const message of parser.push(chunk)) {
            if (parser.retryMs !== undefined) delay = Math.max(parser.retryMs, 100);
            const event = parseEvent(message.data);
            if (!event) continue;
            if (event.id <= lastEventId) continue;
            lastEventId = event.id;
            delay = parser.retryMs ?? RECONNECT_INITIAL_MS;
            onEvent(event);
          }
        }
        return "retry";
      } catch (error) {
        if (abort.signal.aborted) return "stop";
        const overflow = error instanceof SseOverflowError;
        fail(new ClientError(overflow ? "BAD_RESPONSE" : "NODE_UNAVAILABLE", `event stream ${overflow ? "sent an oversized event" : "lost"}: ${(error as Error).message}; reconnecting`, { url }, { cause: error }));
        return "retry";
      } finally {
        clearTimeout(timer);
        abort.signal.removeEventListener("abort", onAbort);
      }
    };

    void (async () => {
      while (!abort.signal.aborted) {
        if ((await connect()) === "stop") return;
        if (abort.signal.aborted) return;
        await sleep(delay, abort.signal).catch(() => undefined);
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      }
    })();

    return {
      close: () => abort.abort(),
      get lastEventId() {
        return lastEventId;
      },
    };
  }

  async #request(method: "GET" | "POST", path: string, body?: unknown, options: { notFound?: boolean } = {}): Promise<{ status: number; body: unknown }> {
    const url = `${this.url}${path}`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === "TimeoutError";
      throw new ClientError(
        timedOut ? "CLIENT_TIMEOUT" : "NODE_UNAVAILABLE",
        timedOut ? `the node at ${this.url} did not answer within ${this.#timeoutMs} ms` : `cannot reach the node at ${this.url}: ${causeMessage(error)}`,
        { url },
        { cause: error },
      );
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      if (response.status >= 500) throw new ClientError("NODE_UNAVAILABLE", `the node at ${this.url} answered ${response.status}`, { status: response.status, url });
      throw badResponse(this.url, response.status, "the answer is not JSON", error);
    }
    if (response.status === 404 && options.notFound) return { status: 404, body: json };
    if (response.status >= 400) {
      const { error, message } = (json ?? {}) as { error?: unknown; message?: unknown };
      const apiCode = typeof error === "string" ? error : String(response.status);
      const text = typeof message === "string" ? message : "";
      // 429: this address is over the node's refusal budget; nothing was decided about the request.
      const code = response.status >= 500 || response.status === 429 ? "NODE_UNAVAILABLE" : "REFUSED";
      throw new ClientError(code, `${apiCode}: ${text}${code === "NODE_UNAVAILABLE" ? " (try again, or another node)" : ""}`, { status: response.status, apiCode, url });
    }
    return { status: response.status, body: json };
  }
}

function parseStatus(body: unknown, url: string): CandidateStatus {
  if (!isObject(body) || !isBytes32(body["candidateId"]) || !isObject(body["relay"])) throw badResponse(url, 200, "not a candidate status");
  const attestation = body["attestation"] === null || body["attestation"] === undefined ? null : parseAttestation(body["attestation"], url);
  const signedDigest = isBytes32(body["signedDigest"]) ? body["signedDigest"] : null;
  return { ...(body as CandidateStatus), candidateId: body["candidateId"].toLowerCase() as Hex, verification: body["verification"] ?? null, signedDigest, attestation };
}

function parseAttestation(body: unknown, url: string): AttestationRecord {
  if (!isObject(body) || !isBytes32(body["candidateId"]) || !isBytes32(body["digest"]) || typeof body["encoded"] !== "string" || !isHex(body["encoded"])) {
    throw badResponse(url, 200, "not an attestation record");
  }
  const signers = body["signers"];
  if (!Array.isArray(signers) || !signers.every((s) => Number.isSafeInteger(s)) || !Number.isSafeInteger(body["outcome"]) || !Number.isSafeInteger(body["setIndex"])) {
    throw badResponse(url, 200, "not an attestation record");
  }
  const target = body["target"];
  return { ...(body as AttestationRecord), target: typeof target === "string" && isAddress(target, { strict: false }) ? getAddress(target) : (target as Address) };
}

function parseEvent(data: string): NodeEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isObject(value) || !Number.isSafeInteger(value["id"]) || typeof value["type"] !== "string") return undefined;
  return value as unknown as NodeEvent;
}

function checkId(candidateId: string): Hex {
  if (!isBytes32(candidateId)) throw new ClientError("INVALID_ARGUMENT", `a candidate id is 0x followed by 64 hex digits, not ${JSON.stringify(candidateId).slice(0, 80)}`);
  return candidateId.toLowerCase() as Hex;
}

function isBytes32(value: unknown): value is Hex {
  return typeof value === "string" && isHex(value, { strict: true }) && size(value) === 32;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function badResponse(url: string, status: number, what: string, cause?: unknown): ClientError {
  return new ClientError("BAD_RESPONSE", `the node at ${url} answered ${status}, ${what}: is it a Sentinel node of this version?`, { status, url }, cause === undefined ? undefined : { cause });
}

function causeMessage(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ClientError("ABORTED", "the wait was aborted"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ClientError("ABORTED", "the wait was aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
