// The network end to end, with real parts: two anvil chains, four node processes (each with its
// keystore, level database and libp2p host), real gossip, real relay transactions.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { keccak256, stringToHex, type Hex } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { runScenario } from "../../src/cli/devnet.ts";
import { parseBundle } from "../../src/codec/bundle.ts";
import { candidateId, parseSignedCandidate } from "../../src/codec/candidate.ts";
import { Outcome, verdictDigest } from "../../src/codec/types.ts";
import {
  addProtocol,
  codehashOf,
  decisionOn,
  signCandidate,
  startDevnet,
  submitCandidate,
  waitForDecision,
  type Devnet,
  type DevnetChain,
} from "../../src/devnet/devnet.ts";
import { relayOrder } from "../../src/consensus/relayOrder.ts";
import { SentinelNetwork } from "../../src/network/index.ts";
import { waitFor as waitUntil } from "../helpers/wait.ts";

/** Long enough for a healthy network (about 2 s here) many times over. */
const DECISION_TIMEOUT_MS = 60_000;

interface CandidateStatus {
  signedDigest: Hex | null;
  attestation: { digest: Hex; signers: number[] } | null;
  verdictsSeen: { digest: Hex; signers: number[] }[];
  relay: Record<string, { status?: string; state?: string } | null>;
}

async function status(devnet: Devnet, node: number, candidateId: Hex): Promise<CandidateStatus | undefined> {
  const response = await fetch(`${devnet.nodes[node]!.apiUrl}/v1/candidates/${candidateId}`);
  return response.ok ? ((await response.json()) as CandidateStatus) : undefined;
}

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = DECISION_TIMEOUT_MS): Promise<T> => waitUntil(what, probe, timeoutMs);

/** A node's count of verifications it retried because it could not carry them out (its /metrics). */
async function verifyRetries(apiUrl: string): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith('sentinel_verify_queue_events_total{event="retries"}'));
  return Number(line?.split(" ")[1] ?? 0);
}

/** Every node's relayer account's transaction count, per chain. */
async function relayerNonces(devnet: Devnet): Promise<number[]> {
  const { privateKeyToAccount } = await import("viem/accounts");
  const counts: number[] = [];
  for (const node of devnet.nodes) {
    const config = JSON.parse(readFileSync(node.configPath, "utf8")) as { relayer: { privateKeyFile: string } };
    const key = readFileSync(join(node.configPath, "..", config.relayer.privateKeyFile), "utf8").trim() as Hex;
    for (const chain of devnet.chains) counts.push(await chain.client.getTransactionCount({ address: privateKeyToAccount(key).address }));
  }
  return counts;
}

function subject(chain: DevnetChain, codehash: Hex) {
  return { chainId: chain.chainId, target: chain.protocol.proxy, codehash };
}

