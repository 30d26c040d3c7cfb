// A Byzantine validator on real processes. Four nodes, threshold three; validator 3's node is
// stopped and its key handed to a liar of our own: a libp2p peer speaking the real protocol with
// a real validator key (test/helpers/byzantine.ts builds its messages). In one run it:
// - signs APPROVE for the malicious upgrade, and also a conflicting REJECT, and gossips both
//   (public equivocation);
// - shows the aggregators different verdicts for the benign one (a split view);
// - sends verdicts with garbage signatures and with another validator's index;
// - withholds every honest signature.
// The three honest nodes must still decide both (REJECT and APPROVE, on both chains), never
// attest the lie, keep the equivocation proof (API and event stream), and penalise the sender.
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
import { waitFor as waitUntil } from "../helpers/wait.ts";

const TIMEOUT_MS = 90_000;
const LIAR = 3;
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> => waitUntil(what, probe, TIMEOUT_MS);

describe("a Byzantine validator (f = 1 of 4)", { timeout: 300_000 }, () => {
  let devnet: Devnet;
  let liar: SentinelNetwork;

  before(async () => {
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-byzantine-${process.pid}`) });
    await devnet.nodes[LIAR]!.stop();
    liar = await SentinelNetwork.create(
      { networkId: devnet.networkId, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: devnet.nodes.slice(0, LIAR).map((node) => node.p2pAddress), inboxes: 4, inbox: LIAR },
      {
        handlers: { candidate: async () => "accept", verdict: async () => "accept", attestation: async () => "accept" },
        bundles: { get: async () => undefined },
        logger: pino({ level: "silent" }),
      },
    );
    await waitFor("the liar to reach the honest nodes' topics", async () =>
      (liar.subscribers("verdict").length >= LIAR && [0, 1, 2].every((i) => liar.reachesInbox(i))) || undefined,
    );
  });
  after(async () => {
    await liar?.stop();
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

  const signed = (verdict: Verdict, validatorIndex = LIAR): Uint8Array => {
    const signature = devnet.committee.secretKeys[LIAR]!.sign(hexToBytes(verdictDigest(devnet.networkId, verdict)));
    return encodeVerdictMessage({ setIndex: 0, validatorIndex, verdict, signature: bytesToHex(signature.toBytes(true)) });
  };

  it("never yields an attestation of its lie; the honest verdicts reach the threshold; its equivocation is proven and its garbage penalised", async () => {
    const chain = devnet.chains[0]!;
    const malicious = await candidateAndVerdict(chain, chain.protocol.malicious, 1n, Outcome.Approve);
    const benign = await candidateAndVerdict(chain, chain.protocol.benign, 2n, Outcome.Reject);
    const scoreAt = async (node: number) => {
      const { peers } = (await (await fetch(`${devnet.nodes[node]!.apiUrl}/v1/peers`)).json()) as { peers: { peerId: string; score: number }[] };
      return peers.find((peer) => peer.peerId === liar.peerId.toString())?.score ?? 0;
    };
    const scoreBefore = await scoreAt(0);

    // The lies go out first, so that every aggregator counts the liar's lie before any honest verdict.
    await liar.publish("verdict", signed(malicious.verdict));
    await liar.publish("verdict", signed({ ...malicious.verdict, outcome: Outcome.Reject, reasons: 1n }));
    await liar.sendToInbox(0, signed(benign.verdict));
    await liar.sendToInbox(1, signed({ ...benign.verdict, outcome: Outcome.Approve }));
    await liar.sendToInbox(2, signed({ ...benign.verdict, issuedAt: benign.verdict.issuedAt + 1n }));
    for (let i = 0; i < 5; i++) {
      const garbage = { setIndex: 0, validatorIndex: LIAR, verdict: malicious.verdict, signature: bytesToHex(crypto.getRandomValues(new Uint8Array(96))) };
      await liar.publish("verdict", encodeVerdictMessage(garbage));
      await liar.publish("verdict", signed(malicious.verdict, i % LIAR)); // its own key under another validator's index
    }

    await submitCandidate(devnet.nodes[0]!, malicious.body);
    await submitCandidate(devnet.nodes[1]!, benign.body);
    assert.ok(await waitForDecision(devnet, { chainId: chain.chainId, target: chain.protocol.proxy, codehash: malicious.verdict.codehash }, Outcome.Reject, TIMEOUT_MS), "the malicious upgrade is refused on every chain");
    assert.ok(await waitForDecision(devnet, { chainId: chain.chainId, target: chain.protocol.proxy, codehash: benign.verdict.codehash }, Outcome.Approve, TIMEOUT_MS), "the benign one is approved on every chain");

    for (let node = 0; node < LIAR; node++) {
      const status = (await (await fetch(`${devnet.nodes[node]!.apiUrl}/v1/candidates/${malicious.id}`)).json()) as { attestation: { outcome: number; signers: number[] } | null };
      assert.equal(status.attestation?.outcome, Outcome.Reject, `node ${node}'s attestation of the malicious upgrade`);
      assert.ok(!status.attestation!.signers.includes(LIAR), "the liar's signature is in no attestation");
    }

    // The public equivocation is proven at the nodes that saw both, and said on their event stream.
    const proofs = await waitFor("an equivocation proof", async () => {
      for (let node = 0; node < LIAR; node++) {
        const { evidence } = (await (await fetch(`${devnet.nodes[node]!.apiUrl}/v1/evidence?candidateId=${malicious.id}`)).json()) as { evidence: { validatorIndex: number; first: { digest: Hex }; second: { digest: Hex } }[] };
        if (evidence.length > 0) return { node, evidence };
      }
      return undefined;
    });
    assert.equal(proofs.evidence[0]!.validatorIndex, LIAR);
    assert.notEqual(proofs.evidence[0]!.first.digest, proofs.evidence[0]!.second.digest);
    const controller = new AbortController();
    const stream = await fetch(`${devnet.nodes[proofs.node]!.apiUrl}/v1/events?types=equivocation.detected&lastEventId=0`, { signal: controller.signal });
    const reader = stream.body!.getReader();
    let text = "";
    for (let i = 0; i < 50 && !text.includes("event: equivocation.detected"); i++) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    assert.match(text, /event: equivocation\.detected/);

    assert.ok((await scoreAt(0)) < scoreBefore, `the liar's score at node 0 fell (${scoreBefore} → ${await scoreAt(0)})`);
  });
});
