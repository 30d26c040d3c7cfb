// Admission rules: an accepted candidate, then its forged, replayed, truncated, oversized and
// wrong-domain twins, each refused with its code and gossip action.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getAddress, keccak256, stringToHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { Admission, AdmissionError, type AdmissionCode } from "../../src/admission/admission.ts";
import {
  CANDIDATE_TYPES,
  candidateId,
  signedCandidateToJson,
  type Candidate,
  type SignedCandidate,
} from "../../src/codec/candidate.ts";
import { sentinelDomain } from "../../src/codec/types.ts";
import { hasCode } from "../../src/errors.ts";
import { gossipActionOf } from "../../src/network/gossip.ts";

const NETWORK = keccak256(stringToHex("admission-test"));
const OTHER_NETWORK = keccak256(stringToHex("other"));
const NOW = new Date("2026-11-20T12:00:00Z");
const nowSeconds = BigInt(NOW.getTime() / 1000);
const proposer = privateKeyToAccount(generatePrivateKey());
const stranger = privateKeyToAccount(generatePrivateKey());
const target = getAddress("0x1000000000000000000000000000000000000001");

function candidate(overrides: Partial<Candidate> = {}): Candidate {
  return {
    chainId: 31337n,
    target,
    implementation: getAddress("0x2000000000000000000000000000000000000002"),
    sourceHash: keccak256(stringToHex("source")),
    policyHash: keccak256(stringToHex("policy")),
    blockNumber: 1n,
    nonce: 1n,
    createdAt: nowSeconds - 10n,
    expiresAt: nowSeconds + 3600n,
    ...overrides,
  };
}

async function sign(c: Candidate, account = proposer, networkId = NETWORK): Promise<SignedCandidate> {
  const signature = await account.signTypedData({
    domain: sentinelDomain(networkId),
    types: CANDIDATE_TYPES,
    primaryType: "Candidate",
    message: c,
  });
  return { candidate: c, signature };
}

function admission(known = new Set<Hex>(), chainDown = false) {
  return new Admission(
    { networkId: NETWORK, maxCandidateBytes: 4096, maxLifetimeSeconds: 86_400, maxClockSkewSeconds: 300, chainIds: new Set([31337n]) },
    {
      enrollment: async (_chain, t) => {
        if (chainDown) throw new Error("HTTP request failed.\nURL: http://127.0.0.1:9");
        return { proposers: t === target ? [proposer.address] : [], authority: target };
      },
      isKnown: async (id) => known.has(id),
      now: () => NOW,
    },
  );
}

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

async function refused(promise: Promise<unknown>, code: AdmissionCode, action: "reject" | "ignore") {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AdmissionError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.action, action);
    // What the network reports for it, through its one mapping.
    assert.equal(gossipActionOf(error), action);
    assert.ok(hasCode(error, code));
    return true;
  });
}

