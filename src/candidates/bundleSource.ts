// A candidate's source bundle: from this node's store, else from the peer that forwarded the
// candidate, else from other peers. Bytes are checked against the hash by the bundle protocol.
import type { PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import type { Hex } from "viem";
import { decodeBundle, type SourceBundle } from "../codec/bundle.ts";
import { SentinelError } from "../errors.ts";
import type { CandidateStore } from "./candidateStore.ts";

export interface BundleSourceOptions {
  /** Peers asked in one attempt. */
  fetchPeers: number;
}

export const DEFAULT_BUNDLE_SOURCE: BundleSourceOptions = { fetchPeers: 4 };

export interface BundleSourceModules {
  store: CandidateStore;
  network: { peers(): PeerId[]; fetchBundle(peer: PeerId, hash: Hex): Promise<Uint8Array> };
}

/** No peer served the bundle: this node's problem, not the candidate's (retry, never a finding). */
export class BundleUnavailableError extends SentinelError<"BUNDLE_UNAVAILABLE", { hash: Hex; failures: string[] }> {
  override name = "BundleUnavailableError";
}

export class BundleSource {
  readonly #options: BundleSourceOptions;
  readonly #m: BundleSourceModules;

  constructor(options: Partial<BundleSourceOptions>, modules: BundleSourceModules) {
    this.#options = { ...DEFAULT_BUNDLE_SOURCE, ...options };
    this.#m = modules;
  }

  /** Throws BundleFormatError when the bytes do not parse (the proposer's fault, the same on every node). */
  async load(hash: Hex, from: string | null): Promise<SourceBundle> {
    const stored = await this.#m.store.bundleBytes(hash);
    if (stored) return decodeBundle(stored);
    const peers = this.#m.network.peers();
    const ordered = [...(from ? [peerIdFromString(from)] : []), ...peers.filter((peer) => peer.toString() !== from)].slice(0, this.#options.fetchPeers);
    const failures: string[] = [];
    for (const peer of ordered) {
      try {
        const bytes = await this.#m.network.fetchBundle(peer, hash);
        const bundle = decodeBundle(bytes);
        await this.#m.store.putBundleBytes(hash, bytes);
        return bundle;
      } catch (error) {
        failures.push(`${peer.toString().slice(-8)}: ${(error as Error).message.split(": ").at(-1)}`);
      }
    }
    throw new BundleUnavailableError("BUNDLE_UNAVAILABLE", `no peer served bundle ${hash} (${failures.join("; ") || "no peers"})`, { hash, failures });
  }
}
