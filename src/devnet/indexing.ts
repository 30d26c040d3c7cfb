// A scenario that deploys and enrolls a target of its own waits until every node has indexed it:
// a candidate submitted before would be admitted by a chain read instead (slower, and not what
// the scenario measures).
import { sleep, type Devnet, type DevnetChain } from "./devnet.ts";

/** Every node's count of enrolled targets on `chain`, by node. */
export const indexedTargets = async (devnet: Devnet, chain: DevnetChain): Promise<number[]> =>
  Promise.all(devnet.nodes.map(async (node) => (await node.metric(`sentinel_enrollment_index_targets{chain="${chain.chainId}"}`)) ?? 0));

/** Waits (30 s at most) until every node's enrollment index holds one more target than `before`. */
export async function waitIndexed(devnet: Devnet, chain: DevnetChain, before: number[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await indexedTargets(devnet, chain)).some((count, i) => count <= before[i]!)) {
    if (Date.now() > deadline) throw new Error(`the nodes did not index the new target on chain ${chain.chainId}`);
    await sleep(100);
  }
}
