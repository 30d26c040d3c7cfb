// A bounded run on forks of the target chain at the pinned block, shared by the shadow deployment
// (run.ts, one fork) and the behaviour differential (../behaviour/run.ts, one per side): one
// deadline for the whole run, the pinned block read from the chain, forks started with the same
// arguments, and every fork stopped before the run returns or throws — also when it times out
// while a fork is still starting.
import type { AnvilInstance, AnvilOptions } from "./anvil.ts";
import { firstLine, ShadowDeploymentError } from "./errors.ts";
import { JsonRpc, pinnedBlock, type PinnedBlock } from "./fork.ts";

/**
 * A fork cache could outlive a reorg of the pinned block: every node reads the chain afresh.
 * No dev accounts: anvil would otherwise overwrite ten accounts' balances in the forked state.
 * No compute-unit throttle (330/s by default, meant for public providers): the node's own RPC
 * serves it, and a throttled fork only makes the check slower. A state request to the chain that
 * gets no answer is retried after 8 s rather than anvil's default 45 s, which is a whole check's
 * bound: under load a request can be lost on a reused connection.
 */
const FORK_ARGS = ["--no-storage-caching", "--accounts", "0", "--no-rate-limit", "--timeout", "8000", "--retries", "5"];

export interface ForkRunParams {
  /** What runs, for messages: "shadow deployment", "behaviour differential". */
  what: string;
  rpcUrl: string;
  chainId: number;
  blockNumber: bigint;
  timeoutMs: number;
  /** anvil arguments past the common ones. */
  extraArgs?: readonly string[];
}

export interface ForkRunModules {
  /** Starts a fork; its owner kills what a run cut short leaves (AnvilProcesses.start). */
  startAnvil: (options: AnvilOptions) => Promise<AnvilInstance>;
}

export interface ForkRun {
  /** The pinned block as the chain has it. */
  pinned: PinnedBlock;
  /** Starts a fork at the pinned block; it is stopped when the run ends. */
  startFork(): Promise<JsonRpc>;
}

/**
 * Runs `body` on forks under one deadline. Throws ShadowDeploymentError: CHECK_TIMED_OUT past
 * `timeoutMs` (with `where()`'s account of what it was waiting for, if given), BLOCK_UNAVAILABLE
 * when the chain has no such block, CHECK_FAILED for anything else the chain or a fork does.
 */
export async function runOnForks<T>(
  params: ForkRunParams,
  modules: ForkRunModules,
  body: (run: ForkRun) => Promise<T>,
  where: () => string = () => "",
): Promise<T> {
  const controller = new AbortController();
  const forks: AnvilInstance[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ShadowDeploymentError("CHECK_TIMED_OUT", `${params.what} timed out after ${params.timeoutMs} ms${where()}`);
      controller.abort();
      reject(error);
    }, params.timeoutMs);
  });
  const startFork = async () => {
    const fork = await modules.startAnvil({
      chainId: params.chainId,
      forkUrl: params.rpcUrl,
      forkBlockNumber: params.blockNumber,
      extraArgs: [...FORK_ARGS, ...(params.extraArgs ?? [])],
      signal: controller.signal,
    });
    forks.push(fork);
    if (controller.signal.aborted) throw new ShadowDeploymentError("CHECK_TIMED_OUT", "timed out while the fork started");
    return new JsonRpc(fork.rpcUrl, controller.signal);
  };
  const work = (async () => {
    const pinned = await pinnedBlock(new JsonRpc(params.rpcUrl, controller.signal), params.blockNumber);
    return await body({ pinned, startFork });
  })();
  try {
    return await Promise.race([work, deadline]);
  } catch (error) {
    if (error instanceof ShadowDeploymentError) throw error;
    if (controller.signal.aborted) throw new ShadowDeploymentError("CHECK_TIMED_OUT", `${params.what} timed out after ${params.timeoutMs} ms`);
    throw new ShadowDeploymentError("CHECK_FAILED", `${params.what} failed: ${firstLine(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
    controller.abort();
    // After the abort every RPC fails at once and a starting anvil is killed, so `work` settles
    // promptly; waiting for it means no fork is started after this returns.
    await work.catch(() => undefined);
    await Promise.all(forks.map((fork) => fork.stop()));
  }
}
