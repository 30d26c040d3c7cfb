// npm run bench:api — a valid request's latency (GET /health and a candidate status read) on an
// idle node and during a fuzz burst (test/helpers/apiFuzz.ts), in alternating rounds; p50/p99, the
// server's CPU time and a fixed reference workload for each; the last line is JSON. The bar: p99 under
// fuzz within 2× of idle. Also the cost of a path of slashes, short against long (linear, not
// quadratic).
//
// Two servers, one after the other in the same sitting: with the node's default refusal budget
// (src/api/refusalBudget.ts), the fuzz coming from its own address (127.0.0.2) and the probe from
// 127.0.0.1, as an attacker and a relayer would; and with no budget, which is what every
// malformed request costs when it is parsed and answered in full (a fuzz spread over more
// addresses than the budget sheds, or a node configured without one).
//
// Three processes, so that what is timed is the server and not the machine: the server (the
// test's real backend, a level database) alone on CPU 0; the fuzz burst and the probe that times
// valid requests on CPU 1, the burst under SCHED_IDLE. On a 2-core machine a load generator
// that shares the server's core (or starves the probe of its own) measures the generator: the
// server was ~80% idle during a burst when all three shared both cores, yet the probe's p99 grew
// 3–4×. `--shared` runs them unpinned, as before, for comparison. FUZZ_CONCURRENCY (default 32)
// sets how many connections the burst keeps busy.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { fuzz } from "../test/helpers/apiFuzz.ts";
import { startApiNode, submission } from "../test/helpers/apiNode.ts";
import { rawRequest } from "../test/helpers/rawHttp.ts";
import { RefusalBudget } from "../src/api/refusalBudget.ts";
import { DEFAULT_REFUSAL_BUDGET } from "../src/config/schema.ts";
import { systemClock } from "../src/util/clock.ts";

const self = fileURLToPath(import.meta.url);
const PHASE_MS = 5_000;
/** Idle and fuzz phases, alternating. */
const ROUNDS = 4;

/** The fuzz's address: loopback, but not the probe's. */
const FUZZ_SOURCE = "127.0.0.2";

if (process.argv[2] === "--fuzz") {
  const [url, bodyJson, seconds] = process.argv.slice(3);
  const results = await fuzz(url!, JSON.parse(bodyJson!), { seed: 42, count: 1_000_000, concurrency: Number(process.env["FUZZ_CONCURRENCY"] ?? 32), deadline: Date.now() + Number(seconds) * 1000, source: FUZZ_SOURCE });
  const fivexx = results.filter((r) => r.status >= 500).length;
  const shed = results.filter((r) => r.status === 429).length;
  const unanswered = results.filter((r) => r.status === 0).length;
  console.log(JSON.stringify({ sent: results.length, fivexx, shed, unanswered }));
  process.exit(0);
}

if (process.argv[2] === "--serve") {
  // The server: prints what the probe needs, answers "stored" on stdin, exits when stdin closes.
  const budget = process.argv[3] === "budget" ? new RefusalBudget(DEFAULT_REFUSAL_BUDGET, { clock: systemClock }) : undefined;
  const node = await startApiNode({ enrolled: "proposer", server: { bodyTimeoutMs: 1_000, ...(budget && { refusalBudget: budget }) } });
  const { body, id } = await submission(node.proposer, 1n);
  const admitted = await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (admitted.status !== 202) throw new Error(`setup: ${admitted.status}`);
  console.log(JSON.stringify({ url: node.url, body, id }));
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === "stored") console.log(JSON.stringify({ stored: await node.storedCount() }));
  }
  await node.close();
  process.exit(0);
}

const shared = process.argv.includes("--shared") || availableParallelism() < 2;
/**
 * `args` run on one CPU unless the run is unpinned; `idle`: under SCHED_IDLE, so that the probe,
 * waking on its CPU, preempts it at once (a niced process still holds the CPU for its slice).
 */
const pinned = (cpu: number, idle: boolean, args: string[]): [string, string[]] =>
  shared ? [process.execPath, args] : ["taskset", ["-c", String(cpu), ...(idle ? ["chrt", "-i", "0"] : []), process.execPath, ...args]];