describe("a four-node network on two chains", { timeout: 300_000 }, () => {
  let devnet: Devnet;
  let nonce = 100n;

  before(async () => {
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-e2e-${process.pid}`), nodeLogLevel: "info" });
  });
  after(async () => devnet?.stop());

  const submitBenign = async (node: number) => {
    const chain = devnet.chains[0]!;
    const body = await signCandidate(devnet, chain, chain.protocol.benign, nonce++);
    const candidateId = await submitCandidate(devnet.nodes[node]!, body);
    return { chain, body, candidateId, codehash: await codehashOf(chain, chain.protocol.benign) };
  };

  it("approves a benign upgrade and rejects a malicious one, recorded on both chains, enforced by the guard", async () => {
    const results = await runScenario(devnet, () => {});
    for (const result of results) assert.ok(result.ok, JSON.stringify(result));
    const metrics = await (await fetch(`${devnet.nodes[0]!.apiUrl}/metrics`)).text();
    assert.match(metrics, /^sentinel_gossip_messages_total\{result="accepted"\} [1-9]/m);
    assert.match(metrics, /^sentinel_bls_sets_verified_total [1-9]/m);
    assert.match(metrics, /^# TYPE sentinel_peers gauge$/m);
  });

  it("sends each verdict to the candidate's three aggregators only; the fourth node learns the attestation", async () => {
    await addProtocol(devnet);
    const { chain, candidateId, codehash } = await submitBenign(1);
    assert.ok(await waitForDecision(devnet, subject(chain, codehash), Outcome.Approve, DECISION_TIMEOUT_MS));
    const order = relayOrder(candidateId, devnet.nodes.length);
    const outsider = order[3]!;
    const signersAt = async (node: number) => ((await status(devnet, node, candidateId))?.verdictsSeen ?? []).flatMap((seen) => seen.signers).sort();
    for (const aggregator of order.slice(0, 3)) {
      await waitFor(`aggregator ${aggregator} to hold every verdict`, async () => (await signersAt(aggregator)).length === 4);
    }
    await waitFor("the outsider to learn the attestation", async () => (await status(devnet, outsider, candidateId))?.attestation);
    assert.deepEqual(await signersAt(outsider), [outsider], "the outsider saw no verdict but its own");
  });

  it("admits a candidate for a protocol the nodes have indexed without reading the chain", async () => {
    const series = (enrollment: string) => `sentinel_candidates_admitted_total{enrollment="${enrollment}"}`;
    const counts = () => Promise.all(devnet.nodes.map(async (node) => [await node.metric(series("index")), await node.metric(series("chain"))]));
    await addProtocol(devnet, { indexed: true });
    const before = await counts();
    const { chain, codehash } = await submitBenign(2);
    assert.ok(await waitForDecision(devnet, subject(chain, codehash), Outcome.Approve, DECISION_TIMEOUT_MS));
    await waitFor("every node to admit the candidate", async () => (await counts()).every(([index], i) => index === before[i]![0]! + 1));
    assert.deepEqual((await counts()).map(([, chainRead]) => chainRead), before.map(([, chainRead]) => chainRead), "no node read the chain to admit it");
  });

  it("with one of four nodes down, still reaches the threshold and records on both chains", async () => {
    await addProtocol(devnet);
    await devnet.nodes[3]!.stop();
    const { chain, codehash } = await submitBenign(0);
    assert.ok(await waitForDecision(devnet, subject(chain, codehash), Outcome.Approve, DECISION_TIMEOUT_MS));
    devnet.nodes[3]!.start();
    await devnet.nodes[3]!.waitReady();
  });

  it("with two of four down, records nothing and leaves nothing half-done", async () => {
    await addProtocol(devnet);
    const sentBefore = await relayerNonces(devnet);
    await Promise.all([devnet.nodes[2]!.stop(), devnet.nodes[3]!.stop()]);
    const { chain, candidateId, codehash } = await submitBenign(0);
    // Both live nodes sign; two signatures are below the threshold of three.
    await waitFor("both live nodes to sign", async () => {
      const statuses = await Promise.all([0, 1].map((i) => status(devnet, i, candidateId)));
      return statuses.every((s) => s?.signedDigest);
    });
    // Every verdict there is, counted by every live node: had two been enough, the attestation
    // would have formed (and its relay started) in that same step. Nothing else is coming.
    await waitFor("each live node to count both live verdicts", async () => {
      const statuses = await Promise.all([0, 1].map((i) => status(devnet, i, candidateId)));
      return statuses.every((s) => s?.verdictsSeen.some((seen) => seen.signers.length === 2));
    });
    for (const registryChain of devnet.chains) {
      assert.equal(await decisionOn(registryChain, chain.chainId, chain.protocol.proxy, codehash), 0);
    }
    for (const i of [0, 1]) {
      const s = (await status(devnet, i, candidateId))!;
      assert.equal(s.attestation, null, `node ${i} has no attestation`);
      assert.ok(Object.values(s.relay).every((r) => r === null), `node ${i} started no relay`);
    }
    // The relayers sent no transaction: every relayer account's nonce is what it was before.
    assert.deepEqual(await relayerNonces(devnet), sentBefore);
    for (const i of [2, 3]) devnet.nodes[i]!.start();
    await Promise.all([2, 3].map((i) => devnet.nodes[i]!.waitReady()));
  });

  it("a node killed mid-flight restarts, catches up, and signs the same verdict again, never another", async () => {
    await addProtocol(devnet);
    // Only nodes 0 and 3 up: both sign, the threshold is not reached, node 3 is mid-flight.
    await Promise.all([devnet.nodes[1]!.stop(), devnet.nodes[2]!.stop()]);
    const { chain, body, candidateId, codehash } = await submitBenign(0);
    const signedBefore = await waitFor("node 3 to sign", async () => (await status(devnet, 3, candidateId))?.signedDigest);
    await devnet.nodes[3]!.kill();
    devnet.nodes[3]!.start();
    await devnet.nodes[3]!.waitReady();
    // Node 1 comes back and the protocol's pipeline posts the same signed candidate to it again.
    devnet.nodes[1]!.start();
    await devnet.nodes[1]!.waitReady();
    assert.equal(await submitCandidate(devnet.nodes[1]!, body), candidateId);
    assert.ok(await waitForDecision(devnet, subject(chain, codehash), Outcome.Approve, DECISION_TIMEOUT_MS));
    const caughtUp = await waitFor("node 3 to hold the attestation", async () => (await status(devnet, 3, candidateId))?.attestation);
    assert.equal(caughtUp!.digest, signedBefore, "the attested verdict is the one node 3 signed before the crash");
    assert.equal((await status(devnet, 3, candidateId))!.signedDigest, signedBefore);
    devnet.nodes[2]!.start();
    await devnet.nodes[2]!.waitReady();
  });

  it("after a crash, a node whose verification now differs refuses to sign the new verdict", async () => {
    await addProtocol(devnet);
    await Promise.all([devnet.nodes[1]!.stop(), devnet.nodes[2]!.stop()]);
    const { chain, candidateId } = await submitBenign(0);
    const signedBefore = await waitFor("node 3 to sign", async () => (await status(devnet, 3, candidateId))?.signedDigest);
    await devnet.nodes[3]!.kill();
    // The proposer is unenrolled while node 3 is down: re-verification now gives a REJECT.
    const hash = await chain.wallet.writeContract({
      address: chain.registry,
      abi: SentinelRegistry.abi,
      functionName: "enroll",
      args: [chain.protocol.proxy, [], `0x${"00".repeat(32)}`],
    });
    await chain.client.waitForTransactionReceipt({ hash });
    devnet.nodes[3]!.start();
    await devnet.nodes[3]!.waitReady();
    await waitFor("node 3 to refuse the conflicting verdict", async () =>
      readFileSync(devnet.nodes[3]!.logPath, "utf8").includes("refused to sign a conflicting verdict"),
    );
    assert.equal((await status(devnet, 3, candidateId))!.signedDigest, signedBefore);
    await Promise.all([1, 2].map((i) => devnet.nodes[i]!.start()));
    await Promise.all([1, 2].map((i) => devnet.nodes[i]!.waitReady()));
  });

  it("refuses a candidate without its bundle, or with a bundle that is not the one it names, and stores nothing", async () => {
    await addProtocol(devnet); // the test before unenrolled the proposer of the current one
    const chain = devnet.chains[0]!;
    const node = devnet.nodes[0]!;
    const post = async (body: unknown) => {
      const response = await fetch(`${node.apiUrl}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: response.status, json: (await response.json()) as { error?: string; message?: string } };
    };
    const signed = await signCandidate(devnet, chain, chain.protocol.benign, nonce++);
    // A candidate naming a bundle nobody holds: no node could verify it.
    const otherSource = { ...signed, candidate: { ...signed.candidate, sourceHash: `0x${"ab".repeat(32)}` } };
    const { bundle: _omitted, ...withoutBundle } = otherSource;
    const missing = await post(withoutBundle);
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error, "BUNDLE_REQUIRED");
    // The malicious implementation's bundle under the benign candidate's sourceHash.
    const swapped = await post({ ...signed, bundle: chain.protocol.bundles.malicious });
    assert.equal(swapped.status, 400);
    assert.equal(swapped.json.error, "BUNDLE_INVALID");
    assert.match(swapped.json.message ?? "", /not to candidate\.sourceHash/);
    // A bundle that does not parse is refused naming the field.
    const truncated = await post({ ...signed, bundle: { ...signed.bundle, implementation: { ...signed.bundle.implementation, compiler: "0.8" } } });
    assert.equal(truncated.status, 400);
    assert.equal(truncated.json.error, "BUNDLE_INVALID");
    assert.match(truncated.json.message ?? "", /implementation\.compiler/);
    // Nothing was admitted; the right bundle then is.
    const id = candidateId(devnet.networkId, parseSignedCandidate(signed).candidate);
    assert.equal((await fetch(`${node.apiUrl}/v1/candidates/${id}`)).status, 404);
    const accepted = await post(signed);
    assert.equal(accepted.status, 202);
    assert.equal((accepted.json as { candidateId?: Hex }).candidateId, id);
  });

  it("a candidate gossiped without a bundle anyone serves waits, signs nothing, and is verified once the bundle arrives", async () => {
    await addProtocol(devnet);
    const chain = devnet.chains[0]!;
    // The benign bundle plus a source nothing imports: the same code, a bundle no node holds yet.
    const benign = chain.protocol.bundles.benign;
    const unseen = parseBundle({
      ...benign,
      implementation: { ...benign.implementation, input: { ...benign.implementation.input, sources: { ...benign.implementation.input.sources, "Unused.sol": { content: `// ${nonce}\n` } } } },
    });
    const { bundle, ...signed } = await signCandidate(devnet, chain, chain.protocol.benign, nonce++, unseen);
    const id = candidateId(devnet.networkId, parseSignedCandidate(signed).candidate);
    // A peer that gossips the candidate but serves no bundle (as a proposer's own node that went away would).
    const rogue = await SentinelNetwork.create(
      { networkId: devnet.networkId, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: devnet.nodes.map((node) => node.p2pAddress) },
      {
        handlers: { candidate: async () => "accept", verdict: async () => "accept", attestation: async () => "accept", approval: async () => "accept" },
        bundles: { get: async () => undefined },
        logger: pino({ level: "silent" }),
      },
    );
    try {
      await waitFor("the rogue to join the candidate topic", async () => rogue.subscribers("candidate").length >= devnet.nodes.length || undefined);
      await rogue.publish("candidate", new TextEncoder().encode(JSON.stringify(signed)));
      const statusAt = async (node: number) => (await fetch(`${devnet.nodes[node]!.apiUrl}/v1/candidates/${id}`)).json() as Promise<{ signedDigest: Hex | null }>;
      const retriesBefore = await Promise.all(devnet.nodes.map((node) => verifyRetries(node.apiUrl)));
      await waitFor("every node to admit the candidate", async () => {
        const responses = await Promise.all(devnet.nodes.map((node) => fetch(`${node.apiUrl}/v1/candidates/${id}`)));
        return responses.every((response) => response.status === 200) || undefined;
      });
      // Every node tried, found no bundle, and tried again after its backoff: still nothing signed.
      await waitFor("every node to fail a retry round", async () => {
        const retries = await Promise.all(devnet.nodes.map((node) => verifyRetries(node.apiUrl)));
        return retries.every((count, i) => count >= retriesBefore[i]! + 2) || undefined;
      });
      for (let node = 0; node < devnet.nodes.length; node++) assert.equal((await statusAt(node)).signedDigest, null, `node ${node} signed without the bundle`);
      // The proposer sends the bundle to one node (the candidate is a duplicate there); the others fetch it from it.
      assert.equal(await submitCandidate(devnet.nodes[1]!, { ...signed, bundle }), id);
      const codehash = await codehashOf(chain, chain.protocol.benign);
      assert.ok(await waitForDecision(devnet, subject(chain, codehash), Outcome.Approve, DECISION_TIMEOUT_MS), "approved on every chain");
    } finally {
      await rogue.stop();
    }
  });

  it("malformed gossip from a peer is rejected and that peer's score falls", async () => {
    const rogue = await SentinelNetwork.create(
      { networkId: devnet.networkId, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [devnet.nodes[0]!.p2pAddress] },
      {
        handlers: { candidate: async () => "accept", verdict: async () => "accept", attestation: async () => "accept", approval: async () => "accept" },
        bundles: { get: async () => undefined },
        logger: pino({ level: "silent" }),
      },
    );
    try {
      const rogueId = rogue.peerId.toString();
      const scoreAtNode0 = async () => {
        const { peers } = (await (await fetch(`${devnet.nodes[0]!.apiUrl}/v1/peers`)).json()) as {
          peers: { peerId: string; score: number }[];
        };
        return peers.find((peer) => peer.peerId === rogueId)?.score;
      };
      await waitFor("node 0 to see the rogue peer", async () => (await scoreAtNode0()) !== undefined);
      await waitFor("the rogue to join the verdict topic at node 0", async () => rogue.subscribers("verdict").length > 0 || undefined);
      const before = (await scoreAtNode0())!;
      for (let i = 0; i < 3; i++) await rogue.publish("verdict", new TextEncoder().encode(`{"not":"a verdict ${i}"}`));
      const after = await waitFor("the rogue's score to fall below zero", async () => {
        const score = await scoreAtNode0();
        return score !== undefined && score < 0 ? { score } : undefined;
      });
      assert.ok(after.score < before, `score went from ${before} to ${after.score}`);
    } finally {
      await rogue.stop();
    }
  });

  it("a candidate bound to an operation: every node signs the BoundVerdict, recorded bound on every chain", async () => {
    // Later than every earlier approval of this code (issue times are whole seconds), so it is newer.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const chain = devnet.chains[0]!;
    const binding = keccak256(stringToHex("a timelock operation id"));
    const body = await signCandidate(devnet, chain, chain.protocol.benign, nonce++, undefined, undefined, binding);
    const id = await submitCandidate(devnet.nodes[0]!, body);
    const { candidate } = parseSignedCandidate(body);
    assert.equal(id, candidateId(devnet.networkId, candidate));
    const codehash = await codehashOf(chain, chain.protocol.benign);
    const bindingOn = (registryChain: DevnetChain) =>
      registryChain.client.readContract({
        address: registryChain.registry,
        abi: SentinelRegistry.abi,
        functionName: "bindingOf",
        args: [BigInt(chain.chainId), chain.protocol.proxy, codehash],
      });
    await waitFor("the bound approval on every chain", async () => {
      for (const registryChain of devnet.chains) if ((await bindingOn(registryChain)) !== binding) return undefined;
      return true;
    });
    // Recorded on every chain does not mean node 0 holds it yet (gossip or its chain follower brings it).
    const attestation = await waitFor("node 0 holding the attestation", async () => {
      const response = await fetch(`${devnet.nodes[0]!.apiUrl}/v1/attestations/${id}`);
      return response.status === 200 ? ((await response.json()) as { digest: Hex; encoded: Hex }) : undefined;
    });
    assert.equal((attestation.encoded.length - 2) / 2, 586);
    // Node 0 may be the one of four the threshold did not wait for: its verification can come later.
    const record = await waitFor("node 0's verification", async () => {
      const status = (await (await fetch(`${devnet.nodes[0]!.apiUrl}/v1/candidates/${id}`)).json()) as { verification: { findingsDigest: Hex; reasons: string } | null };
      return status.verification ? { verification: status.verification } : undefined;
    });
    const expected = verdictDigest(devnet.networkId, {
      candidateId: id,
      chainId: candidate.chainId,
      target: candidate.target,
      codehash,
      outcome: Outcome.Approve,
      policyHash: candidate.policyHash,
      reasons: BigInt(record.verification.reasons),
      findingsDigest: record.verification.findingsDigest,
      issuedAt: candidate.createdAt,
      expiresAt: candidate.expiresAt,
      binding,
    });
    assert.equal(attestation.digest, expected, "the attestation is over the BoundVerdict of the candidate's binding");
  });
});
