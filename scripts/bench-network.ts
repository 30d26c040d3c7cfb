// npm run bench:network [-- --sizes 4,16,32 --samples 15]
// For networks of 4, 16 and 32 node processes on this machine:
//   - the time from a candidate's admission to its attestation being recorded on both chains (the
//     relayers' receipts), with each stage of its critical path,
//     split into verification (the threshold-th fastest node's pipeline time: the attestation
//     cannot exist before that many nodes verified) and the rest (gossip, signing, aggregation,
//     relay): the overhead;
//   - the floor: the time for one plain gossip message to reach every node of a network of the
//     same size (separate processes running the node's own libp2p + gossipsub stack);
// and, in process, verdict signatures verified per second by the node's ingest path (decode,
// digest, batch verification, aggregation) next to raw @chainsafe/blst batch verification of
// the same signature sets. Prints a table, then one JSON object as the last line.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { generateKeyPair, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { aggregateWithRandomness, Signature, verifyMultipleAggregateSignatures } from "@chainsafe/blst";
import { bytesToHex, hexToBytes, keccak256, stringToHex, type Hex } from "viem";
import { Outcome, verdictDigest } from "../src/codec/types.ts";
import { decodeVerdictMessage, encodeVerdictMessage } from "../src/codec/verdictMessage.ts";
import { VerdictAggregator } from "../src/consensus/aggregator.ts";
import { BatchVerifier } from "../src/consensus/batchVerifier.ts";
import {
  addProtocol,
  codehashOf,
  freePorts,
  signCandidate,
  sleep,
  startDevnet,
  submitCandidate,
  waitForDecision,
  type Devnet,
} from "../src/devnet/devnet.ts";
import { LocalCommittee } from "../src/devnet/committee.ts";
import { randomVerdict } from "../src/devnet/randomVerdict.ts";

const { values } = parseArgs({
  options: { "log-level": { type: "string", default: "warn" }, sizes: { type: "string", default: "4,16,32" }, samples: { type: "string", default: "15" }, floor: { type: "string", default: "40" } },
});
const SIZES = values.sizes.split(",").filter(Boolean).map(Number);
const SAMPLES = Number(values.samples);
const FLOOR_MESSAGES = Number(values.floor);
const say = (message: string) => process.stderr.write(`[bench] ${message}\n`);

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const round = (x: number) => Math.round(x * 10) / 10;

/**
 * The threshold-th fastest verification of a candidate. Read when the attestation is recorded,
 * some nodes are still verifying and have no time yet; each of them is slower than every node
 * that has one, so this is the threshold-th smallest of the times there are. (Until session 8 it
 * was the threshold/n percentile of those times alone: a faster node's time, since only 23–28
 * of 32 had one, which counted part of the verification as overhead.)
 */
function thresholdth(verifications: number[], threshold: number): number {
  const sorted = [...verifications].sort((a, b) => a - b);
  const time = sorted[threshold - 1];
  if (time === undefined) throw new Error(`${sorted.length} verification times, fewer than the threshold ${threshold}`);
  return time;
}

interface SizeResult {
  nodes: number;
  samples: number;
  totalP50Ms: number;
  totalP95Ms: number;
  verificationP50Ms: number;
  overheadP50Ms: number;
  overheadP95Ms: number;
  gossipFloorP50Ms: number;
  gossipFloorP95Ms: number;
  /** p50 of each stage of the critical path. */
  stagesP50Ms: Stages;
  splitP50Ms: StageSplit;
}

/** The critical path of one candidate, stage by stage (ms); they add up to the total. */
interface Stages {
  /** From the admitting node's admission to the admission at the node whose verdict completed the threshold. */
  propagation: number;
  /** That node's pipeline, bundle fetch included. */
  criticalVerification: number;
  /** Its signing: digest, fsync'd signing record, BLS signature. */
  signing: number;
  /** From its signature to the attestation at the node that relayed to the last chain: gossip, batch verification, aggregation. */
  aggregation: number;
  /** From that attestation to the receipt on the last of the two chains. */
  relay: number;
}
const STAGES: (keyof Stages)[] = ["propagation", "criticalVerification", "signing", "aggregation", "relay"];

interface NodeStatus {
  timeline: { received?: number; admitted?: number; verified?: number; signed?: number; attestation?: number };
  verification: { verificationMs: number } | null;
  relay: Record<string, { status?: string; startedAt?: number; sentAt?: number; finishedAt?: number; state?: string; updatedAt?: number } | null>;
}

