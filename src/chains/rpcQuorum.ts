// A chain read from several RPC endpoints that must agree. A node that trusts one endpoint signs
// whatever that endpoint says the code, storage and blocks are; a poisoned or hijacked provider
// then decides the verdict without breaking a key or a contract. RpcQuorum serves JSON-RPC on
// loopback to everything of the node that reads a chain (viem clients, the verification worker,
// the anvil forks of the shadow deployment) and forwards each call to every endpoint:
//
// - a read is answered only when `quorum` endpoints gave the same answer (result or error, byte
//   for byte); when they cannot, the caller gets a JSON-RPC error, never one endpoint's word. A
//   check whose read fails is unobserved, so the node abstains rather than sign (verify/observation.ts);
// - "not there yet" (a receipt, a transaction, a block that some endpoints have and some not)
//   is answered null unless a quorum has it: a lagging endpoint delays, it does not fail;
// - eth_blockNumber is the highest block a quorum has reached;
// - a raw transaction is sent to every endpoint, and the first acceptance answers;
// - fee and gas estimates, which differ between honest endpoints, come from the first that answers.
//
// Endpoints are named by their index in logs and errors, never by URL (URLs carry API keys).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { SentinelError } from "../errors.ts";
import { parseUntrustedJson } from "../util/json.ts";

export interface RpcQuorumOptions {
  chainId: number;
  urls: readonly string[];
  /** How many endpoints must give the same answer; 1 ≤ quorum ≤ urls.length. */
  quorum: number;
  /** Per endpoint and call. */
  timeoutMs?: number;
}

export interface RpcQuorumModules {
  logger: Logger;
}

export const RPC_QUORUM_DEFAULTS = { timeoutMs: 10_000 } as const;

/** JSON-RPC error codes of the quorum itself (the server-error range -32000..-32099). */
export const RPC_DISAGREE = -32090;
export const RPC_UNAVAILABLE = -32091;

/** Bodies larger than this are refused, the node's calls and endpoints' answers alike: a block with its transactions is a few MB. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

type Policy = "agree" | "broadcast" | "first" | "highest";
const POLICIES: Record<string, Policy> = {
  eth_sendRawTransaction: "broadcast",
  eth_blockNumber: "highest",
  eth_gasPrice: "first",
  eth_maxPriorityFeePerGas: "first",
  eth_feeHistory: "first",
  eth_estimateGas: "first",
  eth_blobBaseFee: "first",
};
/** Methods whose null answer means "not seen yet" rather than a fact. */
const MAY_BE_PENDING = new Set(["eth_getTransactionReceipt", "eth_getTransactionByHash", "eth_getBlockByNumber", "eth_getBlockByHash"]);

interface RpcRequest {
  jsonrpc?: string;
  id?: unknown;
  method: string;
  params?: unknown;
}
type Answer = { result: unknown } | { error: { code: number; message: string; data?: unknown } };

export class RpcQuorumError extends SentinelError<"RPC_QUORUM_CONFIG"> {
  override name = "RpcQuorumError";
}

export class RpcQuorum {
  readonly #options: Required<RpcQuorumOptions>;
  readonly #log: Logger;
  #server: Server | undefined;
  #url: string | undefined;
  /** Disagreements by method, and failed calls by endpoint index, for metrics. */
  readonly disagreements = new Map<string, number>();
  readonly endpointFailures: number[];

  constructor(options: RpcQuorumOptions, modules: RpcQuorumModules) {
    if (options.urls.length === 0) throw new RpcQuorumError("RPC_QUORUM_CONFIG", "no RPC endpoint");
    if (!Number.isInteger(options.quorum) || options.quorum < 1 || options.quorum > options.urls.length) {
      throw new RpcQuorumError("RPC_QUORUM_CONFIG", `quorum ${options.quorum} is not between 1 and ${options.urls.length} endpoints`);
    }
    this.#options = { ...RPC_QUORUM_DEFAULTS, ...options };
    this.#log = modules.logger;
    this.endpointFailures = options.urls.map(() => 0);
  }

