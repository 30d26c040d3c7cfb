// The behaviour differential: on its own fork of the target chain at the pinned block, the same
// calls (users' recent transactions to the proxy, policy probes) are made under the current
// implementation (V1) and under the new one (V2, installed by the real upgrade), from the same
// state at the same block and time; then again after the fork's clock and blocks have moved on,
// both sides moved the same way, so code that waits for a date, a block or a number of calls gets
// its chance to act. The report holds both sides' effects; findings.ts compares them.
//
// Every node must reach the same findings: the fork is pinned, every block's timestamp is set from
// the pinned block's (never the wall clock), the calls come from the chain's blocks and the policy,
// gas is free (balances move only by value), and the report carries chain facts only.
//
// Its own forks (one per side, run side by side), not the shadow deployment's: the two checks time
// out, fail and can be made advisory apart, and the differential's transactions never touch what
// the shadow deployment reads.
import { createPublicClient, custom, getAddress, numberToHex, type Address, type Hex } from "viem";
import type { Invariant, LatentStep } from "../../codec/policy.ts";
import { wordAddress } from "../../chains/authority.ts";
import { functionSelectors } from "../bytecode/index.ts";
import {
  adminState,
  ERC1967_IMPLEMENTATION_SLOT,
  evaluateInvariant,
  forkRequest,
  invariantHolds,
  JsonRpc,
  pinnedBlock,
  prepareInvariant,
  runOnForks,
  ShadowDeploymentError,
  upgradeAuthority,
  upgradeTransaction,
  type ForkRunModules,
  type InvariantValue,
  type PinnedBlock,
  type PreparedInvariant,
  type StorageOverride,
} from "../shadow/index.ts";
import { probeCalls, recentCalls } from "./calls.ts";
import { effectOf, sendAt } from "./effects.ts";
import type { BehaviourCall, BehaviourReport, Effect, Offset, StepOutcome } from "./report.ts";
import type { BehaviourProbe } from "../../codec/policy.ts";

/**
 * Without a policy's own: a day, a month and a year after the upgrade. Time is free (one block
 * jumps the clock); blocks are mined one by one (about 0.7 ms each on each side), so the default
 * block horizon is short: a policy that fears a block-number trigger sets its own.
 */
export const DEFAULT_LATENT_STEPS: readonly LatentStep[] = [
  { seconds: 86_400, blocks: 32 },
  { seconds: 30 * 86_400, blocks: 128 },
  { seconds: 365 * 86_400, blocks: 256 },
];
/** How far back the chain is read for users' transactions, and how many are replayed. */
export const REPLAY_BLOCKS = 64;
export const REPLAY_LIMIT = 16;
/** The fork's blocks are this far apart, as the shadow deployment's. */
const BLOCK_SPACING_SECONDS = 12n;
const MAX_CALL_GAS = 30_000_000n;
/**
 * Anyone can send transactions to the proxy, so anyone chooses what is replayed: a replay gets at
 * most this much gas, which bounds what 16 expensive transactions can cost every node (a probe,
 * which the protocol chooses, gets the block's gas).
 */
export const REPLAY_MAX_GAS = 5_000_000n;

export interface BehaviourParams {
  rpcUrl: string;
  chainId: number;
  blockNumber: bigint;
  proxy: Address;
  implementation: Address;
  upgradeCall: Hex;
  invariants: readonly Invariant[];
  probes: readonly BehaviourProbe[];
  latentSteps: readonly LatentStep[];
  timeoutMs: number;
  storageOverrides?: readonly StorageOverride[];
  replayBlocks?: number;
  replayLimit?: number;
}

export type BehaviourModules = ForkRunModules;

/**
 * Runs the differential on a fork and reports both sides; the fork is always stopped before this
 * returns or throws. Throws ShadowDeploymentError: CHECK_TIMED_OUT past `timeoutMs`,
 * BLOCK_UNAVAILABLE, CHECK_FAILED.
 */
