// A server-sent events parser (the WHATWG event-stream format) for the client's `subscribe`: fed
// chunks as they arrive, split anywhere (inside a line, a CRLF, a multi-byte character), it hands
// on whole events. No dependency. Bounded: a line or an event's data larger than the bound throws,
// so a node (or anything pretending to be one) cannot make a reader buffer without limit.

/** An attestation.formed event is ~2.5 KB; 1 MiB is far above any event a node sends. */
export const MAX_SSE_EVENT_BYTES = 1 << 20;

export interface SseMessage {
  /** The `id:` field, if the event had one. */
  id: string | undefined;
  /** The `event:` field, default "message". */
  event: string;
  data: string;
}

export class SseOverflowError extends Error {
  override name = "SseOverflowError";
}

export class SseParser {
  readonly #decoder = new TextDecoder("utf-8");
  readonly #maxBytes: number;
  #buffer = "";
  /** A chunk ended in CR: a LF starting the next one belongs to it. */
  #pendingCr = false;
  #id: string | undefined;
  #event = "";
  #data: string[] = [];
  #dataLength = 0;
  /** The `retry:` field last seen, in ms. */
  retryMs: number | undefined;

  constructor(options: { maxEventBytes?: number } = {}) {
    this.#maxBytes = options.maxEventBytes ?? MAX_SSE_EVENT_BYTES;
  }

  /** Parses one chunk; returns the events it completed. Throws SseOverflowError past the bound. */
  push(chunk: Uint8Array | string): SseMessage[] {
    let text = typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (this.#pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (;;) {
      const cr = this.#buffer.indexOf("\r", start);
      const lf = this.#buffer.indexOf("\n", start);
      if (cr === -1 && lf === -1) break;
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      const line = this.#buffer.slice(start, end);
      if (this.#buffer[end] === "\r") {
        if (end + 1 === this.#buffer.length) this.#pendingCr = true;
        start = this.#buffer[end + 1] === "\n" ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
      const message = this.#line(line);
      if (message) out.push(message);
    }
    this.#buffer = this.#buffer.slice(start);
    if (this.#buffer.length > this.#maxBytes) throw new SseOverflowError(`an event-stream line over ${this.#maxBytes} bytes`);
    return out;
  }

  #line(line: string): SseMessage | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.#dataLength += value.length + 1;
        if (this.#dataLength > this.#maxBytes) throw new SseOverflowError(`an event's data over ${this.#maxBytes} bytes`);
        this.#data.push(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.#id = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        // Unknown fields are ignored, as the format requires.
        break;
    }
    return undefined;
  }

  #dispatch(): SseMessage | undefined {
    const hasData = this.#data.length > 0;
    const message: SseMessage = { id: this.#id, event: this.#event || "message", data: this.#data.join("\n") };
    this.#event = "";
    this.#data = [];
    this.#dataLength = 0;
    // The id persists across events (the format's "last event ID buffer"); an event without data is not dispatched.
    return hasData ? message : undefined;
  }
}
