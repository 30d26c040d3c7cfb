// Raw HTTP over a plain socket, for requests fetch will not send (malformed paths, duplicated or
// broken headers, bodies shorter than their Content-Length). Reads one response (by its
// Content-Length) or until the server closes the connection, within a bound.
import { Agent, request } from "node:http";
import { connect } from "node:net";

export interface RawResponse {
  /** 0 when the server closed without answering. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection. */
  closed: boolean;
  ms: number;
}

export function rawRequest(url: string, bytes: string | Buffer, options: { timeoutMs?: number; keepOpen?: boolean; localAddress?: string } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ port: Number(port), host: hostname, ...(options.localAddress !== undefined && { localAddress: options.localAddress }) });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parse(received), closed, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 10_000);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const parsed = parse(received);
      const length = Number(parsed.headers["content-length"] ?? NaN);
      if (parsed.status !== 0 && Number.isFinite(length) && Buffer.byteLength(parsed.body) >= length && !options.keepOpen) finish(false);
    });
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    socket.write(bytes);
  });
}

function parse(bytes: Buffer): { status: number; headers: Record<string, string>; body: string } {
  const text = bytes.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return { status: 0, headers: {}, body: "" };
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1] ?? 0);
  return { status, headers, body: bytes.subarray(Buffer.byteLength(text.slice(0, end + 4), "latin1")).toString("utf8") };
}

/**
 * One well-formed request through node:http (keep-alive `agent`), from `localAddress` when given:
 * the status, or 0 when no answer came within `timeoutMs` (or node:http refused to send it).
 */
export function httpRequest(url: string, init: { method: string; headers?: Record<string, string>; body?: string; agent: Agent; localAddress?: string; timeoutMs: number }): Promise<number> {
  return new Promise((resolve) => {
    let outgoing: ReturnType<typeof request>;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(status);
    };
    const options = { method: init.method, headers: init.headers ?? {}, agent: init.agent, ...(init.localAddress !== undefined && { localAddress: init.localAddress }) };
    try {
      outgoing = request(url, options, (response) => {
        response.resume();
        response.once("end", () => finish(response.statusCode ?? 0));
        response.once("error", () => finish(0));
      });
    } catch {
      return finish(0); // a header node:http will not send (a NUL in it): fetch refuses these too
    }
    timer = setTimeout(() => {
      outgoing.destroy();
      finish(0);
    }, init.timeoutMs);
    outgoing.once("error", () => finish(0));
    outgoing.end(init.body);
  });
}
