// Peers that speak another Sentinel network id. Gossipsub drops their subscriptions to topics it
// does not allow before anyone sees them, so the signal is identify's: every node serves its
// network's bundle protocol (/sentinel/<network prefix>/bundle/<v>), and a peer that serves only
// another prefix's is configured for another network (a wrong networkId or bootstrap list).
import type { Logger } from "pino";

const SENTINEL_PROTOCOL = /^\/sentinel\/([0-9a-f]{16})\//;

/** The network prefixes a peer's protocols name, other than `ours` (empty when it speaks ours too, or none). */
export function foreignPrefixes(protocols: readonly string[], ours: string): string[] {
  const prefixes = new Set<string>();
  for (const protocol of protocols) {
    const prefix = SENTINEL_PROTOCOL.exec(protocol)?.[1];
    if (prefix !== undefined) prefixes.add(prefix);
  }
  return prefixes.has(ours) ? [] : [...prefixes];
}

/** Peers warned about at most; past it the set starts again (a warning may repeat, memory may not grow). */
const MAX_WARNED = 1024;

/** Warns once per peer that speaks another network id. */
export class ForeignNetworkWarnings {
  readonly #ours: string;
  readonly #log: Logger;
  readonly #warned = new Set<string>();

  constructor(options: { networkPrefix: string }, modules: { logger: Logger }) {
    this.#ours = options.networkPrefix;
    this.#log = modules.logger;
  }

  /** A peer identified itself with these protocols; true when it was warned about (now or before). */
  identified(peer: string, protocols: readonly string[]): boolean {
    const theirs = foreignPrefixes(protocols, this.#ours);
    if (theirs.length === 0) return false;
    if (this.#warned.has(peer)) return true;
    if (this.#warned.size >= MAX_WARNED) this.#warned.clear();
    this.#warned.add(peer);
    this.#log.warn({ peer, theirNetworkPrefix: theirs, ourNetworkPrefix: this.#ours }, "a peer speaks another network id: check its networkId and this node's bootstrap list");
    return true;
  }
}
