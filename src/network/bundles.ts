// The bundle request/response protocol: source bundles are too large for gossip, so a node
// asks a peer for one by its keccak256 content hash. The hash is the only thing trusted: a
// response is accepted only if it hashes to what was asked, so a peer cannot substitute code.
//
// Wire format (it-length-prefixed: unsigned varint length, then bytes), one stream per request:
//   request : one frame, the 32-byte hash; the requester then closes its writable end
//   response: one frame, a status byte then the body
//             0x00 OK          body = the bundle
//             0x01 NOT_FOUND   body empty
//             0x02 UNAVAILABLE body empty (store failure, or bundle above the server's limit)
import type { PeerId, Stream, StreamHandler } from "@libp2p/interface";
import * as lp from "it-length-prefixed";
import type { Logger } from "pino";
import { bytesToHex, hexToBytes, keccak256, type Hex } from "viem";
import { BundleFetchError, type BundleFetchErrorCode } from "./errors.ts";

export interface BundleStore {
  /** The bundle whose keccak256 is `hash` (lowercase 0x hex), or undefined if not held. */
  get(hash: Hex): Promise<Uint8Array | undefined>;
}

export const BUNDLE_STATUS = { ok: 0x00, notFound: 0x01, unavailable: 0x02 } as const;

const HASH_BYTES = 32;
const HASH_HEX = /^0x[0-9a-fA-F]{64}$/;
/** A request that has not arrived in this time is dropped (the server side's bound). */
export const BUNDLE_SERVE_TIMEOUT_MS = 10_000;
/** Concurrent bundle requests one connection may have open at our side. */
export const BUNDLE_MAX_INBOUND_STREAMS = 4;

export interface BundleServerOptions {
  /** Bundles above this are answered UNAVAILABLE: peers would refuse them anyway. */
  maxBundleBytes: number;
}

export interface BundleServerModules {
  store: BundleStore;
  logger: Logger;
}

