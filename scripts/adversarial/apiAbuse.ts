// API abuse against a live node while honest candidates are decided through that same node: the
// seeded HTTP fuzz of test/helpers/apiFuzz.ts (bad paths, methods, headers, bodies; almost-valid
// candidates), run from a child process at a lower priority so that what is timed is the node
// and not the load generator, and from its own loopback address (127.0.0.2), as an attacker's
// would be: the node's refusal budget sheds it once spent, and the honest submissions (from
// 127.0.0.1) are never charged for it. The honest latency is submission → recorded on every chain.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fuzz } from "../../test/helpers/apiFuzz.ts";
import type { Json } from "../../src/util/json.ts";
import { RECORDED_TIMEOUT_MS, type Campaign } from "./campaign.ts";

/** Requests in flight from the fuzzer at once. */
const CONCURRENCY = 32;
/** The fuzz child stops by itself after this, whatever the parent does. */
const FUZZ_HARD_LIMIT_S = 600;

export interface FuzzCounts {
  sent: number;
  /** Answered 4xx: refused. */
  refused: number;
  /** Of those, answered 429 unread: the address was over its refusal budget. */
  shed: number;
  fivexx: number;
  /** No status: the server closed the connection (or the request timed out). */
  noAnswer: number;
}

/** `--fuzz <url> <body file> <seed>` in a child: fuzzes until SIGTERM (or its hard limit), then prints its counts. */
export async function runFuzzChild(url: string, body: Record<string, Json>, seed: number): Promise<void> {
  let stop = false;
  process.once("SIGTERM", () => (stop = true));
  const deadline = Date.now() + FUZZ_HARD_LIMIT_S * 1000;
  const counts: FuzzCounts = { sent: 0, refused: 0, shed: 0, fivexx: 0, noAnswer: 0 };
  for (let round = 0; !stop && Date.now() < deadline; round++) {
    const results = await fuzz(url, body, { seed: seed + round, count: 200, concurrency: CONCURRENCY, deadline, source: "127.0.0.2" });
    for (const { status } of results) {
      counts.sent++;
      if (status >= 500) counts.fivexx++;
      else if (status >= 400) {
        counts.refused++;
        if (status === 429) counts.shed++;
      }
      else if (status === 0) counts.noAnswer++;
    }
  }
  console.log(JSON.stringify(counts));
}

export interface AbuseResult {
  idleMs: number[];
  underAttackMs: number[];
  fuzz: FuzzCounts;
}

/** Honest latencies under the fuzz (started from `script --fuzz`), with the counts of the fuzz itself. */
export async function underFuzz(campaign: Campaign, script: string, samples: number): Promise<Omit<AbuseResult, "idleMs">> {
  const node = campaign.devnet.nodes[0]!;
  // The fuzz's valid body: a candidate already decided, so that nothing the fuzzer sends unbroken is new.
  const bodyFile = join(campaign.devnet.dir, "fuzz-body.json");
  writeFileSync(bodyFile, JSON.stringify(campaign.submitted[0]!.body));
  const child = spawn("nice", ["-n", "10", process.execPath, script, "--fuzz", node.apiUrl, bodyFile, "19"], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const output: string[] = [];
  lines.on("line", (line) => output.push(line));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let underAttackMs: number[];
  try {
    await sleep(2_000); // let the burst ramp up
    underAttackMs = await decide(campaign, samples, "apiAbuse");
  } finally {
    child.kill("SIGTERM");
    const bounded = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
    if (!bounded) {
      child.kill("SIGKILL");
      await exited;
    }
  }
  const last = output.at(-1);
  const counts = last ? (JSON.parse(last) as FuzzCounts) : { sent: 0, refused: 0, shed: 0, fivexx: 0, noAnswer: 0 };
  campaign.log(`api abuse: ${counts.sent} malformed requests to node 0 (${counts.refused} refused 4xx, of which ${counts.shed} shed unread by the refusal budget; ${counts.fivexx} 5xx, ${counts.noAnswer} closed or timed out)`);
  return { underAttackMs, fuzz: counts };
}

/** Submits `samples` fresh candidates through node 0, one at a time; each one's submission → recorded everywhere. */
export async function decide(campaign: Campaign, samples: number, phase: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const entry = await campaign.submit(campaign.devnet.nodes[0]!, await campaign.candidate(), phase);
    const took = await campaign.waitRecorded(entry, RECORDED_TIMEOUT_MS, 25);
    if (took === undefined) throw new Error(`${phase}: candidate ${entry.id} not recorded on every chain within ${RECORDED_TIMEOUT_MS} ms`);
    latencies.push(took);
    campaign.log(`${phase} latency ${i + 1}/${samples}: ${Math.round(took)} ms`);
  }
  return latencies;
}
