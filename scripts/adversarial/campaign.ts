// What every phase of `npm run test:adversarial` shares: the devnet, a block ticker (so that
// records become final under `confirmations`), fresh candidates with a chosen primary relayer,
// and the ledger of every candidate submitted, which the invariants are checked against at the end.
import { setTimeout as sleep } from "node:timers/promises";
import type { Hex } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { candidateId, parseSignedCandidate } from "../../src/codec/candidate.ts";
import { relayOrder } from "../../src/consensus/relayOrder.ts";
import { signCandidate, submitCandidate, type Devnet, type DevnetChain, type DevnetNode } from "../../src/devnet/devnet.ts";
import { rpc } from "../../test/helpers/chain.ts";

/** One candidate the campaign submitted: every chain must record it exactly once. */
export interface Submitted {
  id: Hex;
  malicious: boolean;
  phase: string;
  submittedAt: number;
  body: unknown;
}

/** How long any one candidate may take to be recorded on every chain, crashes and outages included. */
export const RECORDED_TIMEOUT_MS = 120_000;
/** A block every this often on each chain: records under `confirmations` become final. */
const TICK_MS = 1_000;

export class Campaign {
  readonly devnet: Devnet;
  readonly submitted: Submitted[] = [];
  readonly log: (line: string) => void;
  #nonce = 1n;
  #turn = 0;
  #ticking = true;
  #tickerDone: Promise<void>;
  #stopped = false;

  constructor(devnet: Devnet, log: (line: string) => void) {
    this.devnet = devnet;
    this.log = log;
    this.#tickerDone = this.#tick();
  }

  /**
   * Mines past the confirmations, then waits (bounded) until every node's enrollment index holds
   * the protocol: nodes read enrollments at the confirmed head, which a fresh chain has not reached.
   */
  async ready(confirmations: number, timeoutMs = 60_000): Promise<void> {
    await Promise.all(this.devnet.chains.map((chain) => rpc(chain.anvil.rpcUrl, "anvil_mine", [`0x${(confirmations + 1).toString(16)}`])));
    const deadline = Date.now() + timeoutMs;
    for (const node of this.devnet.nodes) {
      for (const chain of this.devnet.chains) {
        while (((await node.metric(`sentinel_enrollment_index_targets{chain="${chain.chainId}"}`)) ?? 0) < 1) {
          if (Date.now() > deadline) throw new Error(`node ${node.index} did not index the protocol on chain ${chain.chainId}`);
          await sleep(100);
        }
      }
    }
  }

  /** Stops mining blocks (a reorg is set up on a still chain) or resumes it. */
  ticking(on: boolean): void {
    this.#ticking = on;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#tickerDone;
  }

  async #tick(): Promise<void> {
    // Bounded by close(); a paused or crashed chain just misses its blocks.
    while (!this.#stopped) {
      if (this.#ticking) {
        await Promise.all(this.devnet.chains.map((chain) => rpcWithin(chain.anvil.rpcUrl, "evm_mine", [], 2_000).catch(() => undefined)));
      }
      await sleep(TICK_MS);
    }
  }

  /**
   * A fresh candidate, benign and malicious in turn, on each chain in turn; with `primary`, one
   * whose relay order starts with that node (nonces are tried until one does: 1 in 4).
   */
  async candidate(options: { primary?: number; chain?: DevnetChain } = {}) {
    const turn = this.#turn++;
    const chain = options.chain ?? this.devnet.chains[Math.floor(turn / 2) % this.devnet.chains.length]!;
    const malicious = turn % 2 === 1;
    for (let tries = 0; tries < 64; tries++) {
      const body = await signCandidate(this.devnet, chain, malicious ? chain.protocol.malicious : chain.protocol.benign, this.#nonce++);
      const id = candidateId(this.devnet.networkId, parseSignedCandidate(body).candidate);
      if (options.primary === undefined || relayOrder(id, this.devnet.nodes.length)[0] === options.primary) return { body, id, malicious };
    }
    throw new Error(`no candidate with primary ${options.primary} in 64 nonces`);
  }

  /** Submits through `via` and records it in the ledger. */
  async submit(via: DevnetNode, candidate: { body: unknown; id: Hex; malicious: boolean }, phase: string): Promise<Submitted> {
    const submittedAt = performance.now();
    const id = await submitCandidate(via, candidate.body);
    if (id !== candidate.id) throw new Error(`node ${via.index} answered candidate id ${id}, expected ${candidate.id}`);
    const entry = { id, malicious: candidate.malicious, phase, submittedAt, body: candidate.body };
    this.submitted.push(entry);
    return entry;
  }

  /** The attestation's digest as some running node holds it. */
  async digestOf(id: Hex): Promise<Hex | undefined> {
    for (const node of this.devnet.nodes) {
      if (!node.running) continue;
      const status = await getJson<{ attestation: { digest: Hex } | null }>(`${node.apiUrl}/v1/candidates/${id}`);
      if (status?.attestation?.digest) return status.attestation.digest;
    }
    return undefined;
  }

  /** Whether every chain records the candidate's attestation at its head. */
  async recordedEverywhere(id: Hex): Promise<boolean> {
    const digest = await this.digestOf(id);
    if (digest === undefined) return false;
    const recorded = await Promise.all(this.devnet.chains.map((chain) => isRecorded(chain, digest).catch(() => false)));
    return recorded.every(Boolean);
  }

  /** Waits (bounded) until every chain records it; the time it took from submission, or undefined. */
  async waitRecorded(entry: Submitted, timeoutMs = RECORDED_TIMEOUT_MS, pollMs = 100): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.recordedEverywhere(entry.id)) return performance.now() - entry.submittedAt;
      await sleep(pollMs);
    }
    return undefined;
  }
}

export function isRecorded(chain: DevnetChain, digest: Hex): Promise<boolean> {
  return chain.client.readContract({ address: chain.registry, abi: SentinelRegistry.abi, functionName: "isRecorded", args: [digest], blockTag: "latest" });
}

/** Every VerdictRecorded on the chain's registry (canonical chain only: what a reorg removed is gone). */
export async function verdictRecords(chain: DevnetChain): Promise<{ candidateId: Hex; digest: Hex; blockNumber: bigint }[]> {
  const logs = await chain.client.getContractEvents({ address: chain.registry, abi: SentinelRegistry.abi, eventName: "VerdictRecorded", fromBlock: 0n, toBlock: "latest" });
  return logs.map((log) => ({ candidateId: log.args.candidateId as Hex, digest: log.args.digest as Hex, blockNumber: log.blockNumber }));
}

export async function getJson<T>(url: string, timeoutMs = 5_000): Promise<T | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? ((await response.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

export function rpcWithin(url: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
  return Promise.race([rpc(url, method, params), sleep(timeoutMs).then(() => Promise.reject(new Error(`${method}: no answer within ${timeoutMs} ms`)))]);
}

/** Resident set size of a process in MB (Linux /proc), undefined if it is gone. */
export async function rssMb(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const { readFile } = await import("node:fs/promises");
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** Waits (bounded) until the node sees `peers` peers, then a gossipsub heartbeat more for its meshes. */
export async function waitPeers(node: DevnetNode, peers: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const health = await getJson<{ peers: number }>(`${node.apiUrl}/health`);
    if ((health?.peers ?? 0) >= peers) {
      await sleep(1_200);
      return;
    }
    await sleep(100);
  }
  throw new Error(`node ${node.index} did not reach ${peers} peers within ${timeoutMs} ms`);
}

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};
