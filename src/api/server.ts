// The node's HTTP API: submit candidates, read their status and attestations, follow the event
// stream, health and readiness. fastify: routes, request validation from the JSON schemas of
// ./schemas.ts (ajv), and the OpenAPI 3.1 document written from those same schemas
// (/openapi.json). Every refused request gets a 4xx `{error: CODE, message}` and stores nothing;
// nothing a client sends costs more than linear time in its size, and a body that stalls is
// cut off after `bodyTimeoutMs`.
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import fastifySwagger from "@fastify/swagger";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Hex } from "viem";
import { AdmissionError, type AdmissionCode } from "../admission/admission.ts";
import { EventStreamError } from "./eventStream.ts";
import { SentinelError, describeError } from "../errors.ts";
import { RotationCodecError } from "../codec/rotation.ts";
import { RotationError, type RotationErrorCode } from "../consensus/rotationSigner.ts";
import { ApprovalError, type ApprovalErrorCode } from "../consensus/validation/approval.ts";
import { ApprovalFormatError } from "../codec/humanApproval.ts";
import { MAX_BUNDLE_BYTES } from "../codec/bundle.ts";
import { bigintAsString, parseUntrustedJson, type Json } from "../util/json.ts";
import { errorSchema, readinessSchema, routeSchemas } from "./schemas.ts";
import { STATUS_PAGE_HTML } from "./statusPage.ts";
import { endSocketWithJson, sendJson } from "./rawReply.ts";
import { chargeable, shedConnectionsOverBudget, shedRequestsOverBudget, type RefusalBudget } from "./refusalBudget.ts";

/** A candidate (~1 KB) with its source bundle; refuses junk before reading it all. */
export const MAX_BODY_BYTES = MAX_BUNDLE_BYTES + 64 * 1024;

export interface ApiBackend {
  submitCandidate(body: unknown): Promise<{ candidateId: Hex; duplicate: boolean }>;
  /** POST /v1/rotations: throws RotationCodecError, RotationError, or anything else for a chain it could not read. */
  voteRotation(body: unknown): Promise<Json>;
  /** GET /v1/events: serves the event stream until the client goes; throws EventStreamError before writing anything. */
  streamEvents(request: IncomingMessage, response: ServerResponse): Promise<void>;
  candidateStatus(candidateId: Hex): Promise<Json | undefined>;
  /** POST /v1/candidates/{id}/approvals: throws ApprovalFormatError or ApprovalError. */
  submitApproval(candidateId: Hex, body: unknown): Promise<{ added: boolean; status: Json }>;
  attestation(candidateId: Hex): Promise<Json | undefined>;
  attestationsByTarget(chainId: bigint, target: Hex): Promise<Json[]>;
  health(): Json;
  /** Equivocation proofs, for one candidate when given. */
  evidence(candidateId: Hex | undefined): Promise<Json[]>;
  /** GET /v1/monitoring: what continuous monitoring watches and has seen. */
  monitoring(): Json;
  /** Connected peers with this node's gossipsub score of each. */
  peers(): Json;
  /** The network at a glance (peers, validator set, chains, recent candidates), for the status page. */
  status(): Promise<Json>;
  /** Prometheus text exposition of the node's metrics. */
  metrics(): Promise<string> | string;
  readiness(): Promise<{ ready: boolean; reasons: string[] }>;
}

/** The `error` field of a 4xx answer: the API's own codes, and admission's for a refused candidate. */
export type ApiErrorCode =
  | "METHOD_NOT_ALLOWED"
  | "NOT_FOUND"
  | "BAD_REQUEST"
  | "BAD_QUERY"
  | "BAD_ID"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "TOO_LARGE"
  | "BAD_JSON"
  | "CANDIDATE_REQUIRED"
  | "BODY_TIMEOUT"
  | "REQUEST_TIMEOUT"
  | "HEADERS_TOO_LARGE"
  | "BAD_EVENT_ID"
  | "TOO_MANY_STREAMS"
  | "INTERNAL"
  | "MALFORMED"
  | "CHAIN_UNAVAILABLE"
  | "RATE_LIMITED"
  | RotationErrorCode
  | ApprovalErrorCode
  | AdmissionCode;

/** A request the API refuses: the status and code are sent, the message is the reason. */
export class HttpError extends SentinelError<ApiErrorCode, { status: number; allow?: string }> {
  override name = "HttpError";
  constructor(status: number, code: ApiErrorCode, message: string, options?: ErrorOptions & { allow?: string }) {
    super(code, message, options?.allow === undefined ? { status } : { status, allow: options.allow }, options);
  }

  get status(): number {
    return this.meta.status;
  }
}

