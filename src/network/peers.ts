// Staying connected to the bootstrap peers (the committee).
//
// Why not @libp2p/bootstrap: in libp2p 3 it dials its list once, `timeout` ms after start, and
// leaves reconnection to the keep-alive tag, whose reconnect queue gives up after 5 retries and
// then drops the tag for good; it also throws on an empty list (the first node of a network).
// A committee member should be re-dialled for as long as we run, so this dials every bootstrap
// peer directly at start, again shortly after it disconnects, and on a fixed interval for any
// that are still not connected. The list is small (<= 32), so this costs nothing, and dialling
// a full /p2p multiaddr makes Noise check we reached the peer id we expected.
import type { Libp2p, PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import type { Logger } from "pino";
import type { BootstrapPeer } from "./options.ts";

/** A dial that has not connected by then is abandoned (loopback/LAN peers answer in ms). */
export const DIAL_TIMEOUT_MS = 5_000;
/** Wait this long after a disconnect before re-dialling, so a peer that keeps dropping us is not dialled in a hot loop. */
export const REDIAL_AFTER_DISCONNECT_MS = 1_000;
/** Connection-manager tag: bootstrap peers are the last connections pruned. */
export const BOOTSTRAP_TAG = "sentinel-bootstrap";
const BOOTSTRAP_TAG_VALUE = 100;

export interface BootstrapDialerOptions {
  peers: BootstrapPeer[];
  redialIntervalMs: number;
}

export interface BootstrapDialerModules {
  libp2p: Libp2p;
  logger: Logger;
}

interface Target {
  id: PeerId;
  entry: BootstrapPeer;
}

export class BootstrapDialer {
  private readonly targets: Map<string, Target>;
  private readonly modules: BootstrapDialerModules;
  private readonly redialIntervalMs: number;
  private readonly inFlight = new Set<string>();
  private readonly redialTimers = new Map<string, NodeJS.Timeout>();
  private interval: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: BootstrapDialerOptions, modules: BootstrapDialerModules) {
    this.modules = modules;
    this.redialIntervalMs = options.redialIntervalMs;
    const self = modules.libp2p.peerId.toString();
    // Every node may share one list: skip ourselves, and one entry per peer.
    this.targets = new Map(
      options.peers
        .filter((entry) => entry.peerId !== self)
        .map((entry) => [entry.peerId, { id: peerIdFromString(entry.peerId), entry }]),
    );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.modules.libp2p.addEventListener("peer:disconnect", this.onDisconnect);
    for (const target of this.targets.values()) {
      this.modules.libp2p.peerStore
        .merge(target.id, { tags: { [BOOTSTRAP_TAG]: { value: BOOTSTRAP_TAG_VALUE } } })
        .catch((err: unknown) => this.modules.logger.debug({ err, peer: target.entry.peerId }, "could not tag bootstrap peer"));
      this.dial(target);
    }
    if (this.targets.size > 0) {
      this.interval = setInterval(() => this.dialDisconnected(), this.redialIntervalMs);
      this.interval.unref();
    }
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.modules.libp2p.removeEventListener("peer:disconnect", this.onDisconnect);
    clearInterval(this.interval);
    this.interval = undefined;
    for (const timer of this.redialTimers.values()) clearTimeout(timer);
    this.redialTimers.clear();
  }

  private readonly onDisconnect = (event: CustomEvent<PeerId>): void => {
    const id = event.detail.toString();
    const target = this.targets.get(id);
    if (target === undefined || !this.running || this.redialTimers.has(id)) return;
    this.modules.logger.info({ peer: id }, "bootstrap peer disconnected; re-dialling");
    const timer = setTimeout(() => {
      this.redialTimers.delete(id);
      this.dial(target);
    }, REDIAL_AFTER_DISCONNECT_MS);
    timer.unref();
    this.redialTimers.set(id, timer);
  };

  private dialDisconnected(): void {
    for (const target of this.targets.values()) this.dial(target);
  }

  private dial(target: Target): void {
    const id = target.entry.peerId;
    const { libp2p, logger } = this.modules;
    if (!this.running || this.inFlight.has(id) || libp2p.getConnections(target.id).length > 0) return;
    this.inFlight.add(id);
    libp2p
      .dial(target.entry.address, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      .then(() => logger.debug({ peer: id }, "connected to bootstrap peer"))
      .catch((err: unknown) => logger.debug({ err, peer: id, address: target.entry.address.toString() }, "bootstrap dial failed"))
      .finally(() => this.inFlight.delete(id));
  }
}
