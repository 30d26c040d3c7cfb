// The relay is durable: an attestation is relayed until it is recorded on every configured chain,
// across RPC outages of any length, chain restarts and node restarts, and a node that learns it
// from the chains never sends a transaction bound to revert. Black box: real node processes, real
// anvil chains; what is observed is the chains (registry, events, receipts), the nodes' HTTP API
// (whether a node holds the attestation) and the processes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { getAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { relayOrder } from "../../src/consensus/relayOrder.ts";
import { candidateId as idOf, parseSignedCandidate } from "../../src/codec/candidate.ts";
import { addProtocol, signCandidate, sleep, startDevnet, submitCandidate, type Devnet, type DevnetChain, type DevnetNode } from "../../src/devnet/devnet.ts";
import { crashChain, pauseChain, restartChain, resumeChain } from "../helpers/chainOutage.ts";
import { waitFor as waitUntil } from "../helpers/wait.ts";
import { isAlive } from "../helpers/proc.ts";

const CLI = fileURLToPath(new URL("../../src/cli/sentinel.ts", import.meta.url));
/** Admission to recorded takes about 2 s on a healthy devnet; this is many times that. */
const RECORDED_TIMEOUT_MS = 60_000;
/** Once the chain is back, the verdict must be recorded on it within this. */
const RECOVERY_TIMEOUT_MS = 60_000;
/**
 * A chain that refuses connections (crashed) for this long after the attestation is recorded on
 * the other chain: past every relayer's retry budget today (5 attempts, backoff 250 ms .. 2 s:
 * about 4 s, plus the last fallback's 3 × 1.5 s wait).
 */
const CRASH_OUTAGE_MS = 15_000;
/**
 * A chain that answers nothing (SIGSTOP) for this long after the attestation is recorded on the
 * other chain: every request then waits out the RPC client's timeout (10 s), so a relayer's 5
 * attempts take about 54 s and the last fallback starts 4.5 s late. 80 s is past every budget.
 */
const PAUSE_OUTAGE_MS = 80_000;
/** After a node reports the attestation, time for any transaction it sends to be mined. */
const SETTLE_MS = 6_000;
/** Gossip reaches every node within milliseconds. */
const ADMITTED_TIMEOUT_MS = 5_000;
/** Longer than gossipsub keeps a message to advertise it to peers that missed it (5 heartbeats of 1 s). */
const GOSSIP_FORGOTTEN_MS = 8_000;
/** Rounds of the restarted-primary scenario: the doomed transaction is a race. */
const DOOMED_ROUNDS = 2;
/** A node whose API port is taken must give up within this. */
const FAILED_START_EXIT_MS = 15_000;

