// Chain faults while candidates are decided: an RPC that answers nothing (anvil SIGSTOPped), a
// chain restarted from its saved state, and a reorg that takes the block holding a
// VerdictRecorded away. In each, the candidate must end up recorded once on every chain; after
// the reorg, the durable relay must record it again (the nodes run with confirmations > 0).
import { join } from "node:path";
import { sleep, type DevnetChain } from "../../src/devnet/devnet.ts";
import { crashChain, pauseChain, restartChain, resumeChain } from "../../test/helpers/chainOutage.ts";
import { isRecorded, RECORDED_TIMEOUT_MS, rpcWithin, verdictRecords, type Campaign } from "./campaign.ts";

/** Longer than one relay attempt's retries against a silent RPC (its requests time out at 10 s). */
const PAUSE_MS = 20_000;
/** A crashed chain stays down this long after the other chain recorded the verdict. */
const DOWN_MS = 10_000;

export interface ChainFaultResult {
  faults: number;
  byKind: Record<string, number>;
  /** Scenarios whose candidate was not recorded on every chain in time. */
  failed: string[];
  /** Records a reorg removed that the nodes recorded again. */
  reorgedAndRecordedAgain: number;
}

export async function chainFaults(campaign: Campaign, rounds: number): Promise<ChainFaultResult> {
  const result: ChainFaultResult = { faults: 0, byKind: {}, failed: [], reorgedAndRecordedAgain: 0 };
  const count = (kind: string) => {
    result.faults++;
    result.byKind[kind] = (result.byKind[kind] ?? 0) + 1;
  };
  const [chainA, chainB] = campaign.devnet.chains as [DevnetChain, DevnetChain];
  for (let round = 0; round < rounds; round++) {
    for (const [victim, other] of [[chainB, chainA], [chainA, chainB]] as const) {
      await rpcDown(campaign, victim, other, result, () => count("rpcDown"));
      await restarted(campaign, victim, other, result, round, () => count("chainRestart"));
      await reorg(campaign, victim, result, () => count("reorg"));
    }
  }
  return result;
}

async function rpcDown(campaign: Campaign, victim: DevnetChain, other: DevnetChain, result: ChainFaultResult, counted: () => void) {
  // Paused before the candidate is submitted, so that no relayer holds the chain's nonce from
  // before (what a transaction queued in the paused socket would then race with).
  const candidate = await campaign.candidate({ chain: other });
  pauseChain(victim);
  counted();
  try {
    const entry = await campaign.submit(campaign.devnet.nodes[0]!, candidate, "rpcDown");
    await sleep(PAUSE_MS);
    resumeChain(victim);
    await expectRecorded(campaign, entry.id, `RPC of chain ${victim.chainId} down ${PAUSE_MS / 1000} s`, result);
  } finally {
    resumeChain(victim);
  }
}

async function restarted(campaign: Campaign, victim: DevnetChain, other: DevnetChain, result: ChainFaultResult, round: number, counted: () => void) {
  const candidate = await campaign.candidate({ chain: other });
  const stateFile = join(campaign.devnet.dir, `chain-${victim.chainId}-${round}.json`);
  await crashChain(victim, stateFile);
  counted();
  try {
    const entry = await campaign.submit(campaign.devnet.nodes[1]!, candidate, "chainRestart");
    const deadline = Date.now() + RECORDED_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const digest = await campaign.digestOf(entry.id);
      if (digest !== undefined && (await isRecorded(other, digest).catch(() => false))) break;
      await sleep(200);
    }
    await sleep(DOWN_MS);
    await restartChain(victim, stateFile);
    await expectRecorded(campaign, entry.id, `chain ${victim.chainId} restarted from its state`, result);
  } finally {
    // A failure above must not leave the chain down for the phases after this one.
    if (!(await rpcWithin(victim.anvil.rpcUrl, "eth_chainId", [], 2_000).then(() => true, () => false))) await restartChain(victim, stateFile);
  }
}

async function reorg(campaign: Campaign, victim: DevnetChain, result: ChainFaultResult, counted: () => void) {
  // A still chain, so the block that records the verdict is the head when the reorg takes it.
  campaign.ticking(false);
  try {
    const entry = await campaign.submit(campaign.devnet.nodes[2]!, await campaign.candidate(), "reorg");
    let recorded: { digest: string; blockNumber: bigint } | undefined;
    const deadline = Date.now() + RECORDED_TIMEOUT_MS;
    while (recorded === undefined && Date.now() < deadline) {
      recorded = (await verdictRecords(victim)).find((record) => record.candidateId === entry.id);
      if (recorded === undefined) await sleep(50);
    }
    if (recorded === undefined) {
      result.failed.push(`reorg on chain ${victim.chainId}: ${entry.id} never recorded before the reorg`);
      return;
    }
    const head = await victim.client.getBlockNumber({ cacheTime: 0 });
    const depth = Number(head - recorded.blockNumber) + 1;
    await rpcWithin(victim.anvil.rpcUrl, "anvil_reorg", [depth, []], 10_000);
    counted();
    const gone = !(await verdictRecords(victim)).some((record) => record.candidateId === entry.id);
    campaign.log(`reorg of ${depth} block(s) on chain ${victim.chainId}: the record of ${entry.id.slice(0, 10)} ${gone ? "is gone" : "survived (replayed)"}`);
    campaign.ticking(true);
    if ((await expectRecorded(campaign, entry.id, `reorg of ${depth} block(s) on chain ${victim.chainId}`, result)) && gone) result.reorgedAndRecordedAgain++;
  } finally {
    campaign.ticking(true);
  }
}

async function expectRecorded(campaign: Campaign, id: `0x${string}`, what: string, result: ChainFaultResult): Promise<boolean> {
  const entry = campaign.submitted.find((s) => s.id === id)!;
  const took = await campaign.waitRecorded(entry, RECORDED_TIMEOUT_MS, 250);
  campaign.log(`chain fault: ${what}: ${took === undefined ? "NOT recorded on every chain" : `recorded on every chain ${(took / 1000).toFixed(1)} s after submission`}`);
  if (took === undefined) result.failed.push(`${what}: ${id}`);
  return took !== undefined;
}