export interface ApiServerOptions {
  host: string;
  port: number;
  /** How long a request body may take to arrive once its headers have: then 408 and the connection closed. */
  bodyTimeoutMs?: number;
  /** How long a request's headers may take to arrive. */
  headersTimeoutMs?: number;
  /** Each client address's budget of refused requests (./refusalBudget.ts); none when left out. */
  refusalBudget?: RefusalBudget;
}

export const DEFAULT_API_SERVER = { bodyTimeoutMs: 10_000, headersTimeoutMs: 10_000 };

/** Node checks its request and header deadlines this often (its default, 30 s, let a 10 s deadline run to 40). */
const TIMEOUT_CHECK_MS = 1_000;

export interface ApiServer {
  url: string;
  /** The fastify instance (for tests: its OpenAPI document). */
  app: FastifyInstance;
  /** Every route (method and path, as the router has it; HEAD routes fastify adds left out). */
  routes: readonly { method: string; url: string }[];
  close(): Promise<void>;
}

/** The routes, by path, and the methods each answers; anything else on a known path is a 405. */
const KNOWN_PATHS: readonly { pattern: RegExp; allow: string }[] = [
  { pattern: /^\/$/, allow: "GET, HEAD" },
  { pattern: /^\/v1\/status$/, allow: "GET, HEAD" },
  { pattern: /^\/v1\/candidates$/, allow: "POST" },
  { pattern: /^\/v1\/candidates\/[^/]+$/, allow: "GET, HEAD" },
  { pattern: /^\/v1\/candidates\/[^/]+\/approvals$/, allow: "POST" },
  { pattern: /^\/v1\/attestations\/[^/]+$/, allow: "GET, HEAD" },
  { pattern: /^\/v1\/attestations$/, allow: "GET, HEAD" },
  { pattern: /^\/v1\/events$/, allow: "GET" },
  { pattern: /^\/v1\/peers$/, allow: "GET, HEAD" },
  { pattern: /^\/health$/, allow: "GET, HEAD" },
  { pattern: /^\/ready$/, allow: "GET, HEAD" },
  { pattern: /^\/metrics$/, allow: "GET, HEAD" },
  { pattern: /^\/openapi\.json$/, allow: "GET, HEAD" },
];

/** `application/json`, optionally with a UTF-8 charset; nothing else (`application/jsonfoo` is not JSON). */
const JSON_CONTENT_TYPE = /^application\/json[ \t]*(;[ \t]*charset=("utf-8"|utf-8)[ \t]*)?$/i;

