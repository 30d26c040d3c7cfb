// JSON answers written below fastify: on a socket the HTTP parser does not own (malformed HTTP,
// CONNECT, a connection shed as it is accepted) and on a bare response (the event stream's
// errors, a request shed before routing). One place for the status line, the headers and the close.
import { STATUS_CODES, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** Writes `body` as a whole HTTP answer on `socket` and closes it (destroyed after 1 s if the client does not close). */
export function endSocketWithJson(socket: Socket, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  const lines = Object.entries({ "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(text)), ...headers, Connection: "close" }).map(([name, value]) => `${name}: ${value}`);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join("\r\n")}\r\n\r\n${text}`);
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/** Sends `body` as the whole answer on `response`. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  response.end(text);
}
