// Test helpers for the network layer: real libp2p hosts on 127.0.0.1, handlers that record
// what they saw, and polling instead of fixed sleeps.
import type { PeerId } from "@libp2p/interface";
import { pino, type Logger } from "pino";
import { bytesToHex, type Hex } from "viem";
import type { BundleStore, GossipHandlers, GossipKind, GossipVerdict, NetworkOptions } from "../../src/network/index.ts";
import { SentinelNetwork } from "../../src/network/index.ts";

export const NETWORK_ID: Hex = "0x5e47191e1000000000000000000000000000000000000000000000000000beef";

/** Silent unless LOG_LEVEL is set (e.g. LOG_LEVEL=debug to see validation decisions). */
export function testLogger(): Logger {
  return pino({ level: process.env["LOG_LEVEL"] ?? "silent" });
}

export interface Seen {
  kind: GossipKind;
  data: Hex;
  from: string;
}

/**
 * Handlers whose verdict is chosen by the payload's first byte, so a test steers each host:
 *   0x01 accept, 0x02 reject, 0x03 throw, anything else ignore.
 */
export const MARK = { accept: 0x01, reject: 0x02, throws: 0x03 } as const;

export class RecordingHandlers implements GossipHandlers {
  readonly seen: Seen[] = [];

  candidate(data: Uint8Array, from: PeerId): Promise<GossipVerdict> {
    return this.handle("candidate", data, from);
  }
  verdict(data: Uint8Array, from: PeerId): Promise<GossipVerdict> {
    return this.handle("verdict", data, from);
  }
  attestation(data: Uint8Array, from: PeerId): Promise<GossipVerdict> {
    return this.handle("attestation", data, from);
  }
  approval(data: Uint8Array, from: PeerId): Promise<GossipVerdict> {
    return this.handle("approval", data, from);
  }

  saw(data: Uint8Array, kind?: GossipKind): boolean {
    return this.entry(data, kind) !== undefined;
  }

  entry(data: Uint8Array, kind?: GossipKind): Seen | undefined {
    const hex = bytesToHex(data);
    return this.seen.find((entry) => entry.data === hex && (kind === undefined || entry.kind === kind));
  }

  private async handle(kind: GossipKind, data: Uint8Array, from: PeerId): Promise<GossipVerdict> {
    this.seen.push({ kind, data: bytesToHex(data), from: from.toString() });
    await Promise.resolve();
    switch (data[0]) {
      case MARK.accept:
        return "accept";
      case MARK.reject:
        return "reject";
      case MARK.throws:
        throw new Error("handler failure (test)");
      default:
        return "ignore";
    }
  }
}

export class MapBundleStore implements BundleStore {
  readonly bundles = new Map<string, Uint8Array>();
  readonly failing = new Set<string>();

  async get(hash: Hex): Promise<Uint8Array | undefined> {
    if (this.failing.has(hash)) throw new Error("store failure (test)");
    return this.bundles.get(hash);
  }
}

export interface TestNode {
  net: SentinelNetwork;
  handlers: RecordingHandlers;
  bundles: MapBundleStore;
  /** First listen address, with /p2p/<peerId>. */
  address: string;
}

export async function startNode(overrides: Partial<NetworkOptions> = {}): Promise<TestNode> {
  const handlers = new RecordingHandlers();
  const bundles = new MapBundleStore();
  const net = await SentinelNetwork.create(
    { networkId: NETWORK_ID, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [], ...overrides },
    { handlers, bundles, logger: testLogger() },
  );
  const address = net.multiaddrs()[0]?.toString();
  if (address === undefined) throw new Error("node has no listen address");
  return { net, handlers, bundles, address };
}

export async function stopAll(nodes: Array<TestNode | undefined>): Promise<void> {
  await Promise.all(nodes.map((node) => node?.net.stop()));
}

/** Polls `condition` every `intervalMs` until it holds, or fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function includesPeer(peers: PeerId[], peer: PeerId): boolean {
  return peers.some((candidate) => candidate.equals(peer));
}

/** A payload starting with `mark`, unique per call. */
export function payload(mark: number, size = 32): Uint8Array {
  const bytes = crypto.getRandomValues(new Uint8Array(size));
  bytes[0] = mark;
  return bytes;
}
