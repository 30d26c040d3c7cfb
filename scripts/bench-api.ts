// npm run bench:api — a valid request's latency (GET /health and a candidate status read) on an
// idle node, then during a fuzz burst (test/helpers/apiFuzz.ts) from another process; p50/p99
// and the server's CPU time for each phase; the last line is JSON. The bar: p99 under
// fuzz within 2× of idle. Also the cost of a path of slashes, short against long (linear, not
// quadratic). The server runs in this process with the test's real backend (level database).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { fuzz } from "../test/helpers/apiFuzz.ts";
import { startApiNode, submission } from "../test/helpers/apiNode.ts";
import { rawRequest } from "../test/helpers/rawHttp.ts";

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === "--fuzz") {
  // The fuzz burst, in its own process so its client work does not run on the server's thread.
  const [url, bodyJson, seconds] = process.argv.slice(3);
  const results = await fuzz(url!, JSON.parse(bodyJson!), { seed: 42, count: 1_000_000, concurrency: 32, deadline: Date.now() + Number(seconds) * 1000 });
  const fivexx = results.filter((r) => r.status >= 500).length;
  console.log(JSON.stringify({ sent: results.length, fivexx }));
  process.exit(0);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function probe(url: string, paths: string[], ms: number): Promise<{ requests: number; p50: number; p99: number; serverCpuMs: number }> {
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
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
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return { requests: latencies.length, p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), serverCpuMs: Math.round((used.user + used.system) / 1000) };
}

const node = await startApiNode({ enrolled: "proposer", server: { bodyTimeoutMs: 1_000 } });
const { body, id } = await submission(node.proposer, 1n);
const admitted = await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
if (admitted.status !== 202) throw new Error(`setup: ${admitted.status}`);
const paths = ["/health", `/v1/candidates/${id}`];
const PHASE_MS = 10_000;

// Slashes: a short path against 16k of them (under Node's 16 KiB header bound, so the router sees them).
const slashCost = async (path: string) => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < 20; i++) await rawRequest(node.url, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  const used = process.cpuUsage(cpu);
  return { wallMs: Math.round((performance.now() - started) / 2) / 10, cpuMs: Math.round((used.user + used.system) / 200) / 100 };
};
const slashes = { short: await slashCost("/x"), slashes16k: await slashCost("/".repeat(16_300)) };
console.log(`per request, 20 each: a short unknown path ${JSON.stringify(slashes.short)}, 16,300 slashes ${JSON.stringify(slashes.slashes16k)}`);

await probe(node.url, paths, 1_000); // warm-up
const idle = await probe(node.url, paths, PHASE_MS);
console.log(`idle:  ${idle.requests} valid requests, p50 ${idle.p50} ms, p99 ${idle.p99} ms, server CPU ${idle.serverCpuMs} ms`);

const child = spawn(process.execPath, [self, "--fuzz", node.url, JSON.stringify(body), String(PHASE_MS / 1000 + 2)], { stdio: ["ignore", "pipe", "inherit"] });
let childOut = "";
child.stdout.on("data", (chunk: Buffer) => (childOut += chunk.toString()));
const childDone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the burst ramp up
const underFuzz = await probe(node.url, paths, PHASE_MS);
await childDone;
const burst = JSON.parse(childOut.trim().split("\n").at(-1) ?? "{}") as { sent?: number; fivexx?: number };
console.log(`fuzz:  ${underFuzz.requests} valid requests, p50 ${underFuzz.p50} ms, p99 ${underFuzz.p99} ms, server CPU ${underFuzz.serverCpuMs} ms (burst: ${burst.sent} malformed requests, ${burst.fivexx} answered 5xx)`);
const ratio = Math.round((underFuzz.p99 / idle.p99) * 100) / 100;
console.log(`p99 under fuzz / idle: ${ratio} (bar: ≤ 2)`);
const stored = await node.storedCount();
await node.close();
console.log(JSON.stringify({ idle, fuzz: { ...underFuzz, malformedSent: burst.sent, fivexx: burst.fivexx }, p99Ratio: ratio, slashes, stored }));