if (!shared) await pinSelf(1); // the probe (this process) on CPU 1

function pinSelf(cpu: number): Promise<unknown> {
  const result = spawn("taskset", ["-a", "-p", "-c", String(cpu), String(process.pid)], { stdio: "ignore" });
  return new Promise((resolve) => result.once("exit", resolve));
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round = (n: number) => Math.round(n * 100) / 100;

/** CPU time (user + system, ms) of a process, from /proc. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** A fixed workload on the probe's CPU: its time says how busy that CPU was. */
function referenceMs(): number {
  const started = performance.now();
  let digest = Buffer.alloc(32);
  for (let i = 0; i < 20_000; i++) digest = createHash("sha256").update(digest).digest();
  return round(performance.now() - started);
}

async function probe(url: string, paths: string[], ms: number, serverPid: number) {
  const latencies: number[] = [];
  const cpu = cpuMsOf(serverPid);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const path of paths) {
      const started = performance.now();
      const response = await fetch(`${url}${path}`);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
      latencies.push(performance.now() - started);
    }
  }
  return { latencies, serverCpuMs: cpuMsOf(serverPid) - cpu, referenceMs: referenceMs() };
}

/** Rounds of one condition pooled: every latency of every round, and the sums. */
function pooled(rounds: Awaited<ReturnType<typeof probe>>[]) {
  const latencies = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return {
    requests: latencies.length,
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    p99ByRound: rounds.map((r) => round(percentile([...r.latencies].sort((a, b) => a - b), 99))),
    serverCpuMs: Math.round(rounds.reduce((sum, r) => sum + r.serverCpuMs, 0)),
    referenceMs: rounds.map((r) => r.referenceMs),
  };
}

const lines = (child: ChildProcess) => createInterface({ input: child.stdout! })[Symbol.asyncIterator]();

