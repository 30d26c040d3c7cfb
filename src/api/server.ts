// The node's HTTP API: submit candidates, read their status and attestations, health and
// readiness. Plain node:http; every bad request gets a 4xx with a code and a reason.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isAddress, isHex, size, type Hex } from "viem";
import { AdmissionError, type AdmissionCode } from "../admission/admission.ts";
import { EventStreamError } from "./eventStream.ts";
import { SentinelError } from "../errors.ts";
import { MAX_BUNDLE_BYTES } from "../codec/bundle.ts";
import { bigintAsString, type Json } from "../util/json.ts";

/** A candidate (~1 KB) with its source bundle; refuses junk before reading it all. */
export const MAX_BODY_BYTES = MAX_BUNDLE_BYTES + 64 * 1024;

export interface ApiBackend {
  submitCandidate(body: unknown): Promise<{ candidateId: Hex; duplicate: boolean }>;
  /** GET /v1/events: serves the event stream until the client goes; throws EventStreamError before writing anything. */
  streamEvents(request: IncomingMessage, response: ServerResponse): Promise<void>;
  candidateStatus(candidateId: Hex): Promise<Json | undefined>;
  attestation(candidateId: Hex): Promise<Json | undefined>;
  attestationsByTarget(chainId: bigint, target: Hex): Promise<Json[]>;
  health(): Json;
  /** Connected peers with this node's gossipsub score of each. */
  peers(): Json;
  /** Prometheus text exposition of the node's counters. */
  metrics(): string;
  readiness(): Promise<{ ready: boolean; reasons: string[] }>;
}

/** The `error` field of a 4xx answer: the API's own codes, and admission's for a refused candidate. */
export type ApiErrorCode =
  | "METHOD_NOT_ALLOWED"
  | "NOT_FOUND"
  | "BAD_QUERY"
  | "BAD_ID"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "TOO_LARGE"
  | "BAD_JSON"
  | "BAD_EVENT_ID"
  | "TOO_MANY_STREAMS"
  | AdmissionCode;

/** A request the API refuses: the status and code are sent, the message is the reason. */
class HttpError extends SentinelError<ApiErrorCode, { status: number }> {
  override name = "HttpError";
  constructor(status: number, code: ApiErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, { status }, options);
  }

  get status(): number {
    return this.meta.status;
  }
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(options: { host: string; port: number }, backend: ApiBackend): Promise<ApiServer> {
  const server: Server = createServer((request, response) => {
    handle(request, response, backend).catch((error: unknown) => {
      if (error instanceof HttpError) return send(response, error.status, { error: error.code, message: error.message });
      send(response, 500, { error: "INTERNAL", message: "internal error" });
    });
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, backend: ApiBackend): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  const method = request.method ?? "GET";

  if (path === "/health") return send(response, 200, backend.health());
  if (path === "/v1/events") {
    if (method !== "GET") throw new HttpError(405, "METHOD_NOT_ALLOWED", "use GET to follow the event stream");
    try {
      return await backend.streamEvents(request, response);
    } catch (error) {
      if (error instanceof EventStreamError) throw new HttpError(error.meta.status, error.code, error.message);
      throw error;
    }
  }
  if (path === "/v1/peers") return send(response, 200, backend.peers());
  if (path === "/metrics") {
    const text = backend.metrics();
    response.writeHead(200, { "content-type": "text/plain; version=0.0.4", "content-length": Buffer.byteLength(text) });
    response.end(text);
    return;
  }
  if (path === "/ready") {
    const readiness = await backend.readiness();
    return send(response, readiness.ready ? 200 : 503, readiness);
  }
  if (path === "/v1/candidates") {
    if (method !== "POST") throw new HttpError(405, "METHOD_NOT_ALLOWED", "use POST to submit a candidate");
    const body = await readJson(request);
    try {
      const { candidateId, duplicate } = await backend.submitCandidate(body);
      return send(response, duplicate ? 200 : 202, { candidateId, status: duplicate ? "known" : "admitted" });
    } catch (error) {
      if (error instanceof AdmissionError) {
        const status = error.code === "NOT_ENROLLED" ? 403 : error.code === "CHAIN_UNAVAILABLE" ? 503 : 400;
        throw new HttpError(status, error.code, error.message, { cause: error });
      }
      throw error;
    }
  }
  let match = /^\/v1\/candidates\/([^/]+)$/.exec(path);
  if (match) {
    const status = await backend.candidateStatus(bytes32(match[1]!, "candidate id"));
    if (!status) throw new HttpError(404, "NOT_FOUND", "no such candidate on this node");
    return send(response, 200, status);
  }
  match = /^\/v1\/attestations\/([^/]+)$/.exec(path);
  if (match) {
    const attestation = await backend.attestation(bytes32(match[1]!, "candidate id"));
    if (!attestation) throw new HttpError(404, "NOT_FOUND", "no attestation for this candidate yet");
    return send(response, 200, attestation);
  }
  if (path === "/v1/attestations") {
    const chainId = url.searchParams.get("chainId");
    const target = url.searchParams.get("target");
    if (!chainId || !/^[1-9][0-9]{0,19}$/.test(chainId)) throw new HttpError(400, "BAD_QUERY", "chainId must be a positive integer");
    if (!target || !isAddress(target, { strict: false })) throw new HttpError(400, "BAD_QUERY", "target must be a 20-byte hex address");
    return send(response, 200, { attestations: await backend.attestationsByTarget(BigInt(chainId), target as Hex) });
  }
  throw new HttpError(404, "NOT_FOUND", `no route for ${method} ${path}`);
}

function bytes32(value: string, what: string): Hex {
  if (!isHex(value) || size(value) !== 32) throw new HttpError(400, "BAD_ID", `${what} must be 0x followed by 64 hex digits`);
  return value.toLowerCase() as Hex;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const type = request.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "send Content-Type: application/json");
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, "TOO_LARGE", `body over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES) throw new HttpError(413, "TOO_LARGE", `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "BAD_JSON", "body is not valid JSON");
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, bigintAsString);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
