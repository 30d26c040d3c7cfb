// What each gossip peer has cost this node lately, so that a peer's junk stops costing
// validations long before gossipsub's score graylists it. Gossipsub penalises a REJECT at once,
// but its graylist acts on the peer's next RPC and async validation runs behind the burst: a
// burst of 600 junk messages was validated ~520 times per node before the graylist took effect.
// The ledger closes that gap, per peer (the propagation source; never an author):
// - in flight: at most `maxInFlight` of a peer's messages are being validated; more are ignored
//   unvalidated (honest peers send a few messages per upgrade, not dozens at once);
// - refused: a peer with `maxRejects` REJECTs in the current window has every further message
//   rejected before any handler runs (which gossipsub also scores against it);
// - useless: valid-looking messages that are ignored (expired, duplicate, unknown target, another
//   set) cost their sender too: past `maxIgnores` in a window, it is treated as refused.
// Windows are fixed (`windowMs`), and at most `maxPeers` peers are tracked (the oldest dropped).
export interface PeerLedgerOptions {
  windowMs: number;
  maxRejects: number;
  maxIgnores: number;
  maxInFlight: number;
  maxPeers: number;
}

export const PEER_LEDGER_DEFAULTS: PeerLedgerOptions = { windowMs: 60_000, maxRejects: 8, maxIgnores: 256, maxInFlight: 16, maxPeers: 4096 };

export interface PeerLedgerModules {
  now(): number;
}

interface Entry {
  windowStart: number;
  rejects: number;
  ignores: number;
  inFlight: number;
}

export class PeerLedger {
  readonly #options: PeerLedgerOptions;
  readonly #now: () => number;
  readonly #peers = new Map<string, Entry>();

  constructor(options: Partial<PeerLedgerOptions>, modules: PeerLedgerModules) {
    this.#options = { ...PEER_LEDGER_DEFAULTS, ...options };
    this.#now = modules.now;
  }

  /** Whether the peer has spent its window's budget: its messages are rejected unvalidated. */
  refused(peer: string): boolean {
    const entry = this.#current(peer, false);
    return entry !== undefined && (entry.rejects >= this.#options.maxRejects || entry.ignores >= this.#options.maxIgnores);
  }

  /** Reserves a validation slot; false when the peer already has `maxInFlight` in flight. */
  begin(peer: string): boolean {
    const entry = this.#current(peer, true)!;
    if (entry.inFlight >= this.#options.maxInFlight) return false;
    entry.inFlight++;
    return true;
  }

  /** Ends a validation begun with begin(), with its result. */
  end(peer: string, result: "accept" | "ignore" | "reject"): void {
    const entry = this.#current(peer, true)!;
    entry.inFlight = Math.max(0, entry.inFlight - 1);
    if (result === "reject") entry.rejects++;
    else if (result === "ignore") entry.ignores++;
  }

  /** Peers tracked (for tests and metrics). */
  get size(): number {
    return this.#peers.size;
  }

  #current(peer: string, create: boolean): Entry | undefined {
    const now = this.#now();
    let entry = this.#peers.get(peer);
    if (!entry) {
      if (!create) return undefined;
      if (this.#peers.size >= this.#options.maxPeers) this.#peers.delete(this.#peers.keys().next().value!);
      entry = { windowStart: now, rejects: 0, ignores: 0, inFlight: 0 };
      this.#peers.set(peer, entry);
    } else if (now - entry.windowStart >= this.#options.windowMs) {
      // A new window: the counts start again; validations still in flight stay counted.
      entry.windowStart = now;
      entry.rejects = 0;
      entry.ignores = 0;
    }
    return entry;
  }
}
