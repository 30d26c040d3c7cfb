// npm run test:adversarial — the network under attack, bounded, loopback only. First the existing
// attack suites, each in its own `node --test` (a Byzantine validator, a lying RPC endpoint,
// gossip junk bursts, an abstaining node). Then, on one 4-node devnet (confirmations 2, a block a
// second): the honest decision latency idle and under an HTTP fuzz of the node it goes through;
// chain faults (an RPC that answers nothing, a chain restarted from its state, a reorg taking
// a recorded verdict away); and the crash campaign: ≥ 100 SIGKILLs injected by the fault-point
// hook (src/util/faultPoints.ts) across admission, signing, aggregation and relay. Last, the
// invariants against the chains and every node. Progress lines as it goes; the last line is one
// JSON object; the exit code is 1 if a must-be-zero count is not zero, a suite failed, or fewer
// kills landed than asked for. docs/security.md#adversarial-suite has a run's result.
//
//   --crash N        kill points to inject (default 100; the campaign's floor)
//   --latency N      honest candidates timed idle and again under attack (default 20)
//   --rounds N       rounds of chain faults, each fault on each chain (default 1)
//   --skip-suites    only what runs on this script's own devnet
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startDevnet, type Devnet } from "../src/devnet/devnet.ts";
import { decide, runFuzzChild, underFuzz } from "./adversarial/apiAbuse.ts";
import { Campaign, percentile, rssMb } from "./adversarial/campaign.ts";
import { chainFaults } from "./adversarial/chainFaults.ts";
import { crashCampaign } from "./adversarial/crash.ts";
import { checkInvariants } from "./adversarial/invariants.ts";
import { isAlive } from "../test/helpers/proc.ts";

const self = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL("../", import.meta.url));

if (process.argv[2] === "--fuzz") {
  const [url, bodyFile, seed] = process.argv.slice(3);
  await runFuzzChild(url!, JSON.parse(readFileSync(bodyFile!, "utf8")), Number(seed));
  process.exit(0);
}

/** The attack suites of `npm test` this run repeats, by the kind of attack they are. */
const SUITES = [
  ["byzantine", "test/e2e/byzantine.test.ts"],
  ["lyingRpc", "test/e2e/lyingRpc.test.ts"],
  ["gossipJunk", "test/network/peerLedger.test.ts"],
  ["abstention", "test/e2e/abstain.test.ts"],
] as const;
/** Blocks a record must be under before a node counts it done: what makes a reorg's loss visible to the relay. */
const CONFIRMATIONS = 2;
/** One suite's bound (each starts its own devnet). */
const SUITE_TIMEOUT_MS = 600_000;
/** The crash campaign stops injecting after this, whatever its count (the count then falls short and the run fails). */
const CRASH_BUDGET_MS = 45 * 60_000;

