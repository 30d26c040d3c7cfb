// Byzantine validators on real processes: n nodes (4 here; SENTINEL_BYZANTINE_N=7 in the
// adversarial suite), f = ⌊(n−1)/3⌋ of them liars, the threshold ⌊2n/3⌋+1 — exactly the honest
// ones. Each liar's node is stopped and its key handed to a liar of our own: a libp2p peer
// speaking the real protocol with a real validator key. In one run each:
// - signs APPROVE for the malicious upgrade, and also a conflicting REJECT, and gossips both
//   (public equivocation);
// - shows the aggregators different verdicts for the benign one (a split view);
// - sends verdicts with garbage signatures and with another validator's index;
// - withholds every honest signature.
// The honest nodes must still decide both (REJECT and APPROVE, on both chains), never attest a
// lie, keep every liar's equivocation proof (API and event stream), and penalise the senders.
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { bytesToHex, hexToBytes, type Hex } from "viem";
import { candidateId, parseSignedCandidate } from "../../src/codec/candidate.ts";
import { Outcome, verdictDigest, type Verdict } from "../../src/codec/types.ts";
import { encodeVerdictMessage } from "../../src/codec/verdictMessage.ts";
import { codehashOf, signCandidate, startDevnet, submitCandidate, waitForDecision, type Devnet, type DevnetChain } from "../../src/devnet/devnet.ts";
import { SentinelNetwork } from "../../src/network/network.ts";
import { candidateStatus } from "../helpers/candidateStatus.ts";
import { waitFor as waitUntil } from "../helpers/wait.ts";
import { streamTextUntil } from "../helpers/streamText.ts";

const TIMEOUT_MS = 90_000;
const N = Number(process.env["SENTINEL_BYZANTINE_N"] ?? 4);
const F = Math.floor((N - 1) / 3);
/** The liars: the last F validators. */
const LIARS = Array.from({ length: F }, (_, i) => N - F + i);
const HONEST = N - F;
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> => waitUntil(what, probe, TIMEOUT_MS);