describe("durable relay: every chain ends up recording the verdict, once", { timeout: 900_000 }, () => {
  let devnet: Devnet;
  let nonce = 1_000n;

  before(async () => {
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-durable-relay-${process.pid}`), nodeLogLevel: "info" });
  });
  after(async () => {
    for (const chain of devnet?.chains ?? []) resumeChain(chain);
    await devnet?.stop();
    // A chain restarted by a test is not one the devnet started.
    await Promise.all((devnet?.chains ?? []).map((chain) => chain.anvil.stop()));
  });

  /** A candidate for a fresh protocol on chain A (so that its verification never reads chain B). */
  const prepare = async () => {
    await addProtocol(devnet);
    const chain = devnet.chains[0]!;
    const body = await signCandidate(devnet, chain, chain.protocol.benign, nonce++);
    return { body, id: idOf(devnet.networkId, parseSignedCandidate(body).candidate) };
  };

  it("a chain that crashed while the attestation formed records it once it is back (restarted from its state)", async () => {
    const [chainA, chainB] = devnet.chains as [DevnetChain, DevnetChain];
    const { body, id } = await prepare();
    const stateFile = join(devnet.dir, `chain-${chainB.chainId}-crash.json`);
    // Down before the candidate is even submitted: admission and verification read chain A only,
    // so the attestation forms (and is recorded on A) with chain B already gone.
    await crashChain(chainB, stateFile);
    let digest: Hex;
    try {
      assert.equal(await submitCandidate(devnet.nodes[0]!, body), id);
      digest = await waitFor("the verdict recorded on chain A", () => recordedDigest(chainA, id), RECORDED_TIMEOUT_MS);
      await sleep(CRASH_OUTAGE_MS);
    } finally {
      await restartChain(chainB, stateFile);
    }
    await assertRecordedOnceWithin(chainB, id, digest, "after it came back from a crash");
    await assertRecordedOnceWithin(chainA, id, digest, "");
  });

  it("a chain that answered nothing (SIGSTOP) past every retry budget records it once it answers again", async () => {
    const [chainA, chainB] = devnet.chains as [DevnetChain, DevnetChain];
    const { body, id } = await prepare();
    // Paused before the candidate is submitted, so that no relayer has chain B's nonce and fees
    // in hand: a transaction sent to the paused anvil would wait in its socket and be mined at
    // SIGCONT whatever the node does next. Only reads, which change nothing, are queued.
    pauseChain(chainB);
    let digest: Hex;
    try {
      assert.equal(await submitCandidate(devnet.nodes[1]!, body), id);
      digest = await waitFor("the verdict recorded on chain A", () => recordedDigest(chainA, id), RECORDED_TIMEOUT_MS);
      await sleep(PAUSE_OUTAGE_MS);
    } finally {
      resumeChain(chainB);
    }
    await assertRecordedOnceWithin(chainB, id, digest, "after it answered again (SIGCONT)");
    await assertRecordedOnceWithin(chainA, id, digest, "");
  });

  it("every node SIGKILLed while a chain is down: restarted on their data directories, they record it there", async () => {
    const [chainA, chainB] = devnet.chains as [DevnetChain, DevnetChain];
    const { body, id } = await prepare();
    const stateFile = join(devnet.dir, `chain-${chainB.chainId}-nodes-killed.json`);
    await crashChain(chainB, stateFile);
    let digest: Hex;
    try {
      assert.equal(await submitCandidate(devnet.nodes[2]!, body), id);
      digest = await waitFor("the verdict recorded on chain A", () => recordedDigest(chainA, id), RECORDED_TIMEOUT_MS);
      // Every node holds the attestation (so none would look for it on the chains again), and
      // every relay to chain B is still failing: kill them all mid-relay.
      await waitFor("every node to hold the attestation", async () => (await Promise.all(devnet.nodes.map((node) => holdsAttestation(node, id)))).every(Boolean), RECORDED_TIMEOUT_MS);
      await Promise.all(devnet.nodes.map((node) => node.kill()));
    } finally {
      await restartChain(chainB, stateFile);
      for (const node of devnet.nodes) node.start();
    }
    await Promise.all(devnet.nodes.map((node) => node.waitReady()));
    await assertRecordedOnceWithin(chainB, id, digest, "after every node restarted on its data directory");
    await assertRecordedOnceWithin(chainA, id, digest, "");
  });

  it("a primary relayer restarted after its candidate was recorded sends no transaction bound to revert", async () => {
    const relayers = relayerAddresses(devnet);
    for (let round = 1; round <= DOOMED_ROUNDS; round++) {
      const { body, id } = await prepare();
      const fromBlocks = await Promise.all(devnet.chains.map((chain) => chain.client.getBlockNumber({ cacheTime: 0 })));
      // The candidate's primary relayer admits it from gossip, then crashes before it has
      // verified it; the three others attest and record it on both chains.
      const primary = devnet.nodes[relayOrder(id, devnet.nodes.length)[0]!]!;
      const proposersNode = devnet.nodes[(primary.index + 1) % devnet.nodes.length]!;
      assert.equal(await submitCandidate(proposersNode, body), id);
      await waitFor(`primary node ${primary.index} to admit the candidate`, () => knowsCandidate(primary, id), ADMITTED_TIMEOUT_MS, 10);
      await primary.kill();
      try {
        for (const chain of devnet.chains) await waitFor(`the verdict recorded on chain ${chain.chainId}`, () => recordedDigest(chain, id), RECORDED_TIMEOUT_MS);
        // Past gossipsub's message cache (5 heartbeats of 1 s): the restarted primary cannot be
        // handed the attestation by IHAVE gossip, only find it in the chains' logs.
        await sleep(GOSSIP_FORGOTTEN_MS);
      } finally {
        primary.start();
      }
      await primary.waitReady();
      // It re-verifies, signs the same verdict and finds the attestation in the chains' logs.
      await waitFor(`restarted primary node ${primary.index} to hold the attestation`, () => holdsAttestation(primary, id), RECORDED_TIMEOUT_MS);
      await sleep(SETTLE_MS);
      const reverted: string[] = [];
      for (const [i, chain] of devnet.chains.entries()) reverted.push(...(await revertedRegistryTransactions(chain, fromBlocks[i]! + 1n, relayers)));
      assert.deepEqual(reverted, [], `round ${round}: relayer transactions to the registry that reverted (primary was node ${primary.index})`);
    }
  });

  it("a node whose API port is taken exits at once with a clear error and leaves no libp2p port or child process behind", async () => {
    const node = devnet.nodes[3]!;
    const config = JSON.parse(readFileSync(node.configPath, "utf8")) as { api: { port: number }; p2p: { listen: string[] } };
    const p2pPort = Number(/\/tcp\/(\d+)/.exec(config.p2p.listen[0]!)![1]);
    await node.stop();
    const blocker = await listen(config.api.port);
    const child = spawn(process.execPath, [CLI, "node", "start", "--config", node.configPath], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
    const children = new Set<number>();
    let libp2pListened = false;
    try {
      const deadline = Date.now() + FAILED_START_EXIT_MS;
      let code: number | string | undefined;
      while (code === undefined && Date.now() < deadline) {
        for (const pid of childrenOf(child.pid!)) children.add(pid);
        libp2pListened ||= await accepts(p2pPort);
        code = await Promise.race([exited, sleep(100).then(() => undefined)]);
      }
      assert.notEqual(code, undefined, `the node still runs ${FAILED_START_EXIT_MS} ms after its API port was found taken (libp2p port ${libp2pListened ? "was" : "never was"} listening); its output:\n${tail(output)}`);
      assert.notEqual(code, 0, `exit code; its output:\n${tail(output)}`);
      assert.match(output, new RegExp(`in use|EADDRINUSE`, "i"), "the error names the taken port");
      assert.match(output, new RegExp(String(config.api.port)), "the error names the taken port");
      assert.equal(await accepts(p2pPort), false, `the libp2p port ${p2pPort} still accepts connections after the failed start`);
      assert.deepEqual([...children].filter(isAlive), [], "child processes of the failed node still run");
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      for (const pid of children) if (isAlive(pid)) process.kill(pid, "SIGKILL");
      await new Promise((resolve) => blocker.close(resolve));
      node.start();
      await node.waitReady();
    }
  });
});

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 200): Promise<T> =>
  waitUntil(what, probe, timeoutMs, intervalMs);

/** The candidate's VerdictRecorded events on a chain's registry. */
async function verdictEvents(chain: DevnetChain, candidateId: Hex) {
  const logs = await chain.client.getContractEvents({ address: chain.registry, abi: SentinelRegistry.abi, eventName: "VerdictRecorded", fromBlock: 0n });
  return logs.filter((log) => log.args.candidateId?.toLowerCase() === candidateId.toLowerCase());
}

/** The digest the chain recorded for the candidate, if any. */
async function recordedDigest(chain: DevnetChain, candidateId: Hex): Promise<Hex | undefined> {
  return (await verdictEvents(chain, candidateId))[0]?.args.digest;
}

function isRecorded(chain: DevnetChain, digest: Hex): Promise<boolean> {
  return chain.client.readContract({ address: chain.registry, abi: SentinelRegistry.abi, functionName: "isRecorded", args: [digest] });
}

/** The registry records the digest within the recovery time, with exactly one VerdictRecorded event for it. */
async function assertRecordedOnceWithin(chain: DevnetChain, candidateId: Hex, digest: Hex, when: string): Promise<void> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  while (!(await isRecorded(chain, digest)) && Date.now() < deadline) await sleep(250);
  assert.equal(await isRecorded(chain, digest), true, `chain ${chain.chainId} did not record verdict ${digest} within ${RECOVERY_TIMEOUT_MS} ms ${when}`);
  const events = (await verdictEvents(chain, candidateId)).filter((log) => log.args.digest === digest);
  assert.equal(events.length, 1, `VerdictRecorded events for ${digest} on chain ${chain.chainId}`);
}

/** Whether the node's API reports the candidate (it admitted it). */
async function knowsCandidate(node: DevnetNode, candidateId: Hex): Promise<boolean> {
  return (await fetch(`${node.apiUrl}/v1/candidates/${candidateId}`)).status === 200;
}

/** Whether the node's API reports the candidate's attestation. */
async function holdsAttestation(node: DevnetNode, candidateId: Hex): Promise<boolean> {
  try {
    return (await fetch(`${node.apiUrl}/v1/attestations/${candidateId}`)).status === 200;
  } catch {
    return false; // not listening (yet)
  }
}

/** Every node's relayer account (the key file its config names). */
function relayerAddresses(devnet: Devnet): Set<Address> {
  return new Set(
    devnet.nodes.map((node) => {
      const config = JSON.parse(readFileSync(node.configPath, "utf8")) as { relayer: { privateKeyFile: string } };
      const key = readFileSync(join(node.configPath, "..", config.relayer.privateKeyFile), "utf8").trim() as Hex;
      return privateKeyToAccount(key).address;
    }),
  );
}

/** Transactions from `senders` to the chain's registry in blocks fromBlock..latest whose receipt says reverted. */
async function revertedRegistryTransactions(chain: DevnetChain, fromBlock: bigint, senders: Set<Address>): Promise<string[]> {
  const latest = await chain.client.getBlockNumber({ cacheTime: 0 });
  const reverted: string[] = [];
  for (let number = fromBlock; number <= latest; number++) {
    const block = await chain.client.getBlock({ blockNumber: number, includeTransactions: true });
    for (const tx of block.transactions) {
      if (tx.to === null || getAddress(tx.to) !== getAddress(chain.registry) || !senders.has(getAddress(tx.from))) continue;
      const receipt = await chain.client.getTransactionReceipt({ hash: tx.hash });
      if (receipt.status === "reverted") reverted.push(`chain ${chain.chainId} block ${number}: ${tx.hash} from ${tx.from} (gas used ${receipt.gasUsed})`);
    }
  }
  return reverted;
}

/** Pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSafe("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ")[1];
      if (Number(ppid) === pid) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The last lines of a process's output, each cut short: enough to see why it stopped. */
function tail(output: string): string {
  return output
    .trimEnd()
    .split("\n")
    .slice(-5)
    .map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line))
    .join("\n");
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** A server holding 127.0.0.1:port, as another program on the machine would. */
function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