/** Two stages split (ms): gossip + admission = propagation; toRelayer + preparation + receipt = relay. */
interface StageSplit {
  /** From the origin's admission to the candidate's arrival at the critical node. */
  gossip: number;
  /** The critical node's admission checks (signature, enrollment and authority reads). */
  admission: number;
  /** From the attestation at the node to its relayer starting the job (rank wait included). */
  toRelayer: number;
  /** Simulation, nonce and fees, signing, and the broadcast's round trip. */
  preparation: number;
  /** From the broadcast to the receipt. */
  receipt: number;
}
const SPLITS: (keyof StageSplit)[] = ["gossip", "admission", "toRelayer", "preparation", "receipt"];

/** Reads every node's status of a candidate and splits its time into stages. */
async function stagesOf(devnet: Devnet, candidateId: Hex, origin: number): Promise<{ total: number; verification: number; stages: Stages; split?: StageSplit }> {
  const statuses = await Promise.all(
    devnet.nodes.map(async (n) => {
      const response = await fetch(`${n.apiUrl}/v1/candidates/${candidateId}`);
      return response.ok ? ((await response.json()) as NodeStatus) : undefined;
    }),
  );
  const admitted = statuses[origin]?.timeline.admitted;
  if (admitted === undefined) throw new Error("the admitting node has no timeline for the candidate");
  const signers = statuses.flatMap((s) => (s?.timeline.signed !== undefined ? [s] : [])).sort((a, b) => a.timeline.signed! - b.timeline.signed!);
  const critical = signers[devnet.committee.threshold - 1];
  if (!critical) throw new Error("fewer signatures than the threshold in the nodes' timelines");
  // Per chain: the relayer whose transaction recorded it, and when its receipt came.
  let recorded = 0;
  let relayedBy: NodeStatus | undefined;
  let lastJob: NodeStatus["relay"][string] | undefined;
  for (const chain of devnet.chains) {
    for (const s of statuses) {
      const job = s?.relay[String(chain.chainId)];
      const at = job?.status === "submitted" ? job.finishedAt : job?.state === "submitted" ? job.updatedAt : undefined;
      if (at !== undefined && at > recorded) [recorded, relayedBy, lastJob] = [at, s, job];
    }
  }
  if (!relayedBy?.timeline.attestation) {
    throw new Error(`no relayer reported the attestation recorded: ${JSON.stringify(statuses.map((s) => ({ timeline: s?.timeline, relay: s?.relay })))}`);
  }
  const verifications = statuses.flatMap((s) => (s?.verification ? [s.verification.verificationMs] : []));
  const t = critical.timeline;
  const attestationAt = relayedBy.timeline.attestation;
  // A candidate sent to the critical node's own API has no gossip arrival: all admission.
  const received = t.received ?? t.admitted!;
  const split =
    lastJob?.startedAt !== undefined && lastJob.sentAt !== undefined && lastJob.finishedAt !== undefined
      ? {
          gossip: received - admitted,
          admission: t.admitted! - received,
          toRelayer: lastJob.startedAt - attestationAt,
          preparation: lastJob.sentAt - lastJob.startedAt,
          receipt: lastJob.finishedAt - lastJob.sentAt,
        }
      : undefined;
  return {
    ...(split && { split }),
    total: recorded - admitted,
    verification: thresholdth(verifications, devnet.committee.threshold),
    stages: {
      propagation: t.admitted! - admitted,
      criticalVerification: t.verified! - t.admitted!,
      signing: t.signed! - t.verified!,
      aggregation: relayedBy.timeline.attestation - t.signed!,
      relay: recorded - relayedBy.timeline.attestation,
    },
  };
}