describe("admission", () => {
  it("admits a candidate signed by an enrolled proposer", async () => {
    const signed = await sign(candidate());
    const admitted = await admission().admitBytes(bytes(signedCandidateToJson(signed)));
    assert.equal(admitted.proposer, proposer.address);
    assert.equal(admitted.id, candidateId(NETWORK, signed.candidate));
  });

  it("forged: signed by a key nobody enrolled (NOT_ENROLLED, reject)", async () => {
    await refused(admission().admit(signedCandidateToJson(await sign(candidate(), stranger))), "NOT_ENROLLED", "reject");
  });

  it("forged: a field changed after signing recovers another address (NOT_ENROLLED, reject)", async () => {
    const signed = await sign(candidate());
    const json = signedCandidateToJson({ ...signed, candidate: { ...signed.candidate, nonce: 2n } });
    await refused(admission().admit(json), "NOT_ENROLLED", "reject");
  });

  it("API: with the submitter's proposer, an edited field or another network id is BAD_SIGNATURE, not NOT_ENROLLED", async () => {
    const signed = await sign(candidate());
    const edited = signedCandidateToJson({ ...signed, candidate: { ...signed.candidate, nonce: 2n } });
    await refused(admission().admit(edited, { proposer: proposer.address }), "BAD_SIGNATURE", "reject");
    await assert.rejects(admission().admit(edited, { proposer: proposer.address }), /does not match this candidate.*changed after it was signed, or signed for another network id/);
    const otherNetwork = signedCandidateToJson(await sign(candidate(), proposer, OTHER_NETWORK));
    await refused(admission().admit(otherNetwork, { proposer: proposer.address }), "BAD_SIGNATURE", "reject");
    // The claim matches (any case): admitted as without it; without a claim the refusal says both causes.
    const lower = proposer.address.toLowerCase() as Hex;
    assert.equal((await admission().admit(signedCandidateToJson(signed), { proposer: lower })).proposer, proposer.address);
    await assert.rejects(admission().admit(edited), (error: unknown) => {
      assert.ok(hasCode(error, "NOT_ENROLLED"));
      assert.match((error as Error).message, /not an enrolled proposer.*or the candidate was changed after it was signed, or signed for another network id/);
      return true;
    });
  });

  it("a chain this node cannot read: not held against the sender (CHAIN_UNAVAILABLE, ignore)", async () => {
    const signed = await sign(candidate());
    await refused(admission(new Set(), true).admit(signedCandidateToJson(signed)), "CHAIN_UNAVAILABLE", "ignore");
    await assert.rejects(admission(new Set(), true).admit(signedCandidateToJson(signed)), /could not read the enrollment of .* HTTP request failed\.$/);
    // A duplicate is still a duplicate while the chain is down.
    const id = candidateId(NETWORK, signed.candidate);
    await refused(admission(new Set([id]), true).admit(signedCandidateToJson(signed)), "DUPLICATE", "ignore");
  });

  it("replayed: an admitted candidate again (DUPLICATE, ignore)", async () => {
    const signed = await sign(candidate());
    const id = candidateId(NETWORK, signed.candidate);
    await refused(admission(new Set([id])).admit(signedCandidateToJson(signed)), "DUPLICATE", "ignore");
    await assert.rejects(admission(new Set([id])).admit(signedCandidateToJson(signed)), (error: AdmissionError) => error.candidateId === id);
    await assert.rejects(admission(new Set([id])).admit(signedCandidateToJson(signed)), (error: AdmissionError) => {
      assert.deepEqual(error.toJSON(), { code: "DUPLICATE", message: `candidate ${id} already admitted`, meta: { candidateId: id } });
      return true;
    });
  });

  it("a forged or edited candidate is refused before any database read", async () => {
    const signed = await sign(candidate());
    const reads: Hex[] = [];
    const counting = new Admission(
      { networkId: NETWORK, maxCandidateBytes: 4096, maxLifetimeSeconds: 86_400, maxClockSkewSeconds: 300, chainIds: new Set([31337n]) },
      {
        enrollment: async () => ({ proposers: [proposer.address], authority: target }),
        isKnown: async (id) => (reads.push(id), false),
        now: () => new Date(Number(signed.candidate.createdAt) * 1000),
      },
    );
    const edited = signedCandidateToJson({ ...signed, candidate: { ...signed.candidate, nonce: signed.candidate.nonce + 1n } });
    await refused(counting.admit(edited, { proposer: proposer.address }), "BAD_SIGNATURE", "reject");
    await refused(counting.admit({ ...signedCandidateToJson(signed), signature: `0x${"ff".repeat(65)}` }), "BAD_SIGNATURE", "reject");
    assert.deepEqual(reads, []);
    await counting.admit(signedCandidateToJson(signed), { proposer: proposer.address });
    assert.equal(reads.length, 1, "the valid one is looked up once");
  });

  it("truncated: cut JSON, missing fields, short signature (MALFORMED, reject)", async () => {
    const json = signedCandidateToJson(await sign(candidate()));
    const text = JSON.stringify(json);
    await refused(admission().admitBytes(new TextEncoder().encode(text.slice(0, -10))), "MALFORMED", "reject");
    const { nonce: _drop, ...missing } = json.candidate;
    await refused(admission().admit({ ...json, candidate: missing }), "MALFORMED", "reject");
    await refused(admission().admit({ ...json, signature: json.signature.slice(0, -2) }), "MALFORMED", "reject");
    await refused(admission().admit({ ...json, candidate: { ...json.candidate, chainId: 31337 } }), "MALFORMED", "reject");
    await refused(admission().admitBytes(new Uint8Array([0xff, 0xfe])), "MALFORMED", "reject");
  });

  it("oversized: more bytes than any candidate has (TOO_LARGE, reject)", async () => {
    await refused(admission().admitBytes(new Uint8Array(4097)), "TOO_LARGE", "reject");
  });

  it("wrong domain: signed for another network (NOT_ENROLLED, reject)", async () => {
    await refused(admission().admit(signedCandidateToJson(await sign(candidate(), proposer, OTHER_NETWORK))), "NOT_ENROLLED", "reject");
  });

  it("timing: expired or from the future (ignore); a lifetime too long or backwards (reject)", async () => {
    await refused(admission().admit(signedCandidateToJson(await sign(candidate({ expiresAt: nowSeconds })))), "EXPIRED", "ignore");
    const future = candidate({ createdAt: nowSeconds + 3600n, expiresAt: nowSeconds + 7200n });
    await refused(admission().admit(signedCandidateToJson(await sign(future))), "FROM_THE_FUTURE", "ignore");
    const long = candidate({ expiresAt: nowSeconds + 2n * 86_400n });
    await refused(admission().admit(signedCandidateToJson(await sign(long))), "BAD_LIFETIME", "reject");
    const backwards = candidate({ createdAt: nowSeconds + 200n, expiresAt: nowSeconds + 100n });
    await refused(admission().admit(signedCandidateToJson(await sign(backwards))), "BAD_LIFETIME", "reject");
  });

  it("a chain this node does not serve (UNKNOWN_CHAIN, ignore)", async () => {
    await refused(admission().admit(signedCandidateToJson(await sign(candidate({ chainId: 1n })))), "UNKNOWN_CHAIN", "ignore");
  });
});