export async function startApiServer(options: ApiServerOptions, backend: ApiBackend): Promise<ApiServer> {
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_API_SERVER.bodyTimeoutMs;
  const headersTimeoutMs = options.headersTimeoutMs ?? DEFAULT_API_SERVER.headersTimeoutMs;
  const budget = options.refusalBudget;
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    routerOptions: { ignoreTrailingSlash: true },
    exposeHeadRoutes: true,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    // Node's own deadlines as a backstop behind the body timeout below, checked every second.
    serverFactory: (handler) => {
      const server = createServer(
        { headersTimeout: headersTimeoutMs, requestTimeout: headersTimeoutMs + bodyTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_MS },
        budget ? shedRequestsOverBudget(handler, budget) : handler,
      );
      if (budget) shedConnectionsOverBudget(server, budget);
      return server;
    },
    clientErrorHandler: (error, socket) => {
      budget?.charge(socket.remoteAddress);
      clientError(error, socket);
    },
    // A %-escape that does not decode, or a path segment past the router's bound.
    frameworkErrors: (error, _request, reply) => {
      const status = error.statusCode ?? 400;
      void (reply as FastifyReply).code(status).send({ error: "BAD_REQUEST", message: status === 414 ? "a path segment is too long" : "the URL is not valid" });
    },
  });
  // Bodies are serialised as they are (bigints as decimal strings); response schemas only document.
  const serialize = (payload: unknown) => JSON.stringify(payload, bigintAsString);
  app.setReplySerializer(serialize);
  app.setSerializerCompiler(() => serialize);
  const routes: { method: string; url: string }[] = [];
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) if (method !== "HEAD") routes.push({ method, url: route.url });
  });
  app.addSchema(errorSchema);
  app.addSchema(readinessSchema);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Sentinel node API",
        version: "1",
        description:
          "Every refused request is answered with a 4xx and `{error: CODE, message}` (the Error schema), and stores nothing. On any path: 404 NOT_FOUND for an unknown path, 405 METHOD_NOT_ALLOWED (with `Allow`) for a method a known path does not answer, 400 BAD_REQUEST for malformed HTTP or URLs, 408 REQUEST_TIMEOUT / BODY_TIMEOUT for a request that stalls, 431 HEADERS_TOO_LARGE. A client address that has had too many requests refused (the node's `api.refusalBudget`, by default 60 a minute; a missing candidate or attestation is never counted) is answered 429 RATE_LIMITED with Retry-After, unread, until its budget refills.",
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json["$id"] === "string" ? json["$id"] : `def-${i}`) },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", (request: FastifyRequest, payload: IncomingMessage) => readJsonBody(payload, MAX_BODY_BYTES, bodyTimeoutMs, request.headers["content-length"]));

  // Unknown paths and wrong methods are answered before any body is read.
  app.addHook("onRequest", async (request) => {
    if (!request.is404) return;
    const query = request.url.indexOf("?");
    let path = query === -1 ? request.url : request.url.slice(0, query);
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const known = KNOWN_PATHS.find(({ pattern }) => pattern.test(path));
    if (known) throw new HttpError(405, "METHOD_NOT_ALLOWED", `${request.method} is not allowed here; use ${known.allow}`, { allow: known.allow });
    throw new HttpError(404, "NOT_FOUND", "no such route (see /openapi.json)");
  });
  // A refused request whose body was not read: close the connection rather than wait for the body.
  app.addHook("onSend", async (request, reply, payload) => {
    if (!request.raw.complete) void reply.header("connection", "close");
    return payload;
  });
  if (budget) {
    app.addHook("onResponse", async (request, reply) => {
      if (chargeable(reply.statusCode, request.is404)) budget.charge(request.socket.remoteAddress);
    });
  }
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, code, message } = toHttpError(error, request);
    if (error instanceof HttpError && error.meta.allow !== undefined) void reply.header("allow", error.meta.allow);
    void reply.code(status).send({ error: code, message });
  });
  app.setNotFoundHandler(() => {
    throw new HttpError(404, "NOT_FOUND", "no such route (see /openapi.json)");
  });

  app.post("/v1/candidates", {
    schema: routeSchemas.submit,
    onRequest: async (request) => {
      const type = request.headers["content-type"];
      if (type === undefined || !JSON_CONTENT_TYPE.test(type)) {
        throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "send Content-Type: application/json");
      }
    },
  }, async (request, reply) => {
    try {
      const { candidateId, duplicate } = await backend.submitCandidate(request.body);
      return reply.code(duplicate ? 200 : 202).send({ candidateId, status: duplicate ? "known" : "admitted" });
    } catch (error) {
      if (error instanceof AdmissionError) {
        const status = error.code === "NOT_ENROLLED" ? 403 : error.code === "CHAIN_UNAVAILABLE" ? 503 : 400;
        throw new HttpError(status, error.code, error.message, { cause: error });
      }
      throw error;
    }
  });
  app.post("/v1/rotations", { schema: routeSchemas.rotation }, async (request) => {
    try {
      return await backend.voteRotation(request.body);
    } catch (error) {
      if (error instanceof RotationCodecError) throw new HttpError(400, "MALFORMED", error.message, { cause: error });
      if (error instanceof RotationError) {
        const status = error.code === "NOT_A_VALIDATOR" || error.code === "NOT_APPROVED" ? 403 : error.code === "CONFLICTING_ROTATION" ? 409 : 400;
        throw new HttpError(status, error.code, error.message, { cause: error });
      }
      throw new HttpError(503, "CHAIN_UNAVAILABLE", `could not read a registry: ${describeError(error)}`, { cause: error });
    }
  });
  app.get("/v1/candidates/:id", { schema: routeSchemas.candidate }, async (request) => {
    const status = await backend.candidateStatus(idOf(request));
    if (!status) throw new HttpError(404, "NOT_FOUND", "no such candidate on this node");
    return status;
  });
  app.post("/v1/candidates/:id/approvals", {
    schema: routeSchemas.approval,
    onRequest: async (request) => {
      const type = request.headers["content-type"];
      if (type === undefined || !JSON_CONTENT_TYPE.test(type)) throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "send Content-Type: application/json");
    },
  }, async (request, reply) => {
    const id = idOf(request);
    try {
      const { added, status } = await backend.submitApproval(id, request.body);
      return reply.code(added ? 202 : 200).send({ candidateId: id, status: added ? "accepted" : "known", humanGate: status });
    } catch (error) {
      if (error instanceof ApprovalFormatError) throw new HttpError(400, "MALFORMED", error.message, { cause: error });
      if (error instanceof ApprovalError) throw new HttpError(APPROVAL_STATUS[error.code], error.code, error.message, { cause: error });
      throw error;
    }
  });
  app.get("/v1/attestations/:id", { schema: routeSchemas.attestation }, async (request) => {
    const attestation = await backend.attestation(idOf(request));
    if (!attestation) throw new HttpError(404, "NOT_FOUND", "no attestation for this candidate yet");
    return attestation;
  });
  app.get("/v1/attestations", { schema: routeSchemas.attestations }, async (request) => {
    const { chainId, target } = request.query as { chainId: string; target: string };
    return { attestations: await backend.attestationsByTarget(BigInt(chainId), target as Hex) };
  });
  app.get("/v1/evidence", { schema: routeSchemas.evidence }, async (request) => {
    const { candidateId } = request.query as { candidateId?: string };
    return { evidence: await backend.evidence(candidateId as Hex | undefined) };
  });
  app.get("/v1/monitoring", { schema: routeSchemas.monitoring }, async () => backend.monitoring());
  app.get("/v1/events", { schema: routeSchemas.events, exposeHeadRoute: false }, async (request, reply) => {
    reply.hijack();
    try {
      await backend.streamEvents(request.raw, reply.raw);
    } catch (error) {
      const { status, code, message } = toHttpError(error as FastifyError, request);
      if (reply.raw.headersSent) reply.raw.destroy();
      else sendJson(reply.raw, status, { error: code, message });
    }
  });
  app.get("/v1/peers", { schema: routeSchemas.peers }, async () => backend.peers());
  app.get("/v1/status", { schema: routeSchemas.status }, async () => backend.status());
  // The page only reads this API (same origin) and loads nothing else: the policy says so.
  app.get("/", { schema: routeSchemas.statusPage }, async (request, reply) => {
    // ignoreTrailingSlash would route "//" and "///" here; only "/" is the page.
    if (request.url.split("?")[0] !== "/") throw new HttpError(404, "NOT_FOUND", "no such route (see /openapi.json)");
    return reply
      .type("text/html; charset=utf-8")
      .header("content-security-policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:")
      .send(STATUS_PAGE_HTML);
  });
  app.get("/health", { schema: routeSchemas.health }, async () => backend.health());
  app.get("/ready", { schema: routeSchemas.ready }, async (_request, reply) => {
    const readiness = await backend.readiness();
    return reply.code(readiness.ready ? 200 : 503).send(readiness);
  });
  app.get("/metrics", { schema: routeSchemas.metrics }, async (_request, reply) => reply.type("text/plain; version=0.0.4; charset=utf-8").send(await backend.metrics()));
  app.get("/openapi.json", { schema: routeSchemas.openapi }, async () => app.swagger());

  // CONNECT (a proxy tunnel) never reaches the router: Node would drop the connection unanswered.
  app.server.on("connect", (_request: IncomingMessage, socket: Socket) => {
    budget?.charge(socket.remoteAddress);
    endSocketWithJson(socket, 405, { error: "METHOD_NOT_ALLOWED", message: "this is not a proxy" });
  });
  await app.listen({ host: options.host, port: options.port });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    app,
    routes,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

