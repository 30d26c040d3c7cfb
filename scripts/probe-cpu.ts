import { readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Outcome } from "../src/codec/types.ts";
import { addProtocol, codehashOf, signCandidate, sleep, startDevnet, submitCandidate, waitForDecision } from "../src/devnet/devnet.ts";
const devnet = await startDevnet({ nodes: 16, dir: join(tmpdir(), `sentinel-cpu-${process.pid}`) });
const HZ = 100;
function pids(): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("node\0start"); } catch { return false; }
  });
}
function threads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(f[11]) + Number(f[12]);
      const key = tid === String(pid) ? "main" : `${name}#${Number(tid) - pid}`;
      out.set(key, (out.get(key) ?? 0) + ticks);
    } catch {}
  }
  return out;
}
function snapshot() {
  const total = new Map<string, number>();
  for (const pid of pids()) for (const [k, v] of threads(pid)) total.set(k, (total.get(k) ?? 0) + v);
  return total;
}
function diff(a: Map<string, number>, b: Map<string, number>) {
  const d: Record<string, number> = {};
  for (const [k, v] of b) { const x = (v - (a.get(k) ?? 0)) / HZ; if (x > 0.05) d[k] = Math.round(x * 100) / 100; }
  return d;
}
try {
  await sleep(5000);
  let s = snapshot();
  await sleep(20000);
  let e = snapshot();
  console.log("idle 20 s, CPU-s by thread kind over 16 nodes:", diff(s, e));
  await addProtocol(devnet);
  s = snapshot();
  const t0 = Date.now();
  for (let k = 0; k < 4; k++) {
    if (k > 0) await addProtocol(devnet);
    const chain = devnet.chains[k % 2]!;
    const body = await signCandidate(devnet, chain, chain.protocol.benign, BigInt(k + 1000));
    const codehash = await codehashOf(chain, chain.protocol.benign);
    await submitCandidate(devnet.nodes[k]!, body);
    await waitForDecision(devnet, { chainId: chain.chainId, target: chain.protocol.proxy, codehash }, Outcome.Approve, 120_000);
    await sleep(3000);
  }
  e = snapshot();
  console.log(`4 candidates in ${Date.now() - t0} ms, CPU-s by thread kind:`, diff(s, e));
} finally {
  await devnet.stop();
}