describe(`Byzantine validators (f = ${F} of ${N})`, { timeout: 600_000 }, () => {
  let devnet: Devnet;
  const liars = new Map<number, SentinelNetwork>();

  before(async () => {
    devnet = await startDevnet({ nodes: N, dir: join(tmpdir(), `sentinel-byzantine-${process.pid}`) });
    assert.equal(devnet.committee.threshold, HONEST, "the honest validators are exactly a threshold");
    for (const index of LIARS) {
      await devnet.nodes[index]!.stop();
      liars.set(
        index,
        await SentinelNetwork.create(
          { networkId: devnet.networkId, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: devnet.nodes.slice(0, HONEST).map((node) => node.p2pAddress), inboxes: N, inbox: index },
          {
            handlers: { candidate: async () => "accept", verdict: async () => "accept", attestation: async () => "accept", approval: async () => "accept" },
            bundles: { get: async () => undefined },
            logger: pino({ level: "silent" }),
          },
        ),
      );
    }
    for (const liar of liars.values()) {
      await waitFor("each liar to reach the honest nodes' topics", async () =>
        (liar.subscribers("verdict").length >= HONEST && Array.from({ length: HONEST }, (_, i) => i).every((i) => liar.reachesInbox(i))) || undefined,
      );
    }
  });
  after(async () => {
    for (const liar of liars.values()) await liar.stop();
    await devnet?.stop();
  });

  /** A verdict on `implementation`'s candidate with `outcome`, as the liar would sign it. */
  async function candidateAndVerdict(chain: DevnetChain, implementation: Hex, nonce: bigint, outcome: Outcome) {
    const body = await signCandidate(devnet, chain, implementation, nonce);
    const { candidate } = parseSignedCandidate(body);
    const id = candidateId(devnet.networkId, candidate);
    const verdict: Verdict = {
      candidateId: id,
      chainId: BigInt(chain.chainId),
      target: chain.protocol.proxy,
      codehash: await codehashOf(chain, implementation),
      outcome,
      policyHash: candidate.policyHash,
      reasons: 0n,
      findingsDigest: `0x${"00".repeat(32)}`,
      issuedAt: BigInt(Math.floor(Date.now() / 1000)),
      expiresAt: candidate.expiresAt,
    };
    return { body, id, verdict };
  }

  /** `liar`'s signature over `verdict`, sent as validator `validatorIndex` (its own by default). */
  const signed = (liar: number, verdict: Verdict, validatorIndex = liar): Uint8Array => {
    const signature = devnet.committee.secretKeys[liar]!.sign(hexToBytes(verdictDigest(devnet.networkId, verdict)));
    return encodeVerdictMessage({ setIndex: 0, validatorIndex, verdict, signature: bytesToHex(signature.toBytes(true)) });
  };

  it("never yield an attestation of their lies; the honest verdicts reach the threshold; equivocation is proven and garbage penalised", async () => {
    const chain = devnet.chains[0]!;
    const malicious = await candidateAndVerdict(chain, chain.protocol.malicious, 1n, Outcome.Approve);
    const benign = await candidateAndVerdict(chain, chain.protocol.benign, 2n, Outcome.Reject);
    const scoreAt = async (node: number, liar: SentinelNetwork) => {
      const { peers } = (await (await fetch(`${devnet.nodes[node]!.apiUrl}/v1/peers`)).json()) as { peers: { peerId: string; score: number }[] };
      return peers.find((peer) => peer.peerId === liar.peerId.toString())?.score ?? 0;
    };
    const scoresBefore = new Map<number, number>();
    for (const [index, liar] of liars) scoresBefore.set(index, await scoreAt(0, liar));

    // The lies go out first, so that every aggregator counts the liars' lies before any honest verdict.
    for (const [index, liar] of liars) {
      await liar.publish("verdict", signed(index, malicious.verdict));
      await liar.publish("verdict", signed(index, { ...malicious.verdict, outcome: Outcome.Reject, reasons: 1n }));
      // A split view of the benign upgrade: each honest aggregator is shown another verdict.
      for (let honest = 0; honest < HONEST; honest++) {
        const shown = [benign.verdict, { ...benign.verdict, outcome: Outcome.Approve }, { ...benign.verdict, issuedAt: benign.verdict.issuedAt + 1n }][honest % 3]!;
        await liar.sendToInbox(honest, signed(index, shown));
      }
      for (let i = 0; i < 5; i++) {
        const garbage = { setIndex: 0, validatorIndex: index, verdict: malicious.verdict, signature: bytesToHex(crypto.getRandomValues(new Uint8Array(96))) };
        await liar.publish("verdict", encodeVerdictMessage(garbage));
        await liar.publish("verdict", signed(index, malicious.verdict, i % HONEST)); // its own key under an honest validator's index
      }
    }

    await submitCandidate(devnet.nodes[0]!, malicious.body);
    await submitCandidate(devnet.nodes[1]!, benign.body);
    assert.ok(await waitForDecision(devnet, { chainId: chain.chainId, target: chain.protocol.proxy, codehash: malicious.verdict.codehash }, Outcome.Reject, TIMEOUT_MS), "the malicious upgrade is refused on every chain");
    assert.ok(await waitForDecision(devnet, { chainId: chain.chainId, target: chain.protocol.proxy, codehash: benign.verdict.codehash }, Outcome.Approve, TIMEOUT_MS), "the benign one is approved on every chain");

    for (let node = 0; node < HONEST; node++) {
      for (const id of [malicious.id, benign.id]) {
        const status = (await candidateStatus(devnet, node, id))!;
        assert.equal(status.attestation?.outcome, id === malicious.id ? Outcome.Reject : Outcome.Approve, `node ${node}'s attestation of ${id === malicious.id ? "the malicious" : "the benign"} upgrade`);
        assert.ok(LIARS.every((liar) => !status.attestation!.signers.includes(liar)), "no liar's signature is in an attestation");
      }
    }

    // The public equivocation is proven at the nodes that saw both, and said on their event stream.
    const proofs = await waitFor("an equivocation proof of every liar", async () => {
      for (let node = 0; node < HONEST; node++) {
        const { evidence } = (await (await fetch(`${devnet.nodes[node]!.apiUrl}/v1/evidence?candidateId=${malicious.id}`)).json()) as { evidence: { validatorIndex: number; first: { digest: Hex }; second: { digest: Hex } }[] };
        if (LIARS.every((liar) => evidence.some((proof) => proof.validatorIndex === liar))) return { node, evidence };
      }
      return undefined;
    });
    assert.ok(proofs.evidence.every((proof) => LIARS.includes(proof.validatorIndex) && proof.first.digest !== proof.second.digest), "only liars are accused");
    const { text } = await streamTextUntil(`${devnet.nodes[proofs.node]!.apiUrl}/v1/events?types=equivocation.detected&lastEventId=0`, (t) => t.includes("event: equivocation.detected"));
    assert.match(text, /event: equivocation\.detected/);

    for (const [index, liar] of liars) {
      const after = await scoreAt(0, liar);
      assert.ok(after < scoresBefore.get(index)!, `liar ${index}'s score at node 0 fell (${scoresBefore.get(index)} → ${after})`);
    }
  });
});