async function measureEndToEnd(devnet: Devnet, samples: number): Promise<{ total: number[]; verification: number[]; overhead: number[]; stages: Stages[]; splits: (StageSplit | undefined)[] }> {
  const splits: (StageSplit | undefined)[] = [];
  const total: number[] = [];
  const verification: number[] = [];
  const overhead: number[] = [];
  const stages: Stages[] = [];
  for (let k = -1; k < samples; k++) {
    await addProtocol(devnet, { indexed: true });
    const chain = devnet.chains[k < 0 ? 0 : k % devnet.chains.length]!;
    const node = devnet.nodes[(k + devnet.nodes.length) % devnet.nodes.length]!;
    const body = await signCandidate(devnet, chain, chain.protocol.benign, BigInt(k + 1000));
    const codehash = await codehashOf(chain, chain.protocol.benign);
    const candidateId = await submitCandidate(node, body);
    if (!(await waitForDecision(devnet, { chainId: chain.chainId, target: chain.protocol.proxy, codehash }, Outcome.Approve, 120_000))) {
      throw new Error("attestation not recorded");
    }
    // The relayer records its job's result just after the receipt: give the status a moment.
    await sleep(300);
    if (k < 0) continue; // warm-up
    const sample = await stagesOf(devnet, candidateId, node.index);
    total.push(sample.total);
    verification.push(sample.verification);
    overhead.push(sample.total - sample.verification);
    stages.push(sample.stages);
    splits.push(sample.split);
  }
  return { total, verification, overhead, stages, splits };
}

async function measureGossipFloor(nodes: number, messages: number): Promise<number[]> {
  const networkId = keccak256(stringToHex(`bench-floor-${Date.now()}`));
  const keys = await Promise.all(Array.from({ length: nodes }, () => generateKeyPair("Ed25519")));
  const ports = await freePorts(nodes);
  const addresses = keys.map((key, i) => `/ip4/127.0.0.1/tcp/${ports[i]}/p2p/${peerIdFromPrivateKey(key).toString()}`);
  const arrivals = new Map<string, number[]>();
  const published = new Map<string, number>();
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  let meshReply: ((peers: number) => void) | undefined;
  for (let i = 0; i < nodes; i++) {
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, "bench/gossipProbe.ts"),
        networkId,
        `/ip4/127.0.0.1/tcp/${ports[i]}`,
        Buffer.from(privateKeyToProtobuf(keys[i]!)).toString("hex"),
        ...addresses.filter((_, j) => j !== i),
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    children.push(child);
    ready.push(
      new Promise((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`gossip probe ${i} exited with ${code} before it was ready`)));
        createInterface({ input: child.stdout! }).on("line", (line) => {
          const event = JSON.parse(line) as { ready?: boolean; received?: string; published?: string; at?: number; peers?: number };
          if (event.ready) resolve();
          if (event.received !== undefined) arrivals.set(event.received, [...(arrivals.get(event.received) ?? []), event.at!]);
          if (event.published !== undefined) published.set(event.published, event.at!);
          if (event.peers !== undefined) meshReply?.(event.peers);
        });
      }),
    );
  }
  try {
    await Promise.all(ready);
    const publisher = children[0]!;
    const meshPeers = () =>
      new Promise<number>((resolve) => {
        meshReply = resolve;
        publisher.stdin!.write(`${JSON.stringify({ peers: true })}\n`);
      });
    const deadline = Date.now() + 60_000;
    while ((await meshPeers()) < Math.min(nodes - 1, 4) && Date.now() < deadline) await sleep(200);
    await sleep(2_000);
    const latencies: number[] = [];
    // The first messages pay for JIT warm-up in every process: sent, not counted.
    const warmUp = 5;
    for (let m = -warmUp; m < messages; m++) {
      const id = `floor-${m}-${bytesToHex(randomBytes(4))}`;
      publisher.stdin!.write(`${JSON.stringify({ publish: id })}\n`);
      const waitUntil = Date.now() + 5_000;
      while ((arrivals.get(id)?.length ?? 0) < nodes - 1 && Date.now() < waitUntil) await sleep(2);
      const times = arrivals.get(id) ?? [];
      const sent = published.get(id);
      if (m >= 0 && times.length === nodes - 1 && sent !== undefined) latencies.push(Math.max(...times) - sent);
      await sleep(50);
    }
    return latencies;
  } finally {
    for (const child of children) child.stdin?.write(`${JSON.stringify({ stop: true })}\n`);
    await sleep(500);
    for (const child of children) child.kill("SIGKILL");
  }
}

