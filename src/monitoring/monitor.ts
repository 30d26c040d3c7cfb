// Continuous monitoring of approved code on the live chains. On each new block of a chain, for
// every approval this node holds whose code is live behind its proxy, the policy's invariants are
// read at that block as the shadow deployment reads them (a view call, compared by its relation;
// "unchanged" and bound-less gte/lte against the value at the candidate's pinned block, the
// shadow's "before"), and the ERC-1967 implementation and admin slots are read. A break that
// starts an episode (episodes.ts) is an alert and goes to `onBreach`, which signs the revocation;
// the network's threshold decides whether it becomes one. An implementation the network did not
// approve, or an admin change, is an alert only: there is no approval of that code to withdraw.
// Anything unreadable is no reading at all: a chain that does not answer is not a breach.
import type { Logger } from "pino";
import type { Address, Hex } from "viem";
import type { Invariant } from "../codec/policy.ts";
import type { Verdict } from "../codec/types.ts";
import type { EventSink } from "../events/eventLog.ts";
import type { Clock, Timer } from "../util/clock.ts";
import { invariantHolds, prepareInvariant, type InvariantValue, type PreparedInvariant } from "../verify/shadow/invariants.ts";
import { EpisodeTracker, type EpisodeStart, type Reading } from "./episodes.ts";

export interface MonitoredApproval {
  /** The approval's candidate id. */
  approvalId: Hex;
  /** The approval verdict as attested. */
  approval: Verdict;
  /** The candidate's pinned block: where "before" values are read. */
  pinnedBlock: bigint;
  invariants: readonly Invariant[];
}

/** What the monitor reads of one live chain. Throwing means "no answer", never a breach. */
export interface LiveChain {
  blockNumber(): Promise<bigint>;
  implementationOf(proxy: Address, block: bigint): Promise<Address>;
  adminOf(proxy: Address, block: bigint): Promise<Address>;
  codehashOf(address: Address, block: bigint): Promise<Hex>;
  /** The invariant's call at `block`: its value, or the revert it answered with. */
  read(prepared: PreparedInvariant & { ok: true }, proxy: Address, block: bigint): Promise<InvariantValue>;
}

export interface MonitorOptions {
  /** How often each chain is asked for a new block. */
  pollMs: number;
  /** How often the approvals to watch are read again from the node's stores. */
  refreshMs: number;
  cooldownBlocks: number;
}

export const DEFAULT_MONITOR: MonitorOptions = { pollMs: 250, refreshMs: 2_000, cooldownBlocks: 10 };

export interface Breach {
  approval: MonitoredApproval;
  invariant: string;
  start: EpisodeStart;
  value: InvariantValue;
  expected: string | undefined;
}

export interface MonitorModules {
  /** The approvals to watch: held, unexpired, not revoked (approvals.ts). */
  approvals(): Promise<MonitoredApproval[]>;
  chains: ReadonlyMap<number, LiveChain>;
  /** The first reading of a breach episode: sign the revocation. Errors are logged. */
  onBreach(breach: Breach): Promise<void>;
  events?: EventSink;
  clock: Clock;
  logger: Logger;
}

export type MonitorStats = {
  blocks: number;
  readings: number;
  unreadable: number;
  alerts: number;
  suppressed: number;
};

export class InvariantMonitor {
  readonly #options: MonitorOptions;
  readonly #m: MonitorModules;
  readonly #episodes: EpisodeTracker;
  #approvals: MonitoredApproval[] = [];
  #refreshedAt = -Infinity;
  readonly #lastBlock = new Map<number, bigint>();
  readonly #prepared = new Map<string, PreparedInvariant>();
  /** Values at the pinned block, per (approval, invariant): the "before" of unchanged and bound-less relations. */
  readonly #before = new Map<string, InvariantValue>();
  /** Per proxy: the slots last read (and at which block), so a change alerts once. */
  readonly #slots = new Map<string, { block?: bigint; implementation?: Address; admin?: Address; codehash?: Hex }>();
  readonly #codehashes = new Map<string, Hex>();
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  readonly #stats: MonitorStats = { blocks: 0, readings: 0, unreadable: 0, alerts: 0, suppressed: 0 };

