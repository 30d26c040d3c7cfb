// Taking a devnet chain away and bringing it back, as an RPC outage or a chain node restart looks
// to the Sentinel nodes: the same URL answers nothing for a while, then answers again with the
// state it had.
import { writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { hexToBytes, type Hex } from "viem";
import { startAnvil, type AnvilInstance } from "../../src/verify/shadow/anvil.ts";
import { sleep, type DevnetChain } from "../../src/devnet/devnet.ts";
import { rpc } from "./chain.ts";
import { isAlive } from "./proc.ts";

/** A SIGKILLed anvil is gone within milliseconds; this bounds the wait. */
const EXIT_TIMEOUT_MS = 10_000;

/**
 * Writes the chain's state to `stateFile` (anvil_dumpState: gzipped JSON, stored unzipped, the
 * format `--load-state` reads: accounts, blocks, transactions and receipts), then SIGKILLs its
 * anvil. Its RPC port refuses connections until restartChain.
 */
export async function crashChain(chain: DevnetChain, stateFile: string): Promise<void> {
  const dumped = (await rpc(chain.anvil.rpcUrl, "anvil_dumpState", [])) as Hex;
  writeFileSync(stateFile, gunzipSync(hexToBytes(dumped)));
  const pid = chain.anvil.pid;
  process.kill(pid, "SIGKILL");
  const deadline = Date.now() + EXIT_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`anvil ${pid} of chain ${chain.chainId} still runs after SIGKILL`);
    await sleep(20);
  }
}

/**
 * A new anvil on the crashed chain's port, with its chain id and the state crashChain saved: the
 * same RPC URL, the same blocks. Replaces `chain.anvil`; stop it with `chain.anvil.stop()` (the
 * devnet's own stop() only knows the anvils it started).
 */
export async function restartChain(chain: DevnetChain, stateFile: string): Promise<AnvilInstance> {
  const anvil = await startAnvil({ chainId: chain.chainId, port: chain.anvil.port, extraArgs: ["--load-state", stateFile] });
  if (anvil.rpcUrl !== chain.anvil.rpcUrl) throw new Error(`restarted chain ${chain.chainId} at ${anvil.rpcUrl}, not ${chain.anvil.rpcUrl}`);
  chain.anvil = anvil;
  return anvil;
}

/**
 * SIGSTOP: the chain's port still accepts connections (the kernel does), but no request is
 * answered until resumeChain; a client sees its requests time out rather than fail fast.
 */
export function pauseChain(chain: DevnetChain): void {
  process.kill(chain.anvil.pid, "SIGSTOP");
}

/** SIGCONT: the paused anvil answers again, the requests queued meanwhile first. */
export function resumeChain(chain: DevnetChain): void {
  if (isAlive(chain.anvil.pid)) process.kill(chain.anvil.pid, "SIGCONT");
}