/** One server, idle and fuzz rounds against it; `withBudget`: the node's default refusal budget. */
async function measure(withBudget: boolean) {
  const [serverCommand, serverArgs] = pinned(0, false, [self, "--serve", withBudget ? "budget" : "none"]);
  const server = spawn(serverCommand, serverArgs, { stdio: ["pipe", "pipe", "inherit"] });
  const serverLines = lines(server);
  const setup = JSON.parse((await serverLines.next()).value as string) as { url: string; body: object; id: string };
  // The server's own pid: taskset execs it, so it is the same process.
  const serverPid = server.pid!;
  const paths = ["/health", `/v1/candidates/${setup.id}`];
  console.log(`— ${withBudget ? "with the default refusal budget (60 refusals a minute per address); the fuzz from " + FUZZ_SOURCE : "without a refusal budget"}`);
  console.log(`setup: ${shared ? "unpinned: server, burst and probe share every core" : "server on CPU 0; burst (SCHED_IDLE) and probe on CPU 1"}; load average ${loadavg().map(round).join(" ")}`);

  // Slashes: a short path against 16k of them (under Node's 16 KiB header bound, so the router sees them).
  const slashCost = async (path: string) => {
    const cpu = cpuMsOf(serverPid);
    const started = performance.now();
    for (let i = 0; i < 20; i++) await rawRequest(setup.url, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    return { wallMs: round((performance.now() - started) / 20), cpuMs: round((cpuMsOf(serverPid) - cpu) / 20) };
  };
  // Measured without a budget: 40 unknown paths would spend two thirds of the probe's address's budget.
  const slashes = withBudget ? undefined : { short: await slashCost("/x"), slashes16k: await slashCost("/".repeat(16_300)) };
  if (slashes) console.log(`per request, 20 each: a short unknown path ${JSON.stringify(slashes.short)}, 16,300 slashes ${JSON.stringify(slashes.slashes16k)} (server CPU at 10 ms resolution)`);

  // Warm-up, not measured: the valid requests, then one burst, so that the first round does not
  // time the server compiling the fuzz's code paths (error replies, parsers, lazily loaded
  // modules) once: a node that has run for a while has them compiled.
  await probe(setup.url, paths, 1_000, serverPid);
  await fuzzBurst(3);
  await probe(setup.url, paths, 1_000, serverPid);
  // Idle and fuzz alternate, ROUNDS times each, and each condition's latencies are pooled: the
  // machine's drift (a VM's neighbours, a GC-heavy minute) then weighs on both alike.
  const idleRounds: Awaited<ReturnType<typeof probe>>[] = [];
  const fuzzRounds: Awaited<ReturnType<typeof probe>>[] = [];
  const bursts: Burst[] = [];
  /** A fuzz burst of `seconds` (SCHED_IDLE, on the probe's CPU); `during` runs once it has ramped up. */
  async function fuzzBurst(seconds: number, during?: () => Promise<void>): Promise<Burst> {
    const [fuzzCommand, fuzzArgs] = pinned(1, true, [self, "--fuzz", setup.url, JSON.stringify(setup.body), String(seconds)]);
    const child = spawn(fuzzCommand, fuzzArgs, { stdio: ["ignore", "pipe", "inherit"] });
    let childOut = "";
    child.stdout!.on("data", (chunk: Buffer) => (childOut += chunk.toString()));
    const childDone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (during) {
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the burst ramp up
      await during();
    }
    await childDone;
    return JSON.parse(childOut.trim().split("\n").at(-1) ?? "{}") as Burst;
  }

  for (let r = 0; r < ROUNDS; r++) {
    idleRounds.push(await probe(setup.url, paths, PHASE_MS, serverPid));
    bursts.push(await fuzzBurst(PHASE_MS / 1000 + 2, async () => void fuzzRounds.push(await probe(setup.url, paths, PHASE_MS, serverPid))));
  }
  const idle = pooled(idleRounds);
  const underFuzz = pooled(fuzzRounds);
  const total = (key: keyof Burst) => bursts.reduce((sum, b) => sum + (b[key] ?? 0), 0);
  const burst = { sent: total("sent"), fivexx: total("fivexx"), shed: total("shed"), unanswered: total("unanswered") };
  console.log(`idle:  ${idle.requests} valid requests over ${ROUNDS} rounds, p50 ${idle.p50} ms, p99 ${idle.p99} ms (by round ${idle.p99ByRound.join(", ")}), server CPU ${idle.serverCpuMs} ms, reference workload ${idle.referenceMs.join(", ")} ms`);
  console.log(`fuzz:  ${underFuzz.requests} valid requests over ${ROUNDS} rounds, p50 ${underFuzz.p50} ms, p99 ${underFuzz.p99} ms (by round ${underFuzz.p99ByRound.join(", ")}), server CPU ${underFuzz.serverCpuMs} ms, reference workload ${underFuzz.referenceMs.join(", ")} ms (burst: ${burst.sent} malformed requests, ${burst.fivexx} answered 5xx, ${burst.shed} answered 429 unread, ${burst.unanswered} unanswered)`);
  const ratio = round(underFuzz.p99 / idle.p99);
  console.log(`p99 under fuzz / idle: ${ratio} (bar: ≤ 2)`);
  server.stdin!.write("stored\n");
  const { stored } = JSON.parse((await serverLines.next()).value as string) as { stored: number };
  server.stdin!.end();
  await new Promise((resolve) => server.once("exit", resolve));
  return { pinned: !shared, idle, fuzz: { ...underFuzz, malformedSent: burst.sent, fivexx: burst.fivexx, shed: burst.shed, unanswered: burst.unanswered }, p99Ratio: ratio, stored, ...(slashes && { slashes }) };
}

interface Burst {
  sent?: number;
  fivexx?: number;
  shed?: number;
  unanswered?: number;
}

const withBudget = await measure(true);
const withoutBudget = await measure(false);
console.log(`p99 under fuzz / idle: ${withBudget.p99Ratio} with the default refusal budget, ${withoutBudget.p99Ratio} without one (bar: ≤ 2)`);
console.log(JSON.stringify({ withBudget, withoutBudget }));