const { values } = parseArgs({
  options: { crash: { type: "string", default: "100" }, latency: { type: "string", default: "20" }, rounds: { type: "string", default: "1" }, "skip-suites": { type: "boolean", default: false } },
});
const crashCount = Number(values.crash);
const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`);

const suites: Record<string, { passed: number; failed: number }> = {};
if (!values["skip-suites"]) {
  for (const [kind, file] of SUITES) {
    suites[kind] = await runSuite(file);
    log(`suite ${kind} (${file}): ${suites[kind].passed} passed, ${suites[kind].failed} failed`);
  }
}

let devnet: Devnet | undefined;
let campaign: Campaign | undefined;
let exitCode = 1;
try {
  devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-adversarial-${process.pid}`), confirmations: CONFIRMATIONS, nodeLogLevel: "info", log });
  campaign = new Campaign(devnet, log);
  // Chains a chain fault restarted are no devnet's: if this process dies, they go with it, by pid.
  const chains = devnet.chains;
  process.once("exit", () => chains.forEach((chain) => isAlive(chain.anvil.pid) && process.kill(chain.anvil.pid, "SIGKILL")));
  await campaign.ready(CONFIRMATIONS);
  // Warm-up, untimed: the first candidate compiles the protocol and starts each node's pipeline worker.
  await decide(campaign, 2, "warm-up");
  const idleMs = await decide(campaign, Number(values.latency), "idle");
  const rssBefore = await Promise.all(devnet.nodes.map((node) => rssMb(node.pid)));
  const abuse = { idleMs, ...(await underFuzz(campaign, self, Number(values.latency))) };
  const faults = await chainFaults(campaign, Number(values.rounds));
  const rssAfter = await Promise.all(devnet.nodes.map((node) => rssMb(node.pid)));
  const rssGrowth = Math.max(...rssAfter.map((after, i) => (after ?? 0) - (rssBefore[i] ?? 0)));
  log(`RSS of the nodes (MB), warm, before → after API abuse and chain faults: ${rssBefore.map((b, i) => `${b?.toFixed(0)} → ${rssAfter[i]?.toFixed(0)}`).join(", ")}`);

  const crash = await crashCampaign(campaign, crashCount, Date.now() + CRASH_BUDGET_MS);
  log(`crash campaign: ${crash.kills} kills (${crash.whileRecovering} while recovering earlier work) ${JSON.stringify(crash.byPoint)}; ${crash.missed.length} armed points not reached; ${crash.late.length} candidates late`);
  const invariants = await checkInvariants(campaign);
  for (const problem of invariants.problems.slice(0, 50)) log(`PROBLEM: ${problem}`);
  log(`invariants over ${invariants.candidates} candidates: ${JSON.stringify({ ...invariants, problems: invariants.problems.length })}`);

  const suitesFailed = Object.values(suites).reduce((sum, s) => sum + s.failed, 0);
  const summary = {
    attacks: {
      crash: crash.kills,
      chainFault: faults.faults,
      apiAbuse: abuse.fuzz.sent,
      byzantine: suites["byzantine"]?.passed ?? 0,
      lyingRpc: suites["lyingRpc"]?.passed ?? 0,
      gossipJunk: suites["gossipJunk"]?.passed ?? 0,
      abstention: suites["abstention"]?.passed ?? 0,
    },
    rejected: abuse.fuzz.refused + invariants.maliciousRefused,
    conflictingSignatures: invariants.conflictingSignatures,
    attestationsLost: invariants.attestationsLost,
    doubleSubmissions: invariants.doubleSubmissions,
    honestLatencyMs: { idleP99: Math.round(percentile(abuse.idleMs, 99)), underAttackP99: Math.round(percentile(abuse.underAttackMs, 99)) },
    rssGrowthMb: Math.round(rssGrowth * 10) / 10,
    durationS: Math.round((Date.now() - started) / 1000),
    candidates: invariants.candidates,
    chainFaults: faults.byKind,
    reorgedAndRecordedAgain: faults.reorgedAndRecordedAgain,
    crashWhileRecovering: crash.whileRecovering,
    crashMissed: crash.missed.length,
    wrongDecisions: invariants.wrongDecisions,
    api5xx: abuse.fuzz.fivexx,
    suitesFailed,
  };
  const failed = invariants.conflictingSignatures + invariants.attestationsLost + invariants.doubleSubmissions + invariants.wrongDecisions + suitesFailed + faults.failed.length > 0 || crash.kills < crashCount;
  for (const failure of faults.failed) log(`CHAIN FAULT FAILED: ${failure}`);
  const leakedForks = await shutdown();
  if (leakedForks > 0) log(`LEAK: ${leakedForks} shadow-fork anvil(s) of the devnet's chains still ran after every node stopped; SIGKILLed`);
  exitCode = failed || leakedForks > 0 ? 1 : 0;
  console.log(JSON.stringify({ ...summary, leakedForks }));
} catch (error) {
  log(`ABORTED: ${(error as Error).stack ?? String(error)}`);
  await shutdown();
}
process.exit(exitCode);

/** Stops what the run started; the shadow forks still running afterwards (leaked by a node), each then SIGKILLed by its pid. */
async function shutdown(): Promise<number> {
  await campaign?.close();
  await devnet?.stop();
  // A chain restarted by a chain fault is not one the devnet started: stopped here, by its own handle.
  await Promise.all((devnet?.chains ?? []).map((chain) => chain.anvil.stop()));
  const forks = forksOf((devnet?.chains ?? []).map((chain) => chain.anvil.rpcUrl));
  for (const pid of forks) process.kill(pid, "SIGKILL");
  campaign = undefined;
  devnet = undefined;
  return forks.length;
}

/** Pids of the anvil processes forking one of `rpcUrls` (Linux /proc): the nodes' shadow forks of these chains. */
function forksOf(rpcUrls: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const fork = args[args.indexOf("--fork-url") + 1];
      if (args[0]?.endsWith("anvil") && fork !== undefined && rpcUrls.includes(fork)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Runs one test file in its own `node --test`, bounded; its passed and failed test counts (TAP summary). */
function runSuite(file: string): Promise<{ passed: number; failed: number }> {
  const child = spawn(process.execPath, ["--test", "--test-reporter=tap", "--test-concurrency=1", file], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), SUITE_TIMEOUT_MS);
  return new Promise((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(output)?.[1] ?? 0);
      const failed = Math.max(count("fail") + count("cancelled"), code === 0 ? 0 : 1);
      resolve({ passed: count("pass"), failed });
    }),
  );
}