/** The stream handler that serves bundles from the store. */
export function bundleServer(options: BundleServerOptions, modules: BundleServerModules): StreamHandler {
  const { store, logger } = modules;
  return async (stream, connection) => {
    const peer = connection.remotePeer.toString();
    const signal = AbortSignal.timeout(BUNDLE_SERVE_TIMEOUT_MS);
    try {
      const request = await readOneFrame(stream, HASH_BYTES, signal);
      if (request.byteLength !== HASH_BYTES) {
        throw new Error(`bundle request must be ${HASH_BYTES} bytes, got ${request.byteLength}`);
      }
      const hash = bytesToHex(request);
      let status: number = BUNDLE_STATUS.ok;
      let bundle: Uint8Array | undefined;
      try {
        bundle = await store.get(hash);
        if (bundle === undefined) status = BUNDLE_STATUS.notFound;
        else if (bundle.byteLength > options.maxBundleBytes) {
          logger.warn({ hash, bytes: bundle.byteLength, max: options.maxBundleBytes }, "bundle above maxBundleBytes not served");
          status = BUNDLE_STATUS.unavailable;
        }
      } catch (err) {
        logger.warn({ err, hash }, "bundle store failed");
        status = BUNDLE_STATUS.unavailable;
      }
      const body = status === BUNDLE_STATUS.ok && bundle !== undefined ? bundle : new Uint8Array();
      const frame = new Uint8Array(1 + body.byteLength);
      frame[0] = status;
      frame.set(body, 1);
      await send(stream, lp.encode.single(frame, { maxDataLength: options.maxBundleBytes + 1 }), signal);
      await stream.close({ signal });
      logger.debug({ peer, hash, status }, "bundle request served");
    } catch (err) {
      logger.debug({ err, peer }, "bundle request failed");
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  };
}

export interface BundleClientOptions {
  protocol: string;
  maxBundleBytes: number;
  timeoutMs: number;
}

/** How the client opens a stream: libp2p.dialProtocol. */
export type DialProtocol = (peer: PeerId, protocol: string, options: { signal: AbortSignal }) => Promise<Stream>;

/**
 * Asks `peer` for the bundle with keccak256 `hash`. Resolves with bytes that hash to it, or
 * throws BundleFetchError (NOT_FOUND, TOO_LARGE, HASH_MISMATCH, TIMEOUT, ...).
 */
export async function requestBundle(dial: DialProtocol, peer: PeerId, hash: Hex, options: BundleClientOptions): Promise<Uint8Array> {
  const context = { peer: peer.toString(), hash };
  const fail = (code: BundleFetchErrorCode, message: string, cause?: unknown): BundleFetchError =>
    new BundleFetchError(code, `bundle ${hash} from ${context.peer}: ${message}`, context, { cause });
  if (!HASH_HEX.test(hash)) throw fail("INVALID_HASH", "hash must be 0x followed by 64 hex characters");
  const wanted = hash.toLowerCase() as Hex;
  const signal = AbortSignal.timeout(options.timeoutMs);

  let stream: Stream;
  try {
    stream = await dial(peer, options.protocol, { signal });
  } catch (cause) {
    throw signal.aborted ? fail("TIMEOUT", `no stream within ${options.timeoutMs} ms`, cause) : fail("DIAL_FAILED", "could not open a stream", cause);
  }

  let frame: Uint8Array;
  try {
    // The whole response may arrive before we read it; let it fit in the stream's buffer.
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, options.maxBundleBytes + 16);
    await send(stream, lp.encode.single(hexToBytes(wanted)), signal);
    await stream.close({ signal });
    frame = await readOneFrame(stream, options.maxBundleBytes + 1, signal);
  } catch (cause) {
    stream.abort(cause instanceof Error ? cause : new Error(String(cause)));
    const framing = framingFailure(cause);
    if (framing === "TOO_LARGE") throw fail("TOO_LARGE", `response above maxBundleBytes (${options.maxBundleBytes})`, cause);
    if (signal.aborted) throw fail("TIMEOUT", `no response within ${options.timeoutMs} ms`, cause);
    if (framing === "TRUNCATED") throw fail("PROTOCOL", "truncated response", cause);
    throw fail("STREAM", "stream failed before a response arrived", cause);
  }

  const status = frame[0];
  const body = frame.subarray(1);
  switch (status) {
    case BUNDLE_STATUS.ok: {
      const actual = keccak256(body);
      if (actual !== wanted) throw fail("HASH_MISMATCH", `the peer served bytes hashing to ${actual}`);
      return body;
    }
    case BUNDLE_STATUS.notFound:
      throw fail("NOT_FOUND", "the peer does not have it");
    case BUNDLE_STATUS.unavailable:
      throw fail("UNAVAILABLE", "the peer could not serve it");
    default:
      throw fail("PROTOCOL", status === undefined ? "empty response" : `unknown status ${status}`);
  }
}

/**
 * The length-prefix decoder's own failures, told apart from stream failures. it-length-prefixed
 * does not export its error classes (and @libp2p/utils defines others of the same names), so
 * their `name` is all there is to go by: this is the one place that matches on it, at the
 * boundary, and the rest of this file only sees the result.
 */
function framingFailure(cause: unknown): "TOO_LARGE" | "TRUNCATED" | undefined {
  if (!(cause instanceof Error)) return undefined;
  if (cause.name === "InvalidDataLengthError") return "TOO_LARGE";
  if (cause.name === "UnexpectedEOFError") return "TRUNCATED";
  return undefined;
}

/** The first length-prefixed frame of the stream, at most maxBytes long. */
async function readOneFrame(stream: Stream, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const onAbort = (): void => {
    stream.abort(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
  };
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const frame of lp.decode(stream, { maxDataLength: maxBytes })) {
      // A plain Uint8Array view (a single-chunk list hands out a Buffer), no copy.
      const bytes = frame.subarray();
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    throw new Error("stream ended before a complete frame");
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Writes with backpressure: waits for 'drain' when the stream's buffer is full. */
async function send(stream: Stream, data: Uint8Array | ReturnType<typeof lp.encode.single>, signal: AbortSignal): Promise<void> {
  if (!stream.send(data)) await stream.onDrain({ signal });
}