/** Each refused approval's HTTP status (the code is sent as the error). */
const APPROVAL_STATUS: Record<ApprovalErrorCode, number> = {
  MALFORMED: 400,
  BAD_SIGNATURE: 400,
  MALLEABLE_SIGNATURE: 400,
  EXPIRED: 400,
  NOT_APPROVER: 403,
  UNKNOWN_CANDIDATE: 404,
  NOT_VERIFIED: 409,
  NOT_AWAITING: 409,
  DECIDED: 409,
  OTHER_FINDINGS: 409,
  UNVERIFIABLE: 503,
};

function idOf(request: FastifyRequest): Hex {
  return (request.params as { id: string }).id.toLowerCase() as Hex;
}

/** The status, code and message an error is answered with; anything unexpected is a 500 that says nothing more. */
function toHttpError(error: FastifyError | Error, request: FastifyRequest): { status: number; code: ApiErrorCode; message: string } {
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message };
  if (error instanceof EventStreamError) return { status: error.meta.status, code: error.code, message: error.message };
  if (error instanceof AdmissionError) return { status: 400, code: error.code, message: error.message };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return validationError(fastifyError, request);
  switch (fastifyError.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, code: "TOO_LARGE", message: `body over ${MAX_BODY_BYTES} bytes` };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", message: "send Content-Type: application/json" };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, code: "BAD_JSON", message: "body is empty" };
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { status, code: "BAD_REQUEST", message: STATUS_CODES[status] ?? "bad request" };
  return { status: 500, code: "INTERNAL", message: "internal error" };
}

