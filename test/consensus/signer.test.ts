// The signer's duties with a real signing record on a real level database and a hand-driven
// clock: the record is written before a signature exists, a conflicting verdict is refused, the
// verdict goes to the candidate's aggregators only, and to everyone if no attestation follows.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { getAddress, keccak256, stringToHex, type Hex } from "viem";
import { Outcome, verdictDigest, type Verdict } from "../../src/codec/types.ts";
import { decodeVerdictMessage, type VerdictMessage } from "../../src/codec/verdictMessage.ts";
import { CandidateDuties } from "../../src/consensus/duties.ts";
import { relayOrder } from "../../src/consensus/relayOrder.ts";
import { Signer } from "../../src/consensus/signer.ts";
import { SigningRecord } from "../../src/consensus/signingRecord.ts";
import { Database } from "../../src/db/database.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { ManualClock } from "../../src/util/clock.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-signer-test"));
const committee = LocalCommittee.generate(7, NETWORK_ID);
const hash = (label: string): Hex => keccak256(stringToHex(label));

function verdict(label: string, outcome: Outcome = Outcome.Approve): Verdict {
  return {
    candidateId: hash(label),
    chainId: 1n,
    target: getAddress("0x00000000000000000000000000000000000a11ce"),
    codehash: hash("code"),
    outcome,
    policyHash: hash("policy"),
    reasons: 0n,
    findingsDigest: hash("findings"),
    issuedAt: 1_000n,
    expiresAt: 2_000n,
  };
}

describe("Signer", () => {
  let dir: string;
  let db: Database;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-signer-"));
    db = await Database.open(dir);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function signer(options: { validatorIndex?: number; reachable?: (index: number) => boolean; attested?: () => boolean } = {}) {
    const validatorIndex = options.validatorIndex ?? 0;
    const clock = new ManualClock(0);
    const record = new SigningRecord(db);
    const sent = { broadcast: [] as VerdictMessage[], inbox: [] as { index: number; message: VerdictMessage }[], ingested: [] as VerdictMessage[] };
    const duties = new CandidateDuties({ setSize: 7, validatorIndex, aggregators: 3, attestationPublishers: 2 }, { reachesInbox: options.reachable ?? (() => true) });
    const s = new Signer(
      { networkId: NETWORK_ID, setIndex: 0, validatorIndex, broadcastAfterMs: 10_000 },
      {
        record,
        sign: (digest) => committee.secretKeys[validatorIndex]!.sign(digest).toBytes(true),
        ingest: async (message) => void sent.ingested.push(message),
        duties,
        network: {
          publish: async (bytes) => void sent.broadcast.push(decodeVerdictMessage(bytes)),
          sendToInbox: async (index, bytes) => void sent.inbox.push({ index, message: decodeVerdictMessage(bytes) }),
        },
        hasAttestation: async () => options.attested?.() ?? false,
        clock,
        logger: pino({ level: "silent" }),
      },
    );
    return { s, clock, record, sent, duties };
  }

  it("writes the signing record, then sends its verdict to the candidate's other aggregators and counts its own", async () => {
    const { s, record, sent, duties } = signer({ validatorIndex: 2 });
    const v = verdict("to aggregators");
    const signedBefore: (Hex | undefined)[] = [];
    const outcome = await s.signAndSend(v, { onSigned: () => void record.signedDigest(v.candidateId).then((d) => signedBefore.push(d)) });
    const digest = verdictDigest(NETWORK_ID, v);
    assert.deepEqual(outcome, { status: "signed", digest });
    assert.equal(await record.signedDigest(v.candidateId), digest);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(signedBefore, [digest], "on record when the signature was released");
    const aggregators = duties.aggregatorsOf(v.candidateId);
    assert.deepEqual(aggregators, relayOrder(v.candidateId, 7).slice(0, 3), "every inbox reachable: the first three of the relay order");
    assert.deepEqual(sent.inbox.map(({ index }) => index).sort(), aggregators.filter((i) => i !== 2).sort());
    assert.equal(sent.ingested.length, 1, "its own aggregator counted it");
    assert.equal(sent.broadcast.length, 0);
  });

  it("refuses a conflicting verdict for a candidate it signed, and sends nothing", async () => {
    const { s, sent } = signer();
    await s.signAndSend(verdict("conflict"));
    const before = sent.inbox.length;
    const outcome = await s.signAndSend(verdict("conflict", Outcome.Reject as Outcome));
    assert.equal(outcome.status, "conflict");
    assert.equal(sent.inbox.length, before);
    assert.equal(sent.ingested.length, 1);
  });

  it("sends to everyone at once when it reaches fewer aggregators than wanted", async () => {
    const { s, sent } = signer({ reachable: () => false });
    await s.signAndSend(verdict("alone"));
    assert.equal(sent.broadcast.length, 1);
    assert.equal(sent.inbox.length, 0);
  });

  it("without an attestation in time, sends the verdict to everyone; with one, does not", async () => {
    let attested = false;
    const { s, clock, sent } = signer({ attested: () => attested });
    await s.signAndSend(verdict("late"));
    await clock.advance(9_999);
    assert.equal(sent.broadcast.length, 0);
    await clock.advance(1);
    assert.equal(sent.broadcast.length, 1, "broadcast after 10 s");

    attested = true;
    await s.signAndSend(verdict("on time"));
    await clock.advance(10_000);
    assert.equal(sent.broadcast.length, 1, "attested: nothing more");
    s.stop();
    assert.equal(clock.pending, 0);
  });
});