/** The node's ingest path vs raw blst on the same 2,048 verdict signatures (64 verdicts × 32 validators). */
async function measureIngest(): Promise<{ ingestPerSec: number; rawBlstPerSec: number; rawVerifyOnlyPerSec: number; rawSameMessagePerSec: number }> {
  const networkId = keccak256(stringToHex("bench-ingest"));
  const committee = LocalCommittee.generate(32, networkId);
  const messages: Uint8Array[] = [];
  const sets: { msg: Uint8Array; pkIndex: number; sig: Uint8Array }[] = [];
  for (let v = 0; v < 64; v++) {
    const verdict = randomVerdict();
    const digest = hexToBytes(verdictDigest(networkId, verdict));
    committee.secretKeys.forEach((sk, i) => {
      const sig = sk.sign(digest).toBytes(true);
      sets.push({ msg: digest, pkIndex: i, sig });
      messages.push(encodeVerdictMessage({ setIndex: 0, validatorIndex: i, verdict, signature: bytesToHex(sig) }));
    });
  }
  const keys = committee.publicKeys;
  const nodeIngest = async () => {
    const aggregator = new VerdictAggregator(
      { networkId, set: { index: 0, keys, threshold: 22 } },
      { verifier: new BatchVerifier(), onAttestation: () => {}, onEvidence: () => {} },
    );
    const results = await Promise.all(messages.map((bytes) => aggregator.ingest(decodeVerdictMessage(bytes))));
    if (results.some((r) => r !== "accept")) throw new Error("ingest refused a valid signature");
  };
  const rawBlst = () => {
    for (let i = 0; i < sets.length; i += 64) {
      const batch = sets.slice(i, i + 64).map((s) => ({ msg: s.msg, pk: keys[s.pkIndex]!, sig: Signature.fromBytes(s.sig, true, true) }));
      if (!verifyMultipleAggregateSignatures(batch, false, false)) throw new Error("raw batch failed");
    }
  };
  const decoded = sets.map((s) => ({ msg: s.msg, pk: keys[s.pkIndex]!, sig: Signature.fromBytes(s.sig, true, true) }));
  const rawVerifyOnly = () => {
    for (let i = 0; i < decoded.length; i += 64) {
      if (!verifyMultipleAggregateSignatures(decoded.slice(i, i + 64), false, false)) throw new Error("raw batch failed");
    }
  };
  // blst's best for this shape, the node's method without the node: per batch of 64, each
  // verdict's 32 signatures combined with random scalars, then one multi-verification.
  const rawSameMessage = () => {
    for (let i = 0; i < sets.length; i += 64) {
      const batch = sets.slice(i, i + 64);
      const groups = [batch.slice(0, 32), batch.slice(32)].map((group) => ({
        msg: group[0]!.msg,
        ...aggregateWithRandomness(group.map((s) => ({ pk: keys[s.pkIndex]!, sig: s.sig }))),
      }));
      if (!verifyMultipleAggregateSignatures(groups, false, false)) throw new Error("raw same-message batch failed");
    }
  };
  // Interleaved rounds, best of each: the machine's speed drifts by tens of percent within
  // minutes, and a drift between two back-to-back series would show up in their ratio.
  const runs = [nodeIngest, rawBlst, rawVerifyOnly, rawSameMessage];
  const fastest = runs.map(() => Infinity);
  for (let round = 0; round < 5; round++) {
    for (const [i, run] of runs.entries()) {
      const started = performance.now();
      await run();
      fastest[i] = Math.min(fastest[i]!, performance.now() - started);
    }
  }
  const [ingestPerSec, rawBlstPerSec, rawVerifyOnlyPerSec, rawSameMessagePerSec] = fastest.map((ms) => Math.round((sets.length / ms) * 1000));
  return { ingestPerSec: ingestPerSec!, rawBlstPerSec: rawBlstPerSec!, rawVerifyOnlyPerSec: rawVerifyOnlyPerSec!, rawSameMessagePerSec: rawSameMessagePerSec! };
}

// First, while the machine is idle: measured right after a devnet stopped, it read up to 25 points low.
say("ingest path vs raw blst (in process) ...");
const ingest = await measureIngest();

