// Malformed requests for the API's fuzz test and its benchmark: bad paths (runs of slashes, dots,
// unicode, %-escapes, very long), bad methods, bad, missing and duplicated headers, wrong content
// types, truncated, oversized and junk bodies, almost-valid candidates with one field broken,
// random JSON. Raw ones go over plain sockets (what an HTTP client refuses to send), well-formed
// ones through node:http with keep-alive. Seeded: a failure names its seed and is replayed
// exactly. `source`: the loopback address the requests come from (127.0.0.0/8 is all loopback),
// so that a test can tell the fuzz's address from an honest client's.
import type { Json } from "../../src/util/json.ts";
import { Agent } from "node:http";
import { httpRequest, rawRequest } from "./rawHttp.ts";

/** A small seeded PRNG (mulberry32): the fuzz is reproducible from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzResult {
  status: number;
  /** What was sent, shortened, for a failure's message. */
  what: string;
}

const ROUTES = ["/v1/candidates", "/v1/candidates/0x" + "ab".repeat(32), "/v1/attestations/0x" + "cd".repeat(32), "/v1/attestations", "/v1/peers", "/health", "/ready", "/metrics", "/openapi.json", "/v1/events", "/v1/status", "/"];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "FOO", "get", "G ET", "", "POST".repeat(100)];
const CONTENT_TYPES = ["application/json", "application/jsonfoo", "text/plain", "application/json; charset=utf-16", "application/json;;", "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "*/*", "application/json\u0000", "APPLICATION/JSON", "application/json; charset=utf-8; x=y"];

export function makeFuzzer(rand: () => number, validBody: Record<string, Json>, source?: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const from = source !== undefined ? { localAddress: source } : {};
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const int = (n: number) => Math.floor(rand() * n);

  function path(): string {
    const base = pick(ROUTES);
    switch (int(16)) {
      case 0: return "/".repeat(1 + int(15_000));
      case 1: return base + "/".repeat(1 + int(5_000));
      case 2: return "//" + base;
      case 3: return "/\\" + base.slice(1);
      case 4: return base.replace(/\//g, () => pick(["/", "//", "/./", "/../", "\\", "%2F", "%2f", "/%2e%2e/"]));
      case 5: return base + "/" + "é漢😀".repeat(1 + int(50));
      case 6: return base + "%" + pick(["", "G", "ZZ", "e", "00", "ff", "c3", "ed%a0%80"]);
      case 7: return "/" + "a".repeat(1 + int(20_000));
      case 8: return base + "?" + pick(["chainId=1&target=0x12", "chainId=" + "9".repeat(int(40)), "target=" + "0".repeat(int(100)), "lastEventId=-1", "types=" + ",".repeat(int(1000)), "a=%", "candidateId=0x" + "f".repeat(int(100)), "chainId=1&chainId=2", "=".repeat(int(1000)), "&".repeat(int(5000))]);
      case 9: return "*";
      case 10: return "http://example.com" + base;
      case 11: return base.toUpperCase();
      case 12: return base + "/.";
      case 13: return base.slice(0, 1 + int(base.length - 1));
      case 14: return base + "#frag";
      default: return base;
    }
  }

  function junk(n: number): string {
    let out = "";
    for (let i = 0; i < n; i++) out += String.fromCharCode(pick([int(0x80), int(0x10000), 0x7b, 0x22, 0x5b, 0x30 + int(10)]));
    return out;
  }

  function randomJson(depth = 0): Json {
    switch (depth > 3 ? int(4) : int(7)) {
      case 0: return null;
      case 1: return rand() < 0.5;
      case 2: return pick([0, -1, 1e308, 0.5, 2 ** 64, Number.MAX_SAFE_INTEGER]);
      case 3: return junk(int(40));
      case 4: return Array.from({ length: int(5) }, () => randomJson(depth + 1));
      default: return Object.fromEntries(Array.from({ length: int(5) }, () => [pick(["candidate", "signature", "bundle", "proposer", "__proto__", "constructor", junk(5)]), randomJson(depth + 1)]));
    }
  }

  /** A valid-looking submission with one field broken (or removed, or of another type). */
  function almostValid(): Json {
    const body = structuredClone(validBody) as Record<string, Json>;
    const candidate = body["candidate"] as Record<string, Json>;
    const broken = pick<Json>([null, "", "0x", "0x" + "g".repeat(64), -1, 1.5, "1e3", "01", " 1", "18446744073709551616", "9".repeat(90), [], {}, true, junk(20), "0x" + "00".repeat(32)]);
    switch (int(6)) {
      case 0: {
        const field = pick(Object.keys(candidate));
        if (rand() < 0.3) delete candidate[field];
        else candidate[field] = broken;
        break;
      }
      case 1: body["signature"] = pick<Json>([broken, "0x" + "00".repeat(65), "0x" + "ff".repeat(65), (body["signature"] as string).slice(0, 100)]); break;
      case 2: body["bundle"] = pick<Json>([broken, { schema: "x" }, { ...(body["bundle"] as object), upgradeCall: broken }, { ...(body["bundle"] as object), policy: broken }]); break;
      case 3: body["proposer"] = pick<Json>([broken, "0x" + "12".repeat(20)]); break;
      case 4: candidate["nonce"] = String(1 + int(1_000_000)); break; // edited after signing
      default: delete body[pick(["candidate", "signature", "bundle"])];
    }
    return body;
  }

  function body(): { text: string; type: string } {
    switch (int(8)) {
      case 0: return { text: JSON.stringify(almostValid()), type: "application/json" };
      case 1: return { text: JSON.stringify(almostValid()), type: "application/json" };
      case 2: return { text: JSON.stringify(randomJson()), type: "application/json" };
      case 3: return { text: JSON.stringify(validBody).slice(0, int(JSON.stringify(validBody).length)), type: "application/json" };
      case 4: return { text: junk(int(2000)), type: pick(CONTENT_TYPES) };
      case 5: return { text: "[".repeat(int(100_000)), type: "application/json" };
      case 6: return { text: JSON.stringify(almostValid()), type: pick(CONTENT_TYPES) };
      default: return { text: "", type: pick(CONTENT_TYPES) };
    }
  }

  /** One request over a raw socket: anything goes, down to the request line. */
  async function raw(url: string): Promise<FuzzResult> {
    const aimed = rand() < 0.3;
    const method = aimed ? "POST" : pick(METHODS);
    const p = aimed ? "/v1/candidates" : path();
    const b = body();
    const bytes = Buffer.from(b.text);
    const headers: string[] = [];
    if (rand() < 0.9) headers.push("Host: 127.0.0.1");
    if (rand() < 0.8) headers.push(`Content-Type: ${b.type}`);
    if (rand() < 0.15) headers.push(`Content-Type: ${pick(CONTENT_TYPES)}`);
    let send: Buffer = bytes;
    switch (int(9)) {
      case 0: headers.push(`Content-Length: ${bytes.length + 1 + int(100)}`); break; // truncated: waits for the body timeout
      case 1: headers.push(`Content-Length: ${bytes.length}`, `Content-Length: ${bytes.length + 1}`); break;
      case 2: headers.push(`Content-Length: ${pick(["-1", "x", "1e3", "99999999999999999999", " ", "0x10"])}`); break;
      case 3: headers.push(`Content-Length: ${pick([64 << 20, 5 << 20, 2 ** 53])}`); send = bytes.subarray(0, 100); break; // oversized
      case 4: {
        headers.push("Transfer-Encoding: chunked");
        const size = rand() < 0.5 ? bytes.length.toString(16) : pick(["zz", "-1", "ffffffffffffffff", ""]);
        send = Buffer.concat([Buffer.from(`${size}\r\n`), bytes, Buffer.from(rand() < 0.5 ? "\r\n0\r\n\r\n" : "\r\n")]);
        break;
      }
      case 5: headers.push("Transfer-Encoding: chunked", `Content-Length: ${bytes.length}`); break;
      case 6: headers.push(`${junk(10)}: ${junk(10)}`, `Content-Length: ${bytes.length}`); break;
      case 7: headers.push(`Last-Event-ID: ${pick(["-1", "x", "1".repeat(40), "1", ""])}`, `Last-Event-ID: 2`, `Content-Length: ${bytes.length}`); break;
      default: headers.push(`Content-Length: ${bytes.length}`);
    }
    if (rand() < 0.05) headers.push("X-Big: " + "a".repeat(20_000));
    const version = rand() < 0.9 ? "HTTP/1.1" : pick(["HTTP/1.0", "HTTP/2.0", "HTTP/9", "FOO"]);
    const head = `${method} ${p} ${version}\r\n${headers.join("\r\n")}\r\n\r\n`;
    const response = await rawRequest(url, Buffer.concat([Buffer.from(head, "latin1"), send]), { timeoutMs: 5_000, ...from });
    return { status: response.status, what: head.slice(0, 200) };
  }

  /** One well-formed request through node:http: a route, a method, a body. */
  async function wellFormed(url: string): Promise<FuzzResult> {
    // Half of them aim at the one route that takes a body, with the right content type.
    if (rand() < 0.5) {
      const text = rand() < 0.8 ? JSON.stringify(almostValid()) : body().text;
      const status = await httpRequest(`${url}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: text, agent, timeoutMs: 5_000, ...from });
      return { status, what: `POST /v1/candidates ${text.slice(0, 200)}` };
    }
    const method = pick(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "POST", "POST"]);
    let p = path();
    if (!p.startsWith("/") || p.length > 8_000) p = pick(ROUTES);
    const b = body();
    const sendsBody = method !== "GET" && method !== "HEAD";
    const status = await httpRequest(`${url}${p}`, {
      method,
      ...(sendsBody && { body: b.text, headers: b.type ? { "content-type": b.type } : {} }),
      agent,
      timeoutMs: 5_000,
      ...from,
    });
    return { status, what: `${method} ${p.slice(0, 100)} ${b.type} ${b.text.slice(0, 100)}` };
  }

  /** Closes the keep-alive connections. */
  const close = () => agent.destroy();

  return { raw, wellFormed, close };
}

/** Sends `count` fuzz requests, `concurrency` at a time, half raw and half through fetch. */
export async function fuzz(url: string, validBody: Record<string, Json>, options: { seed: number; count: number; concurrency: number; deadline?: number; source?: string }): Promise<FuzzResult[]> {
  const rand = prng(options.seed);
  const fuzzer = makeFuzzer(rand, validBody, options.source);
  const results: FuzzResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.count && (options.deadline === undefined || Date.now() < options.deadline)) {
      next++;
      results.push(await (rand() < 0.5 ? fuzzer.raw(url) : fuzzer.wellFormed(url)));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  fuzzer.close();
  return results;
}
