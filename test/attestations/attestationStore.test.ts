// The attestation store on a real level database: one copy stored however many arrive at once,
// its relay planned in the same batch, and a failure that stays a logged, counted failure
// (before the store existed, a failed write here was an unhandled rejection that ended the node).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { pino } from "pino";
import { getAddress, keccak256, stringToHex, type Hex } from "viem";
import { AttestationStore } from "../../src/attestations/attestationStore.ts";
import { RelayDispatcher } from "../../src/attestations/relayDispatcher.ts";
import { Outcome, verdictDigest, type Verdict } from "../../src/codec/types.ts";
import { CandidateDuties } from "../../src/consensus/duties.ts";
import { Database } from "../../src/db/database.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { ManualClock } from "../../src/util/clock.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-attestation-store-test"));
const hash = (label: string): Hex => keccak256(stringToHex(label));
const committee = LocalCommittee.generate(4, NETWORK_ID);

function attestationFor(label: string) {
  const verdict: Verdict = {
    candidateId: hash(label),
    chainId: 31337n,
    target: getAddress("0x00000000000000000000000000000000000a11ce"),
    codehash: hash("code"),
    outcome: Outcome.Approve,
    policyHash: hash("policy"),
    reasons: 0n,
    findingsDigest: hash("findings"),
    issuedAt: 1_000n,
    expiresAt: 2_000n,
  };
  return { attestation: committee.attest(verdict, 0, committee.firstSigners(committee.threshold)), digest: verdictDigest(NETWORK_ID, verdict) };
}

describe("AttestationStore", () => {
  let dir: string;
  let db: Database;
  const clock = new ManualClock(1_700_000_000_000);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-attestation-store-"));
    db = await Database.open(dir);
  });
  afterEach(async () => {
    await db.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  function store(options: { publish?: (bytes: Uint8Array) => Promise<void>; validatorIndex?: number } = {}) {
    const relayed: Hex[] = [];
    const relay = new RelayDispatcher(
      {},
      {
        db,
        chains: [{ chainId: 1, confirmations: 0, relay: async (job) => (relayed.push(job.digest), { status: "submitted", txHash: hash("tx"), gasUsed: 1n, blockNumber: 1n }), recordState: async () => "final", forget: () => {} }],
        rankOf: () => 0,
        clock,
        logger: pino({ level: "silent" }),
      },
    );
    const duties = new CandidateDuties({ setSize: 4, validatorIndex: options.validatorIndex, aggregators: 3, attestationPublishers: 2 }, { reachesInbox: () => true });
    const published: Uint8Array[] = [];
    const attestations = new AttestationStore(
      {},
      { db, relay, duties, publish: options.publish ?? (async (bytes) => void published.push(bytes)), clock, logger: pino({ level: "silent" }) },
    );
    return { attestations, relay, relayed, published };
  }

  it("stores the first of copies that arrive together, relays it once, and finds it by target", async () => {
    const { attestations, relay, relayed } = store();
    const { attestation, digest } = attestationFor("together");
    const results = await Promise.all([attestations.accept(attestation, digest, "aggregated"), attestations.accept(attestation, digest, "gossip")]);
    assert.deepEqual(results.sort(), [false, true]);
    await relay.whenIdle();
    assert.deepEqual(relayed, [digest]);
    assert.equal(await attestations.accept(attestation, digest, "gossip"), false, "a later copy too");
    assert.equal(attestations.stats.duplicates, 2);
    const byTarget = await attestations.byTarget(31337n, attestation.verdict.target);
    assert.equal(byTarget.length, 1);
    assert.equal(byTarget[0]!.digest, digest);
  });

  it("a failed write is logged and counted, never an unhandled rejection", async () => {
    const { attestations } = store();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await db.close();
      const { attestation, digest } = attestationFor("closed db");
      // Exactly as the aggregator's callback calls it: fire and forget.
      void attestations.accept(attestation, digest, "aggregated");
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(attestations.stats.failures, 1);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("gossips what it aggregated only as one of the candidate's publishers, and a failed publish is no store failure", async () => {
    const { attestation, digest } = attestationFor("publisher");
    // Every inbox reachable: the aggregators are the first three of the relay order.
    const observer = store();
    await observer.attestations.accept(attestation, digest, "aggregated");
    assert.equal(observer.published.length, 0, "an observer never publishes");

    const duties = new CandidateDuties({ setSize: 4, validatorIndex: 0, aggregators: 3, attestationPublishers: 2 }, { reachesInbox: () => true });
    const other = attestationFor("publisher, failing publish");
    const first = duties.aggregatorsOf(other.attestation.verdict.candidateId)[0]!;
    const publisher = store({ validatorIndex: first, publish: async () => Promise.reject(new Error("no peers")) });
    assert.equal(await publisher.attestations.accept(other.attestation, other.digest, "aggregated"), true);
    assert.equal(publisher.attestations.stats.failures, 0);
  });
});