  /** The loopback URL everything of this node reads the chain through. */
  get url(): string {
    if (!this.#url) throw new Error("RpcQuorum is not started");
    return this.#url;
  }

  async start(): Promise<string> {
    const server = createServer((request, response) => void this.#serve(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** One JSON-RPC call, decided by the method's policy. */
  async call(request: RpcRequest): Promise<Answer> {
    const policy = POLICIES[request.method] ?? "agree";
    const { urls } = this.#options;
    const calls = urls.map((url, index) => this.#forward(url, index, request));
    switch (policy) {
      case "broadcast":
      case "first":
        return firstAnswer(calls, policy === "broadcast", () => this.#unavailable(request.method, 1));
      case "highest":
        return this.#highest(request.method, calls);
      default:
        return this.#agree(request.method, calls);
    }
  }

  async #agree(method: string, calls: Promise<Answer | undefined>[]): Promise<Answer> {
    const { quorum } = this.#options;
    const groups = new Map<string, { answer: Answer; count: number }>();
    let pending = calls.length;
    let nulls = 0;
    return new Promise((resolve) => {
      let done = false;
      const settle = (answer: Answer) => {
        if (!done) (done = true), resolve(answer);
      };
      for (const call of calls) {
        void call.then((answer) => {
          pending--;
          if (done) return;
          if (answer !== undefined) {
            if ("result" in answer && answer.result === null) nulls++;
            const key = answerKey(answer);
            const group = groups.get(key) ?? { answer, count: 0 };
            group.count++;
            groups.set(key, group);
            if (group.count >= quorum) return settle(answer);
          }
          const best = Math.max(0, ...[...groups.values()].map((g) => g.count));
          if (best + pending >= quorum) return; // a quorum can still form
          if (MAY_BE_PENDING.has(method) && nulls > 0) return settle({ result: null });
          const answered = [...groups.values()].reduce((sum, g) => sum + g.count, 0);
          if (groups.size > 1) return settle(this.#disagree(method, answered, best));
          settle(this.#unavailable(method, quorum, answered));
        });
      }
    });
  }

  /** The lowest of the first `quorum` heights: a block every one of a quorum has reached, without waiting on a dead endpoint. */
  #highest(method: string, calls: Promise<Answer | undefined>[]): Promise<Answer> {
    const { quorum } = this.#options;
    const heights: bigint[] = [];
    let pending = calls.length;
    return new Promise((resolve) => {
      for (const call of calls) {
        void call.then((answer) => {
          pending--;
          if (heights.length >= quorum) return;
          if (answer && "result" in answer && typeof answer.result === "string" && /^0x[0-9a-f]{1,64}$/i.test(answer.result)) heights.push(BigInt(answer.result));
          if (heights.length === quorum) return resolve({ result: `0x${heights.reduce((a, b) => (a < b ? a : b)).toString(16)}` });
          if (heights.length + pending < quorum) resolve(this.#unavailable(method, quorum, heights.length));
        });
      }
    });
  }

  #disagree(method: string, answered: number, agreeing: number): Answer {
    const seen = (this.disagreements.get(method) ?? 0) + 1;
    this.disagreements.set(method, seen);
    // Once, then every 100th: a lying endpoint must not flood the log.
    if (seen === 1 || seen % 100 === 0) {
      this.#log.warn({ chainId: this.#options.chainId, method, answered, agreeing, quorum: this.#options.quorum, times: seen }, "RPC endpoints disagree; the read fails rather than trust one of them");
    }
    return { error: { code: RPC_DISAGREE, message: `chain ${this.#options.chainId}: RPC endpoints disagree on ${method} (${agreeing} of ${answered} answers agree, quorum ${this.#options.quorum})` } };
  }

  #unavailable(method: string, needed: number, answered = 0): Answer {
    return { error: { code: RPC_UNAVAILABLE, message: `chain ${this.#options.chainId}: ${answered} RPC endpoint(s) answered ${method}, ${needed} needed` } };
  }

  /** One endpoint's answer, or undefined when it did not give one (down, timed out, not JSON-RPC). */
  async #forward(url: string, index: number, request: RpcRequest): Promise<Answer | undefined> {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: request.method, params: request.params ?? [] }),
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      // An endpoint is not trusted with the node's memory either: its answer is read up to the
      // bound and parsed as untrusted JSON (depth-checked), never with response.json().
      const body = parseUntrustedJson(await readAtMost(response, MAX_BODY_BYTES)) as { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
      if (typeof body !== "object" || body === null) throw new Error("not a JSON-RPC answer");
      if (body.error && typeof body.error === "object") {
        const { code, message, data } = body.error;
        return { error: { code: typeof code === "number" ? code : -32603, message: typeof message === "string" ? message : "error", ...(data !== undefined && { data }) } };
      }
      if (!("result" in body)) throw new Error("no result");
      return { result: body.result };
    } catch {
      this.endpointFailures[index]!++;
      return undefined;
    }
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (request.method !== "POST") return reply(405, { jsonrpc: "2.0", id: null, error: { code: -32600, message: "POST JSON-RPC" } });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(request));
    } catch {
      return reply(400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
    }
    const one = async (item: unknown) => {
      const call = item as RpcRequest;
      if (typeof call !== "object" || call === null || typeof call.method !== "string") {
        return { jsonrpc: "2.0", id: null, error: { code: -32600, message: "invalid request" } };
      }
      return { jsonrpc: "2.0", id: call.id ?? null, ...(await this.call(call)) };
    };
    reply(200, Array.isArray(body) ? await Promise.all(body.map(one)) : await one(body));
  }
}

/**
 * What two answers must share to agree: the result, or an error's code and data (its message is
 * worded differently by different clients; a revert's reason is in its data).
 */
function answerKey(answer: Answer): string {
  return "result" in answer ? `r${stableJson(answer.result)}` : `e${answer.error.code}:${stableJson(answer.error.data ?? null)}`;
}

/** JSON with object keys sorted: endpoints of different clients order fields differently. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The first answer; with `acceptedOnly`, the first that is not an error (else the first error). */
async function firstAnswer(calls: Promise<Answer | undefined>[], acceptedOnly: boolean, none: () => Answer): Promise<Answer> {
  const answers: (Answer | undefined)[] = [];
  return new Promise((resolve) => {
    let pending = calls.length;
    for (const call of calls) {
      void call.then((answer) => {
        pending--;
        answers.push(answer);
        if (answer && (!acceptedOnly || "result" in answer)) return resolve(answer);
        if (pending === 0) resolve(answers.find((a) => a !== undefined) ?? none());
      });
    }
  });
}

/** A response's body, at most `limit` bytes: past it the read is cancelled and throws. */
async function readAtMost(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > limit) throw new Error(`answer over ${limit} bytes`); // leaving the loop cancels the stream
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    request.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_BODY_BYTES) return request.destroy(new Error("too large"));
      chunks.push(chunk);
    });
    request.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.once("error", reject);
  });
}

/** A chain's endpoints as the rest of the node reads them: one URL, the quorum's when there are several. */
export interface ChainEndpoint {
  url: string;
  /** The quorum behind `url`, if any (for its counters). */
  quorum: RpcQuorum | undefined;
  close(): Promise<void>;
}

/** Opens a chain's endpoints: the one URL as it is, several through a started RpcQuorum. */
export async function openChainEndpoint(chain: { chainId: number; rpcUrls: readonly string[]; rpcQuorum: number }, logger: Logger): Promise<ChainEndpoint> {
  if (chain.rpcUrls.length === 1) return { url: chain.rpcUrls[0]!, quorum: undefined, close: async () => {} };
  const quorum = new RpcQuorum({ chainId: chain.chainId, urls: chain.rpcUrls, quorum: chain.rpcQuorum }, { logger: logger.child({ module: "rpc-quorum", chainId: chain.chainId }) });
  const url = await quorum.start();
  return { url, quorum, close: () => quorum.stop() };
}
