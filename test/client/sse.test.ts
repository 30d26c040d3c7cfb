// The event-stream parser as a network delivers bytes: frames split anywhere, CRLF and CR line
// ends, multi-byte characters cut in half, comments, and a bound on what it buffers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SseParser } from "../../src/client/sse.ts";

const FRAMES = 'retry: 2000\n\n: ping\n\nid: 1\nevent: candidate.admitted\ndata: {"id":1,"note":"héllo ✓"}\n\nid: 2\nevent: relay.result\ndata: {"id":2}\n\n';

function parseAll(chunks: (string | Uint8Array)[]) {
  const parser = new SseParser();
  const out = chunks.flatMap((chunk) => parser.push(chunk));
  return { out, parser };
}

describe("SseParser", () => {
  it("whole frames: events with id, type and data; comments and retry are not events", () => {
    const { out, parser } = parseAll([FRAMES]);
    assert.deepEqual(out, [
      { id: "1", event: "candidate.admitted", data: '{"id":1,"note":"héllo ✓"}' },
      { id: "2", event: "relay.result", data: '{"id":2}' },
    ]);
    assert.equal(parser.retryMs, 2000);
  });

  it("the same bytes split at every offset, one byte at a time, give the same events", () => {
    const bytes = new TextEncoder().encode(FRAMES);
    const expected = parseAll([FRAMES]).out;
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(parseAll([bytes.subarray(0, cut), bytes.subarray(cut)]).out, expected, `split at ${cut}`);
    }
    assert.deepEqual(parseAll([...bytes].map((b) => Uint8Array.of(b))).out, expected, "byte by byte");
  });

  it("CRLF and lone CR line ends, also split between CR and LF", () => {
    const crlf = FRAMES.replace(/\n/g, "\r\n");
    const expected = parseAll([FRAMES]).out;
    assert.deepEqual(parseAll([crlf]).out, expected);
    assert.deepEqual(parseAll([FRAMES.replace(/\n/g, "\r")]).out, expected);
    const at = crlf.indexOf("\r\n") + 1;
    assert.deepEqual(parseAll([crlf.slice(0, at), crlf.slice(at)]).out, expected);
  });

  it("multi-line data is joined with newlines; an event without data is not dispatched", () => {
    const { out } = parseAll(["event: x\n\ndata: a\ndata: b\n\n"]);
    assert.deepEqual(out, [{ id: undefined, event: "message", data: "a\nb" }]);
  });

  it("bounded: a line or an event's data over the bound throws instead of buffering", () => {
    const parser = new SseParser({ maxEventBytes: 64 });
    assert.throws(() => parser.push(`data: ${"x".repeat(100)}`), { name: "SseOverflowError" });
    const lines = new SseParser({ maxEventBytes: 64 });
    assert.throws(() => lines.push(`${"data: 0123456789\n".repeat(10)}`), { name: "SseOverflowError" });
  });
});
