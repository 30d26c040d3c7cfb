// No candidate lost to a node that was down: with real node processes and anvil chains, a node
// stopped while a candidate is gossiped, attested and recorded, and started again after
// gossipsub has forgotten the message (so IHAVE gossip cannot bring it), still admits, verifies
// and signs that candidate: on reconnecting it asks its peers for their recent candidates.
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { candidateId as idOf, parseSignedCandidate } from "../../src/codec/candidate.ts";
import { Outcome } from "../../src/codec/types.ts";
import { addProtocol, codehashOf, signCandidate, sleep, startDevnet, submitCandidate, waitForDecision, type Devnet } from "../../src/devnet/devnet.ts";
import { candidateStatus } from "../helpers/candidateStatus.ts";
import { waitFor } from "../helpers/wait.ts";

/** Longer than gossipsub keeps a message to advertise it to peers that missed it (5 heartbeats of 1 s). */
const GOSSIP_FORGOTTEN_MS = 8_000;
const DECISION_TIMEOUT_MS = 60_000;

describe("a node started after a candidate was gossiped still verifies it (real processes)", { timeout: 240_000 }, () => {
  let devnet: Devnet;

  before(async () => {
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-late-node-${process.pid}`) });
  });
  after(async () => devnet?.stop());

  it("admits, verifies and signs it after reconnecting", async (t) => {
    assert.ok(devnet.committee.threshold <= 3, "three nodes can attest without the fourth");
    const late = devnet.nodes[3]!;
    await late.stop();
    await addProtocol(devnet);
    const chain = devnet.chains[0]!;
    const body = await signCandidate(devnet, chain, chain.protocol.benign, 1n);
    const id = idOf(devnet.networkId, parseSignedCandidate(body).candidate);
    assert.equal(await submitCandidate(devnet.nodes[0]!, body), id);
    const subject = { chainId: chain.chainId, target: chain.protocol.proxy, codehash: await codehashOf(chain, chain.protocol.benign) };
    assert.ok(await waitForDecision(devnet, subject, Outcome.Approve, DECISION_TIMEOUT_MS), "recorded by the other three");
    await sleep(GOSSIP_FORGOTTEN_MS);

    const restarted = Date.now();
    late.start();
    await late.waitReady();
    const status = await waitFor("the late node to sign the candidate", async () => {
      const seen = await candidateStatus(devnet, 3, id);
      return seen?.signedDigest ? seen : undefined;
    }, 60_000, 200);
    t.diagnostic(`signed ${Date.now() - restarted} ms after its restart`);
    const attested = await candidateStatus(devnet, 0, id);
    assert.equal(status.signedDigest, attested?.attestation?.digest, "the same verdict the others attested");
    assert.ok((await late.metric('sentinel_candidate_backfill_total{event="admitted"}'))! >= 1);
  });
});
