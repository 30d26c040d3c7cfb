// The recent-candidates request/response protocol: what a node asks a peer it (re)connects to,
// so that a candidate gossiped while it was down or still joining the mesh is not lost (gossip
// is never replayed). The peer answers with the gossip payloads of the unexpired candidates it
// admitted most recently. Nothing in an answer is trusted: the requester passes each payload
// through admission exactly as a gossiped candidate, so a peer can make it do no more than a
// gossip message could, and the answer is bounded in count and bytes.
//
// Wire format (it-length-prefixed), one stream per request:
//   request : one empty frame; the requester then closes its writable end
//   response: up to `maxCandidates` frames, each one candidate's gossip payload, then the
//             server closes. A peer asked again within `minIntervalMs` answers no frames.
import type { PeerId, Stream, StreamHandler } from "@libp2p/interface";
import * as lp from "it-length-prefixed";
import type { Logger } from "pino";
import type { DialProtocol } from "./bundles.ts";

export interface RecentCandidateSource {
  /** Gossip payloads of the newest unexpired candidates held, newest first, at most `limit`. */
  recent(limit: number): Promise<Uint8Array[]>;
}

export interface RecentCandidatesLimits {
  /** Candidates in one answer. */
  maxCandidates: number;
  /** Bytes of one candidate (the gossip limit). */
  maxCandidateBytes: number;
  /** Bytes of one whole answer. */
  maxAnswerBytes: number;
}

export const DEFAULT_RECENT_LIMITS: RecentCandidatesLimits = { maxCandidates: 64, maxCandidateBytes: 64 * 1024, maxAnswerBytes: 1024 * 1024 };
/** One answer per peer per this interval: a peer in a reconnect loop costs the server little. */
export const RECENT_MIN_INTERVAL_MS = 10_000;
export const RECENT_SERVE_TIMEOUT_MS = 10_000;
export const RECENT_MAX_INBOUND_STREAMS = 2;
/** Peers whose last request time is remembered (the oldest forgotten first). */
const MAX_REMEMBERED_PEERS = 1024;

export interface RecentServerStats {
  served: number;
  throttled: number;
  failed: number;
}

/** The stream handler that answers from `source`, at most once per peer per `minIntervalMs`. */
export function recentCandidatesServer(
  options: RecentCandidatesLimits & { minIntervalMs: number },
  modules: { source: RecentCandidateSource; logger: Logger; now: () => number; stats: RecentServerStats },
): StreamHandler {
  const lastAsked = new Map<string, number>();
  return async (stream, connection) => {
    const peer = connection.remotePeer.toString();
    const signal = AbortSignal.timeout(RECENT_SERVE_TIMEOUT_MS);
    try {
      await readRequest(stream, signal);
      const now = modules.now();
      const previous = lastAsked.get(peer);
      lastAsked.delete(peer);
      lastAsked.set(peer, now);
      if (lastAsked.size > MAX_REMEMBERED_PEERS) lastAsked.delete(lastAsked.keys().next().value!);
      let total = 0;
      if (previous !== undefined && now - previous < options.minIntervalMs) {
        modules.stats.throttled++;
      } else {
        for (const payload of (await modules.source.recent(options.maxCandidates)).slice(0, options.maxCandidates)) {
          if (payload.byteLength > options.maxCandidateBytes || total + payload.byteLength > options.maxAnswerBytes) continue;
          total += payload.byteLength;
          if (!stream.send(lp.encode.single(payload))) await stream.onDrain({ signal });
        }
        modules.stats.served++;
      }
      await stream.close({ signal });
      modules.logger.debug({ peer, bytes: total }, "recent candidates served");
    } catch (err) {
      modules.stats.failed++;
      modules.logger.debug({ err, peer }, "recent candidates request failed");
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  };
}

/** Asks `peer` for its recent candidates: the payloads, within the limits (frames beyond them end the read). */
export async function requestRecentCandidates(dial: DialProtocol, peer: PeerId, protocol: string, options: RecentCandidatesLimits & { timeoutMs: number }): Promise<Uint8Array[]> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const stream = await dial(peer, protocol, { signal });
  try {
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, options.maxAnswerBytes + 16 * options.maxCandidates);
    if (!stream.send(lp.encode.single(new Uint8Array()))) await stream.onDrain({ signal });
    await stream.close({ signal });
    return await readFrames(stream, { maxFrames: options.maxCandidates, maxFrameBytes: options.maxCandidateBytes, maxTotalBytes: options.maxAnswerBytes }, signal);
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

/** The request: one empty frame (anything longer fails the decode). */
async function readRequest(stream: Stream, signal: AbortSignal): Promise<void> {
  const release = abortOn(stream, signal);
  try {
    for await (const _ of lp.decode(stream, { maxDataLength: 0 })) break;
  } finally {
    release();
  }
}

/** Frames until the stream ends; throws past any bound (the whole answer is then refused). */
async function readFrames(stream: Stream, bounds: { maxFrames: number; maxFrameBytes: number; maxTotalBytes: number }, signal: AbortSignal): Promise<Uint8Array[]> {
  const release = abortOn(stream, signal);
  const frames: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const frame of lp.decode(stream, { maxDataLength: bounds.maxFrameBytes })) {
      total += frame.byteLength;
      if (frames.length >= bounds.maxFrames || total > bounds.maxTotalBytes) throw new Error(`answer beyond ${bounds.maxFrames} frames or ${bounds.maxTotalBytes} bytes`);
      frames.push(frame.subarray().slice());
    }
    return frames;
  } finally {
    release();
  }
}

function abortOn(stream: Stream, signal: AbortSignal): () => void {
  const onAbort = (): void => stream.abort(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}