  constructor(options: Partial<MonitorOptions>, modules: MonitorModules) {
    this.#options = { ...DEFAULT_MONITOR, ...options };
    this.#m = modules;
    this.#episodes = new EpisodeTracker({ cooldownBlocks: this.#options.cooldownBlocks });
  }

  get stats(): MonitorStats {
    return { ...this.#stats, suppressed: this.#episodes.stats.suppressed };
  }

  /** What is watched and each invariant's episodes: the status API's view. */
  state(): { approvals: { approvalId: Hex; chainId: string; target: Address; codehash: Hex; invariants: string[] }[]; episodes: ReturnType<EpisodeTracker["snapshot"]> } {
    return {
      approvals: this.#approvals.map((a) => ({ approvalId: a.approvalId, chainId: a.approval.chainId.toString(), target: a.approval.target, codehash: a.approval.codehash, invariants: a.invariants.map((i) => i.name) })),
      episodes: this.#episodes.snapshot(),
    };
  }

  start(): void {
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#running;
  }

  /** One round: every chain's newest block, if new. Public for tests that drive it by hand. */
  async tick(): Promise<void> {
    if (this.#m.clock.now() - this.#refreshedAt >= this.#options.refreshMs) {
      try {
        this.#approvals = await this.#m.approvals();
        this.#refreshedAt = this.#m.clock.now();
        this.#forgetUnwatched();
      } catch (error) {
        this.#m.logger.warn({ err: error }, "could not read the approvals to monitor");
      }
    }
    for (const [chainId, chain] of this.#m.chains) {
      if (this.#stopped) return;
      const watched = this.#approvals.filter((a) => a.approval.chainId === BigInt(chainId));
      if (watched.length === 0) continue;
      let block: bigint;
      try {
        block = await chain.blockNumber();
      } catch (error) {
        this.#stats.unreadable++;
        this.#m.logger.debug({ err: error, chainId }, "chain unreadable: no monitoring reading");
        continue;
      }
      if (block <= (this.#lastBlock.get(chainId) ?? -1n)) continue;
      this.#lastBlock.set(chainId, block);
      this.#stats.blocks++;
      for (const approval of watched) await this.#check(chain, approval, block);
    }
  }

  /** Bounds the caches by what is watched: an approval revoked or expired takes its entries along. */
  #forgetUnwatched(): void {
    const ids = new Set<string>(this.#approvals.map((a) => a.approvalId));
    const proxies = new Set(this.#approvals.map((a) => `${a.approval.chainId}:${a.approval.target.toLowerCase()}`));
    for (const cache of [this.#prepared, this.#before]) for (const key of cache.keys()) if (!ids.has(key.split("|")[0]!)) cache.delete(key);
    for (const key of this.#slots.keys()) if (!proxies.has(key)) this.#slots.delete(key);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#m.clock.setTimeout(() => {
      this.#running = this.tick()
        .catch((error: unknown) => this.#m.logger.warn({ err: error }, "monitoring round failed"))
        .finally(() => this.#schedule(this.#options.pollMs));
    }, ms);
  }

  async #check(chain: LiveChain, approval: MonitoredApproval, block: bigint): Promise<void> {
    const { target, codehash } = approval.approval;
    let live: boolean;
    try {
      live = await this.#watchSlots(chain, approval, block);
    } catch (error) {
      this.#stats.unreadable++;
      this.#m.logger.debug({ err: error, target }, "proxy slots unreadable: no monitoring reading");
      return;
    }
    // The approved code is not (or no longer) what the proxy runs: its invariants are not this code's to break.
    if (!live) return;
    for (const invariant of approval.invariants) {
      const key = `${approval.approvalId}|${invariant.name}`;
      const { reading, value, expected } = await this.#read(chain, approval, invariant, key, block);
      if (reading === "unknown") this.#stats.unreadable++;
      else this.#stats.readings++;
      const start = this.#episodes.observe(key, block, reading);
      if (!start || value === undefined) continue;
      this.#stats.alerts++;
      this.#m.logger.warn({ approval: approval.approvalId, target, codehash, invariant: invariant.name, block: block.toString(), value, expected }, "invariant breached on the live chain");
      this.#m.events?.emit("revocation.alert", approval.approvalId, {
        kind: "invariant",
        chainId: approval.approval.chainId.toString(),
        target,
        codehash,
        invariant: invariant.name,
        episode: start.episode,
        block: block.toString(),
        value: "value" in value ? value.value : `reverted: ${value.reverted}`,
        expected: expected ?? null,
      });
      await this.#m.onBreach({ approval, invariant: invariant.name, start, value, expected }).catch((error: unknown) =>
        this.#m.logger.error({ err: error, approval: approval.approvalId, invariant: invariant.name }, "could not sign the revocation"),
      );
    }
  }

  /** Reads the proxy's slots; alerts on a change to unapproved code or a new admin. Resolves whether the approved code is live. */
  async #watchSlots(chain: LiveChain, approval: MonitoredApproval, block: bigint): Promise<boolean> {
    const { target, codehash, chainId } = approval.approval;
    const slotKey = `${chainId}:${target.toLowerCase()}`;
    const seen = this.#slots.get(slotKey) ?? {};
    this.#slots.set(slotKey, seen);
    // Several approvals of one proxy (V2, then V3) share one read of its slots per block.
    if (seen.block !== block) {
      const [implementation, admin] = await Promise.all([chain.implementationOf(target, block), chain.adminOf(target, block)]);
      const cacheKey = `${chainId}:${implementation.toLowerCase()}`;
      let liveCodehash = this.#codehashes.get(cacheKey);
      if (liveCodehash === undefined) {
        liveCodehash = await chain.codehashOf(implementation, block);
        if (this.#codehashes.size >= 1024) this.#codehashes.clear();
        this.#codehashes.set(cacheKey, liveCodehash);
      }
      if (seen.implementation !== undefined && seen.implementation !== implementation) {
        const approved = this.#approvals.some((a) => a.approval.chainId === chainId && a.approval.target === target && a.approval.codehash === liveCodehash);
        if (!approved) this.#alert("implementation", approval, block, { implementation, codehash: liveCodehash, previous: seen.implementation });
      }
      if (seen.admin !== undefined && seen.admin !== admin) this.#alert("admin", approval, block, { admin, previous: seen.admin });
      Object.assign(seen, { block, implementation, admin, codehash: liveCodehash });
    }
    return seen.codehash === codehash;
  }

  #alert(kind: "implementation" | "admin", approval: MonitoredApproval, block: bigint, data: Record<string, string>): void {
    this.#stats.alerts++;
    this.#m.logger.warn({ kind, target: approval.approval.target, block: block.toString(), ...data }, "proxy changed to something the network did not approve");
    this.#m.events?.emit("revocation.alert", approval.approvalId, { kind, chainId: approval.approval.chainId.toString(), target: approval.approval.target, block: block.toString(), ...data });
  }

  async #read(
    chain: LiveChain,
    approval: MonitoredApproval,
    invariant: Invariant,
    key: string,
    block: bigint,
  ): Promise<{ reading: Reading; value?: InvariantValue; expected?: string }> {
    let prepared = this.#prepared.get(key);
    if (!prepared) {
      prepared = prepareInvariant(invariant);
      this.#prepared.set(key, prepared);
    }
    // An invariant the policy cannot express was a policy problem at verification: nothing to read.
    if (!prepared.ok) return { reading: "unknown" };
    try {
      let expected = prepared.expected;
      if (expected === undefined && invariant.relation !== "eq") {
        let before = this.#before.get(key);
        if (!before) {
          before = await chain.read(prepared, approval.approval.target, approval.pinnedBlock);
          this.#before.set(key, before);
        }
        if (!("value" in before)) return { reading: "unknown" };
        expected = before.value;
      }
      const value = await chain.read(prepared, approval.approval.target, block);
      return { reading: invariantHolds(invariant.relation, expected, value) ? "holds" : "broken", value, ...(expected !== undefined && { expected }) };
    } catch {
      return { reading: "unknown" };
    }
  }
}
