// The crash campaign: for each (point, node, occurrence) in a fixed cycle, the node is restarted
// with SENTINEL_FAULT_POINTS armed, fresh candidates go in through another node until it SIGKILLs
// itself at that point, it is restarted clean on its data directory, and its candidates must
// still be recorded on every chain. The kill lands where the hook is, not where a sleep ended.
import { FAULT_POINTS, FAULT_POINTS_ENV, type FaultPointName } from "../../src/util/faultPoints.ts";
import { sleep, type DevnetNode } from "../../src/devnet/devnet.ts";
import { RECORDED_TIMEOUT_MS, waitPeers, type Campaign, type Submitted } from "./campaign.ts";

/** Points only the transaction's sender reaches: the armed node must be the candidate's primary relayer. */
const SENDER_ONLY: ReadonlySet<FaultPointName> = new Set(["relay.beforeSend", "relay.afterSend"]);
/** How long one candidate gets to reach the armed point before the next one is sent. */
const REACH_TIMEOUT_MS = 60_000;
/** After its candidate is recorded everywhere, a node may still reach a relay point (its own confirmations). */
const AFTER_RECORDED_MS = 3_000;

export interface Injection {
  point: FaultPointName;
  node: number;
  occurrence: number;
}

/** The i-th injection: every point, then every node, then occurrences 1 and 2. Deterministic. */
export function injection(i: number, nodes: number): Injection {
  const points = FAULT_POINTS.length;
  return { point: FAULT_POINTS[i % points]!, node: Math.floor(i / points) % nodes, occurrence: 1 + (Math.floor(i / (points * nodes)) % 2) };
}

export interface CrashResult {
  kills: number;
  /** Of the kills, those at a point reached while the restarted node recovered earlier work, before its own candidate. */
  whileRecovering: number;
  /** Kills by point. */
  byPoint: Record<string, number>;
  /** Armed, but the point was not reached with its candidates: no kill, counted apart. */
  missed: Injection[];
  /** Candidates not recorded on every chain within the bound after their node came back. */
  late: string[];
}

export async function crashCampaign(campaign: Campaign, count: number, deadline: number): Promise<CrashResult> {
  const { devnet, log } = campaign;
  const result: CrashResult = { kills: 0, whileRecovering: 0, byPoint: {}, missed: [], late: [] };
  for (let i = 0; i < count; i++) {
    if (Date.now() > deadline) {
      log(`crash: deadline reached after ${i} injections`);
      break;
    }
    const started = Date.now();
    const shot = injection(i, devnet.nodes.length);
    const node = devnet.nodes[shot.node]!;
    const via = devnet.nodes[(shot.node + 1) % devnet.nodes.length]!;
    await node.stop();
    node.start({ [FAULT_POINTS_ENV]: `${shot.point}:${shot.occurrence}` });
    const candidates: Submitted[] = [];
    let killedAtStart = false;
    try {
      await node.waitReady();
      await waitPeers(node, devnet.nodes.length - 1);
    } catch (error) {
      if (node.exit !== "SIGKILL") throw error;
      killedAtStart = true; // it reached the point recovering earlier work
    }
    // One candidate per expected reach, and one more: a candidate gossiped before the node's
    // meshes formed may never reach it.
    for (let sent = 0; !killedAtStart && node.running && sent <= shot.occurrence; sent++) {
      const candidate = await campaign.candidate(SENDER_ONLY.has(shot.point) ? { primary: shot.node } : {});
      const entry = await campaign.submit(via, candidate, "crash");
      candidates.push(entry);
      await untilDeadOrRecorded(campaign, node, entry);
    }
    const killed = node.exit === "SIGKILL";
    if (killed) {
      result.kills++;
      if (candidates.length === 0) result.whileRecovering++;
      result.byPoint[shot.point] = (result.byPoint[shot.point] ?? 0) + 1;
    } else {
      result.missed.push(shot);
      await node.stop();
    }
    node.start();
    await node.waitReady();
    for (const entry of candidates) {
      if ((await campaign.waitRecorded(entry, RECORDED_TIMEOUT_MS, 200)) === undefined) result.late.push(entry.id);
    }
    log(
      `crash ${i + 1}/${count}: ${shot.point}:${shot.occurrence} on node ${shot.node} — ${killed ? (candidates.length === 0 ? "killed while recovering earlier work" : "killed") : "not reached"}, ` +
        `${candidates.length} candidate(s) recorded on every chain, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  return result;
}

/** Until the armed node is gone, or the candidate is recorded everywhere and a moment has passed. */
async function untilDeadOrRecorded(campaign: Campaign, node: DevnetNode, entry: Submitted): Promise<void> {
  const deadline = Date.now() + REACH_TIMEOUT_MS;
  let recordedAt: number | undefined;
  while (node.running && Date.now() < deadline) {
    if (recordedAt === undefined && (await campaign.recordedEverywhere(entry.id))) recordedAt = Date.now();
    if (recordedAt !== undefined && Date.now() - recordedAt > AFTER_RECORDED_MS) return;
    await sleep(50);
  }
}