export async function runBehaviourDifferential(params: BehaviourParams, modules: BehaviourModules): Promise<BehaviourReport> {
  const run = {
    what: "behaviour differential",
    rpcUrl: params.rpcUrl,
    chainId: params.chainId,
    blockNumber: params.blockNumber,
    timeoutMs: params.timeoutMs,
    // A zero base fee: calls are sent at gas price zero, so a balance moves only by what the code moves.
    extraArgs: ["--block-base-fee-per-gas", "0"],
  };
  return runOnForks(run, modules, async ({ pinned, startFork }) => {
    // One fork per side, run side by side: most of the time is the forks mining (blocks, calls).
    const [v1, v2] = await Promise.all([startFork(), startFork()]);
    return differential({ v1, v2 }, params, pinned);
  });
}

async function differential(forks: { v1: JsonRpc; v2: JsonRpc }, params: BehaviourParams, pinned: PinnedBlock): Promise<BehaviourReport> {
  const proxy = getAddress(params.proxy);
  const implementation = getAddress(params.implementation);
  const atPin = numberToHex(pinned.number);
  const rpc = forks.v1;
  for (const fork of [forks.v1, forks.v2]) {
    const forkBlock = await pinnedBlock(fork, pinned.number);
    if (forkBlock.hash !== pinned.hash) throw new ShadowDeploymentError("CHECK_FAILED", `the fork's block ${pinned.number} is ${forkBlock.hash}, the chain's ${pinned.hash}: reorganised?`);
  }

  const current = wordAddress(await rpc.request<Hex>("eth_getStorageAt", [proxy, ERC1967_IMPLEMENTATION_SLOT, atPin]));
  const selectors = async (address: Address) => new Set(functionSelectors(await rpc.request<Hex>("eth_getCode", [address, atPin])));
  const [v1Selectors, v2Selectors] = [await selectors(current), await selectors(implementation)];
  const replays = await recentCalls(rpc, proxy, pinned.number, { blocks: params.replayBlocks ?? REPLAY_BLOCKS, limit: params.replayLimit ?? REPLAY_LIMIT });
  const probes = probeCalls(params.probes);
  const report: BehaviourReport = {
    proxy,
    implementation,
    forkBlockNumber: pinned.number,
    calls: [],
    skipped: [],
    steps: [],
    probeProblems: probes.problems,
  };
  for (const call of [...replays, ...probes.calls]) {
    const why =
      call.selector === "0x" ? "no function selector (a plain transfer or the fallback)"
      : !v1Selectors.has(call.selector) ? "a function the current implementation does not have"
      : !v2Selectors.has(call.selector) ? "a function the new implementation removes (the bytecode check's)"
      : undefined;
    if (why === undefined) report.calls.push(call);
    else report.skipped.push({ label: call.label, selector: call.selector, why });
  }

  const client = createPublicClient({ transport: custom({ request: ({ method, params }) => forkRequest(rpc, method, params) }, { retryCount: 0 }) });
  const authority = await upgradeAuthority(client, proxy, pinned.number);
  if ("reason" in authority) return { ...report, notCompared: `nobody can perform the upgrade: ${authority.message}` };
  const upgrade = await upgradeTransaction(rpc, authority, proxy, implementation, params.upgradeCall.toLowerCase() as Hex, await adminState(rpc, proxy, atPin), atPin);

  const gas = pinned.gasLimit < MAX_CALL_GAS ? pinned.gasLimit : MAX_CALL_GAS;
  const start = pinned.timestamp + BLOCK_SPACING_SECONDS;
  const prepared = params.invariants.map(prepareInvariant);
  const offsets: Offset[] = [{ seconds: 0, blocks: 0 }, ...params.latentSteps];
  for (const fork of [forks.v1, forks.v2]) {
    for (const write of params.storageOverrides ?? []) await fork.request("anvil_setStorageAt", [write.address, write.slot, write.value]);
  }
  const [v1, v2] = await Promise.all([
    (async () => {
      // An empty block where V2 has its upgrade, so both sides call at the same block and time.
      await forks.v1.request("evm_setNextBlockTimestamp", [numberToHex(start)]);
      await forks.v1.request("evm_mine", []);
      return side(forks.v1, report.calls, prepared, proxy, offsets, start, gas);
    })(),
    (async () => {
      const upgraded = await sendAt(forks.v2, { from: upgrade.from, to: upgrade.to, data: upgrade.data, value: 0n }, start, gas);
      return upgraded.receipt.status === "0x1" ? side(forks.v2, report.calls, prepared, proxy, offsets, start, gas) : undefined;
    })(),
  ]);
  if (v2 === undefined) return { ...report, notCompared: `the upgrade (${upgrade.method}) reverts` };

  report.steps = offsets.map((offset, s): StepOutcome => {
    const [one, two] = [v1[s]!, v2[s]!];
    return {
      offset,
      invariants: prepared.map((p, i) => {
        const [a, b] = [one.invariants[i], two.invariants[i]];
        const outcome: StepOutcome["invariants"][number] = { name: p.invariant.name };
        if (a !== undefined) outcome.v1 = a;
        if (b !== undefined) outcome.v2 = b;
        if (p.ok && b !== undefined) {
          // The bound moves with V1: a value that changes with time under V1 too is no finding.
          const bound = p.expected ?? (p.invariant.relation === "eq" || a === undefined || !("value" in a) ? undefined : a.value);
          outcome.holds = invariantHolds(p.invariant.relation, bound, b);
        }
        return outcome;
      }),
      effects: one.effects.map((reps, c) => reps.map((effect, r) => ({ v1: effect, v2: two.effects[c]![r]! }))),
    };
  });
  return report;
}