const results: SizeResult[] = [];
for (const nodes of SIZES) {
  say(`${nodes} nodes: starting the devnet (2 anvil chains, ${nodes} node processes) ...`);
  const devnet = await startDevnet({ nodes, dir: join(tmpdir(), `sentinel-bench-${nodes}-${process.pid}`), nodeLogLevel: values["log-level"] });
  let e2e;
  try {
    say(`${nodes} nodes: ${SAMPLES} candidates, admission -> recorded on both chains ...`);
    e2e = await measureEndToEnd(devnet, SAMPLES);
    // Each sample, so that a p95 set by one outlier can be traced to its stage.
    for (const [k, stages] of e2e.stages.entries()) {
      const split = e2e.splits[k];
      const parts = split ? ` (${SPLITS.map((part) => `${part} ${round(split[part])}`).join(", ")})` : "";
      say(`${nodes} nodes, candidate ${k + 1}: overhead ${round(e2e.overhead[k]!)} ms (total ${round(e2e.total[k]!)}, verification ${round(e2e.verification[k]!)}); ${STAGES.map((stage) => `${stage} ${round(stages[stage])}`).join(", ")}${parts}`);
    }
  } finally {
    await devnet.stop();
  }
  say(`${nodes} nodes: gossip floor, ${FLOOR_MESSAGES} messages over ${nodes} processes ...`);
  const floor = await measureGossipFloor(nodes, FLOOR_MESSAGES);
  results.push({
    nodes,
    samples: e2e.total.length,
    totalP50Ms: round(percentile(e2e.total, 50)),
    totalP95Ms: round(percentile(e2e.total, 95)),
    verificationP50Ms: round(percentile(e2e.verification, 50)),
    overheadP50Ms: round(percentile(e2e.overhead, 50)),
    overheadP95Ms: round(percentile(e2e.overhead, 95)),
    gossipFloorP50Ms: round(percentile(floor, 50)),
    gossipFloorP95Ms: round(percentile(floor, 95)),
    stagesP50Ms: Object.fromEntries(STAGES.map((stage) => [stage, round(percentile(e2e.stages.map((x) => x[stage]), 50))])) as unknown as Stages,
    splitP50Ms: Object.fromEntries(SPLITS.map((part) => [part, round(percentile(e2e.splits.flatMap((x) => (x ? [x[part]] : [])), 50))])) as unknown as StageSplit,
  });
}

console.log("\nadmission -> attestation recorded on both chains (ms); floor = one gossip message reaching every node\n");
console.log(" nodes  samples  total p50  total p95  verification p50  overhead p50  overhead p95  floor p50  floor p95");
for (const r of results) {
  console.log(
    [r.nodes, r.samples, r.totalP50Ms, r.totalP95Ms, r.verificationP50Ms, r.overheadP50Ms, r.overheadP95Ms, r.gossipFloorP50Ms, r.gossipFloorP95Ms]
      .map((v, i) => String(v).padStart([6, 8, 10, 10, 17, 13, 13, 10, 10][i]!))
      .join(" "),
  );
}
console.log("\ncritical path, p50 of each stage (ms): admission elsewhere, the threshold-th signer's verification and signing, aggregation, relay to the last chain\n");
console.log(` nodes  ${STAGES.map((stage) => stage.padStart(20)).join("")}`);
for (const r of results) console.log(`${String(r.nodes).padStart(6)}  ${STAGES.map((stage) => String(r.stagesP50Ms[stage]).padStart(20)).join("")}`);
console.log("\npropagation and relay split, p50 (ms): the candidate's gossip to the critical node and its admission there; attestation to the relayer's start, preparation (simulation, nonce, fees, signing, broadcast), broadcast to receipt\n");
console.log(` nodes  ${SPLITS.map((part) => part.padStart(14)).join("")}`);
for (const r of results) console.log(`${String(r.nodes).padStart(6)}  ${SPLITS.map((part) => String(r.splitP50Ms[part]).padStart(14)).join("")}`);
console.log(
  `\nverdict signatures verified per second: node ingest path ${ingest.ingestPerSec}, raw blst batch (deserialise + verify) ${ingest.rawBlstPerSec} (${Math.round((ingest.ingestPerSec / ingest.rawBlstPerSec) * 100)}%), raw blst verify only ${ingest.rawVerifyOnlyPerSec}, raw blst same-message aggregation (the node's method) ${ingest.rawSameMessagePerSec} (ingest ${Math.round((ingest.ingestPerSec / ingest.rawSameMessagePerSec) * 100)}% of it)`,
);
console.log("reference: plain gossipsub among 16 processes on this machine ≈ 50 ms p95 (32: ≈ 75 ms); bar: overhead p95 ≤ 500 ms at 16 nodes, ≤ 1 s at 32\n");
const summary: Record<string, unknown> = {};
for (const r of results) summary[`nodes${r.nodes}`] = r;
console.log(JSON.stringify({ ...summary, ...ingest }));