/** What each validated field must be, in words. */
const EXPECTED: Record<string, string> = {
  chainId: "a decimal integer string",
  blockNumber: "a decimal integer string",
  nonce: "a decimal integer string",
  createdAt: "a decimal integer string",
  expiresAt: "a decimal integer string",
  target: "a 20-byte hex address",
  implementation: "a 20-byte hex address",
  proposer: "a 20-byte hex address",
  sourceHash: "a 0x-prefixed 32-byte hex string",
  policyHash: "a 0x-prefixed 32-byte hex string",
  signature: "a 0x-prefixed 65-byte hex string",
  candidate: "an object",
  bundle: "an object",
};

/** A schema refusal, named by field: BAD_QUERY / BAD_ID / BAD_EVENT_ID, or for a body CANDIDATE_REQUIRED / MALFORMED. */
function validationError(error: FastifyError, request: FastifyRequest): { status: number; code: ApiErrorCode; message: string } {
  const first = error.validation![0]!;
  const missing = first.keyword === "required" ? (first.params as { missingProperty?: string }).missingProperty : undefined;
  const segments = first.instancePath.split("/").filter(Boolean);
  if (missing !== undefined) segments.push(missing);
  const field = segments.join(".");
  const last = segments.at(-1) ?? "";
  const expected = missing !== undefined ? "is required" : `must be ${EXPECTED[last] ?? first.message ?? "valid"}`;
  switch (error.validationContext) {
    case "params":
      return { status: 400, code: "BAD_ID", message: "candidate id must be 0x followed by 64 hex digits" };
    case "querystring":
      if (request.routeOptions.url === "/v1/events") {
        if (field === "lastEventId") return { status: 400, code: "BAD_EVENT_ID", message: "lastEventId must be a non-negative integer, as the stream sent it" };
        return { status: 400, code: "BAD_QUERY", message: `${field || "query"}: ${first.message ?? "invalid"}` };
      }
      if (field === "chainId") return { status: 400, code: "BAD_QUERY", message: "chainId must be a positive integer" };
      if (field === "target") return { status: 400, code: "BAD_QUERY", message: "target must be a 20-byte hex address" };
      if (field === "candidateId") return { status: 400, code: "BAD_QUERY", message: "candidateId must be 0x followed by 64 hex digits" };
      return { status: 400, code: "BAD_QUERY", message: `${field || "query"}: ${first.message ?? "invalid"}` };
    case "headers":
      return { status: 400, code: "BAD_EVENT_ID", message: "Last-Event-ID must be a non-negative integer, as the stream sent it" };
    default:
      if (field === "candidate" && missing !== undefined) {
        return { status: 400, code: "CANDIDATE_REQUIRED", message: "the body has no `candidate`: send {candidate, signature, bundle} (docs/node.md)" };
      }
      if (field === "") return { status: 400, code: "MALFORMED", message: "body: must be a JSON object {candidate, signature, bundle}" };
      return { status: 400, code: "MALFORMED", message: `${field}: ${expected}` };
  }
}

/**
 * Reads a JSON body: at most `limit` bytes, all of it within `timeoutMs` (a body shorter than
 * its Content-Length, or one sent a byte at a time, is cut off then), valid UTF-8.
 */
function readJsonBody(stream: IncomingMessage, limit: number, timeoutMs: number, declared: string | undefined): Promise<unknown> {
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(new HttpError(413, "TOO_LARGE", `body over ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (error: Error | undefined) => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.off("aborted", onAborted);
      if (error) return reject(error);
      try {
        resolve(parseUntrustedJson(Buffer.concat(chunks, total)));
      } catch (parseError) {
        reject(new HttpError(400, "BAD_JSON", `body is ${(parseError as Error).message}`));
      }
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) return finish(new HttpError(413, "TOO_LARGE", `body over ${limit} bytes`));
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = (error: Error) => finish(new HttpError(400, "BAD_REQUEST", "the body could not be read", { cause: error }));
    const onAborted = () => finish(new HttpError(400, "BAD_REQUEST", "the client went away"));
    const timer = setTimeout(() => finish(new HttpError(408, "BODY_TIMEOUT", `the body did not arrive within ${timeoutMs} ms`)), timeoutMs);
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", onError);
    stream.once("aborted", onAborted);
  });
}

/** Malformed HTTP (or headers that never end): a JSON error written on the socket, which is then closed. */
function clientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, message] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "REQUEST_TIMEOUT", "the request did not arrive in time"]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "HEADERS_TOO_LARGE", "the request line and headers are too large"]
        : [400, "BAD_REQUEST", "malformed HTTP request"];
  if (!socket.writable) return void socket.destroy();
  endSocketWithJson(socket, status, { error: code, message });
}