interface SideStep {
  invariants: (InvariantValue | undefined)[];
  effects: Effect[][];
}

/**
 * One implementation's outcomes at each offset: the fork is moved forward (blocks mined 12 s apart,
 * the last at exactly the offset), the invariants read, then each call made from that same state
 * (reverted after each; a probe's repetitions follow one another, so a counter can trigger).
 */
async function side(rpc: JsonRpc, calls: readonly BehaviourCall[], prepared: readonly PreparedInvariant[], proxy: Address, offsets: readonly Offset[], start: bigint, gas: bigint): Promise<SideStep[]> {
  const steps: SideStep[] = [];
  let at: Offset = { seconds: 0, blocks: 0 };
  for (const offset of offsets) {
    const blocks = offset.blocks - at.blocks;
    if (blocks > 1) await rpc.request("anvil_mine", [numberToHex(blocks - 1), numberToHex(BLOCK_SPACING_SECONDS)]);
    if (blocks > 0) {
      await rpc.request("evm_setNextBlockTimestamp", [numberToHex(start + BigInt(offset.seconds))]);
      await rpc.request("evm_mine", []);
    }
    at = offset;
    const invariants: (InvariantValue | undefined)[] = [];
    const head = await rpc.request<Hex>("eth_blockNumber", []);
    for (const p of prepared) invariants.push(p.ok ? await evaluateInvariant(rpc, p, proxy, head) : undefined);
    let snapshot = await rpc.request<Hex>("evm_snapshot", []);
    const effects: Effect[][] = [];
    for (const call of calls) {
      const reps: Effect[] = [];
      for (let r = 0; r < call.repeat; r++) {
        const timestamp = start + BigInt(offset.seconds) + BLOCK_SPACING_SECONDS * BigInt(r + 1);
        const limit = call.kind === "replay" && gas > REPLAY_MAX_GAS ? REPLAY_MAX_GAS : gas;
        reps.push(await effectOf(rpc, { from: call.from, to: proxy, data: call.data, value: BigInt(call.value) }, timestamp, limit));
      }
      effects.push(reps);
      await rpc.request("evm_revert", [snapshot]);
      snapshot = await rpc.request<Hex>("evm_snapshot", []);
    }
    steps.push({ invariants, effects });
  }
  return steps;
}