describe("admission with an enrollment index", () => {
  const authority = getAddress("0x3000000000000000000000000000000000000003");

  /** The index lists `indexed`; the chain (counted reads) lists `onChain`, or is down. */
  function indexedAdmission(indexed: readonly `0x${string}`[] | undefined, onChain: readonly `0x${string}`[] | "down") {
    const reads = { count: 0 };
    const admission = new Admission(
      { networkId: NETWORK, maxCandidateBytes: 4096, maxLifetimeSeconds: 86_400, maxClockSkewSeconds: 300, chainIds: new Set([31337n]) },
      {
        enrollment: async () => {
          reads.count++;
          if (onChain === "down") throw new Error("HTTP request failed.");
          return { proposers: onChain, authority };
        },
        indexedEnrollment: () => (indexed ? { proposers: indexed, authority } : undefined),
        isKnown: async () => false,
        now: () => NOW,
      },
    );
    return { admission, reads };
  }

  it("a proposer the index lists is admitted without a chain read, with the indexed authority", async () => {
    const { admission, reads } = indexedAdmission([proposer.address], "down");
    const admitted = await admission.admit(signedCandidateToJson(await sign(candidate())));
    assert.equal(admitted.proposer, proposer.address);
    assert.equal(admitted.authority, authority);
    assert.equal(reads.count, 0);
    assert.deepEqual(admission.stats, { byIndex: 1, byChainRead: 0 });
  });

  it("a proposer the index does not list is asked of the chain: a stale index never refuses an honest proposer", async () => {
    const { admission, reads } = indexedAdmission([stranger.address], [proposer.address]);
    assert.equal((await admission.admit(signedCandidateToJson(await sign(candidate())))).proposer, proposer.address);
    assert.equal(reads.count, 1);
    assert.deepEqual(admission.stats, { byIndex: 0, byChainRead: 1 });
  });

  it("forged: a key neither the index nor the chain lists (NOT_ENROLLED, reject); a chain down (CHAIN_UNAVAILABLE, ignore)", async () => {
    await refused(indexedAdmission([proposer.address], [proposer.address]).admission.admit(signedCandidateToJson(await sign(candidate(), stranger))), "NOT_ENROLLED", "reject");
    await refused(indexedAdmission([proposer.address], "down").admission.admit(signedCandidateToJson(await sign(candidate(), stranger))), "CHAIN_UNAVAILABLE", "ignore");
  });

  it("wrong domain: signed for another network recovers an address the index does not list (NOT_ENROLLED, reject)", async () => {
    const { admission } = indexedAdmission([proposer.address], [proposer.address]);
    await refused(admission.admit(signedCandidateToJson(await sign(candidate(), proposer, OTHER_NETWORK))), "NOT_ENROLLED", "reject");
  });

  it("not indexed: the chain decides, as without an index", async () => {
    const { admission, reads } = indexedAdmission(undefined, [proposer.address]);
    assert.equal((await admission.admit(signedCandidateToJson(await sign(candidate())))).proposer, proposer.address);
    assert.equal(reads.count, 1);
    await refused(indexedAdmission(undefined, []).admission.admit(signedCandidateToJson(await sign(candidate()))), "NOT_ENROLLED", "reject");
  });
});
