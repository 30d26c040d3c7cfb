// SentinelRegistry on a real anvil chain, with a committee signing through native blst: the
// accepted attestation, then each of its forged, replayed, truncated, oversized and
// wrong-domain twins, verdict ordering, set rotation with its grace period, and enrollment.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  BaseError,
  bytesToHex,
  concatHex,
  decodeErrorResult,
  encodeDeployData,
  getAddress,
  keccak256,
  sliceHex,
  stringToHex,
  zeroHash,
  type Hex,
} from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { encodeAttestation, type Attestation } from "../../src/codec/attestation.ts";
import { Outcome, type Verdict } from "../../src/codec/types.ts";
import { generateSecretKey, signatureToEip2537 } from "../../src/crypto/bls.ts";
import { deployRegistry } from "../../src/chains/registry.ts";
import { deployContract } from "../../src/chains/deploy.ts";
import { aggregate, encodeKeys, signerBitmap, signProofOfPossession } from "../../src/consensus/validatorSet.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { increaseTime, latestTimestamp, startTestChain, type TestChain } from "../helpers/chain.ts";
import { nonSubgroupG2 } from "../helpers/vectors.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-test-network"));
const OTHER_NETWORK_ID = keccak256(stringToHex("some-other-network"));
const GRACE_SECONDS = 3600;
const abi = SentinelRegistry.abi;

const randomHex = (bytes: number): Hex => bytesToHex(randomBytes(bytes));

function setHexByte(hex: Hex, index: number, value: number): Hex {
  const bytes = Buffer.from(hex.slice(2), "hex");
  bytes[index] = value;
  return bytesToHex(bytes);
}

function flipHexByte(hex: Hex, index: number): Hex {
  return setHexByte(hex, index, Buffer.from(hex.slice(2), "hex")[index]! ^ 0x01);
}

/** The custom error a registry constructor reverts with, decoded from the revert data. */
async function constructorError(chain: TestChain, args: readonly unknown[]): Promise<string> {
  try {
    await chain.client.call({
      account: chain.wallet.account,
      data: encodeDeployData({ abi, bytecode: SentinelRegistry.bytecode, args } as never),
    });
  } catch (error) {
    const raw = (error as BaseError).walk((e) => typeof (e as { data?: unknown }).data === "string") as { data?: Hex } | null;
    if (raw?.data) return decodeErrorResult({ abi, data: raw.data }).errorName;
    throw error;
  }
  return "no revert";
}

interface RegistryUnderTest {
  chain: TestChain;
  address: Hex;
  read<T>(functionName: string, args?: readonly unknown[]): Promise<T>;
  /** Simulates first so a revert surfaces with its decoded custom error, then sends. */
  write(functionName: string, args: readonly unknown[]): Promise<bigint>;
}

function registryUnderTest(chain: TestChain, address: Hex): RegistryUnderTest {
  return {
    chain,
    address,
    read: (functionName, args = []) =>
      chain.client.readContract({ address, abi, functionName, args } as never) as never,
    async write(functionName, args) {
      const { request } = await chain.client.simulateContract({
        address,
        abi,
        functionName,
        args,
        account: chain.wallet.account,
      } as never);
      const hash = await chain.wallet.writeContract(request as never);
      const receipt = await chain.client.waitForTransactionReceipt({ hash });
      assert.equal(receipt.status, "success");
      return receipt.gasUsed;
    },
  };
}

async function freshVerdict(chain: TestChain, overrides: Partial<Verdict> = {}): Promise<Verdict> {
  const issuedAt = await latestTimestamp(chain);
  return {
    candidateId: randomHex(32),
    chainId: BigInt(chain.chain.id),
    target: getAddress(bytesToHex(randomBytes(20))),
    codehash: randomHex(32),
    outcome: Outcome.Approve,
    policyHash: randomHex(32),
    reasons: 0n,
    findingsDigest: randomHex(32),
    issuedAt,
    expiresAt: issuedAt + 86_400n,
    ...overrides,
  };
}

describe("SentinelRegistry", () => {
  let chain: TestChain;
  let committee: LocalCommittee;
  let registry: RegistryUnderTest;

  before(async () => {
    chain = await startTestChain();
    committee = LocalCommittee.generate(4, NETWORK_ID);
    const deployment = await deployRegistry(chain, {
      networkId: NETWORK_ID,
      rotationGracePeriodSeconds: BigInt(GRACE_SECONDS),
      genesis: committee.genesis(),
    });
    registry = registryUnderTest(chain, deployment.address);
  });
  after(() => chain?.stop());

  const thresholdSigners = () => committee.firstSigners(committee.threshold);
  const attest = async (overrides: Partial<Verdict> = {}, signers = thresholdSigners()) =>
    committee.attest(await freshVerdict(chain, overrides), 0, signers);
  const verify = (encoded: Hex) => registry.read<boolean>("verifyAttestation", [encoded]);
  const submit = (encoded: Hex) => registry.write("submitAttestation", [encoded]);
  const isApproved = (v: Verdict) => registry.read<boolean>("isApproved", [v.chainId, v.target, v.codehash]);

  describe("one definition of the signed structures", () => {
    it("Solidity and TypeScript agree on every EIP-712 type string", async () => {
      const { SentinelTypesHarness } = await import("../../artifacts/contracts.ts");
      const { encodeType } = await import("../../src/codec/types.ts");
      const harness = await chain.deploy(SentinelTypesHarness);
      const [domain, verdict, rotation, pop, boundVerdict] = await chain.client.readContract({
        address: harness,
        abi: SentinelTypesHarness.abi,
        functionName: "typeStrings",
      });
      assert.equal(domain, "EIP712Domain(string name,string version,bytes32 salt)");
      assert.equal(verdict, encodeType("Verdict"));
      assert.equal(rotation, encodeType("ValidatorSetRotation"));
      assert.equal(pop, encodeType("ProofOfPossession"));
      assert.equal(boundVerdict, encodeType("BoundVerdict"));
    });

    it("viem and the registry compute the same digest for 50 random verdicts, bound and unbound", async () => {
      const { verdictDigest } = await import("../../src/codec/types.ts");
      for (let i = 0; i < 50; i++) {
        const binding = i % 2 === 0 ? undefined : randomHex(32);
        const verdict: Verdict = {
          ...(await freshVerdict(chain)),
          outcome: ([Outcome.Approve, Outcome.Reject, Outcome.Revoke] as const)[i % 3]!,
          chainId: BigInt(`0x${randomHex(8).slice(2)}`),
          reasons: BigInt(randomHex(32)),
          issuedAt: BigInt(randomBytes(4).readUInt32BE()),
          expiresAt: 2n ** 64n - 1n - BigInt(i),
          ...(binding !== undefined ? { binding } : {}),
        };
        // The contract's struct always has the field: zero there is what absent is here.
        const onChain = await registry.read("verdictDigest", [{ ...verdict, binding: binding ?? zeroHash }]);
        assert.equal(onChain, verdictDigest(NETWORK_ID, verdict));
      }
    });

    it("a bound verdict's digest is not its unbound twin's, and a zero binding is unbound", async () => {
      const { verdictDigest } = await import("../../src/codec/types.ts");
      const verdict = await freshVerdict(chain);
      const bound = verdictDigest(NETWORK_ID, { ...verdict, binding: randomHex(32) });
      assert.notEqual(bound, verdictDigest(NETWORK_ID, verdict));
      assert.equal(verdictDigest(NETWORK_ID, { ...verdict, binding: zeroHash }), verdictDigest(NETWORK_ID, verdict));
      assert.equal(await registry.read("verdictDigest", [{ ...verdict, binding: zeroHash }]), verdictDigest(NETWORK_ID, verdict));
    });
  });

  describe("an attestation signed by a threshold of the set", () => {
    it("verifies, records, and approves exactly its (chain, target, codehash)", async () => {
      const attestation = await attest();
      const encoded = encodeAttestation(attestation);
      assert.equal(await verify(encoded), true);
      assert.equal(await isApproved(attestation.verdict), false);
      await submit(encoded);
      assert.equal(await isApproved(attestation.verdict), true);
      const { verdict } = attestation;
      assert.equal(await registry.read("isApproved", [verdict.chainId + 1n, verdict.target, verdict.codehash]), false);
      assert.equal(await registry.read("isApproved", [verdict.chainId, verdict.target, randomHex(32)]), false);
      const decision = await registry.read<{ outcome: number; setIndex: number; expiresAt: bigint }>("decisionOf", [
        verdict.chainId,
        verdict.target,
        verdict.codehash,
      ]);
      assert.equal(decision.outcome, Outcome.Approve);
      assert.equal(decision.expiresAt, verdict.expiresAt);
    });

    it("signed by every member also verifies", async () => {
      assert.equal(await verify(encodeAttestation(await attest({}, committee.firstSigners()))), true);
    });

    it("signed by any threshold subset verifies (absent signers anywhere in the bitmap)", async () => {
      for (const absent of [0, 1, 2, 3]) {
        const signers = committee.firstSigners().filter((i) => i !== absent);
        assert.equal(await verify(encodeAttestation(await attest({}, signers))), true, `absent ${absent}`);
      }
    });

    it("stays verifiable statelessly after it is recorded", async () => {
      const encoded = encodeAttestation(await attest());
      await submit(encoded);
      assert.equal(await verify(encoded), true);
    });

    it("records an event carrying the verdict", async () => {
      const attestation = await attest({ reasons: 0b101n });
      await submit(encodeAttestation(attestation));
      const logs = await chain.client.getContractEvents({ address: registry.address, abi, eventName: "VerdictRecorded" });
      const last = logs.at(-1)!;
      assert.equal(last.args.target, attestation.verdict.target);
      assert.equal(last.args.outcome, Outcome.Approve);
      assert.equal(last.args.reasons, 0b101n);
      assert.equal(last.args.candidateId, attestation.verdict.candidateId);
    });
  });

  describe("refuses", () => {
    it("a replay of a recorded attestation (AlreadyRecorded)", async () => {
      const encoded = encodeAttestation(await attest());
      await submit(encoded);
      await assert.rejects(submit(encoded), /AlreadyRecorded/);
    });

    it("a truncated attestation (AttestationTruncated)", async () => {
      const encoded = encodeAttestation(await attest());
      await assert.rejects(verify(sliceHex(encoded, 0, 553)), /AttestationTruncated/);
      await assert.rejects(verify("0x"), /AttestationTruncated/);
    });

    it("trailing bytes and oversized input (AttestationTrailingBytes)", async () => {
      const encoded = encodeAttestation(await attest());
      await assert.rejects(verify(`${encoded}00`), /AttestationTrailingBytes/);
      await assert.rejects(verify(concatHex([encoded, randomHex(4096)])), /AttestationTrailingBytes/);
    });

    it("an unknown version byte (UnsupportedAttestationVersion)", async () => {
      const encoded = encodeAttestation(await attest());
      await assert.rejects(verify(setHexByte(encoded, 0, 3)), /UnsupportedAttestationVersion/);
      // Version 2 is the bound layout: 554 bytes are too few for it.
      await assert.rejects(verify(setHexByte(encoded, 0, 2)), /AttestationTruncated/);
    });

    it("another network's attestation (WrongNetwork)", async () => {
      const elsewhere = new LocalCommittee(committee.secretKeys, OTHER_NETWORK_ID);
      const attestation = elsewhere.attest(await freshVerdict(chain), 0, thresholdSigners());
      await assert.rejects(verify(encodeAttestation(attestation)), /WrongNetwork/);
    });

    it("another network's signature relabelled as ours (wrong domain: false / InvalidSignature)", async () => {
      const elsewhere = new LocalCommittee(committee.secretKeys, OTHER_NETWORK_ID);
      const attestation = elsewhere.attest(await freshVerdict(chain), 0, thresholdSigners());
      const relabelled = encodeAttestation({ ...attestation, networkId: NETWORK_ID });
      assert.equal(await verify(relabelled), false);
      await assert.rejects(submit(relabelled), /InvalidSignature/);
    });

    it("a wrong set index (UnknownValidatorSet)", async () => {
      const attestation = await attest();
      await assert.rejects(verify(encodeAttestation({ ...attestation, setIndex: 1 })), /UnknownValidatorSet/);
      await assert.rejects(verify(encodeAttestation({ ...attestation, setIndex: 2 ** 32 - 1 })), /UnknownValidatorSet/);
    });

    it("a signer bit past the set size (SignerBeyondSetSize)", async () => {
      const attestation = await attest();
      const encoded = encodeAttestation({ ...attestation, signers: attestation.signers | (1n << 4n) });
      await assert.rejects(verify(encoded), /SignerBeyondSetSize/);
      const top = encodeAttestation({ ...attestation, signers: attestation.signers | (1n << 255n) });
      await assert.rejects(verify(top), /SignerBeyondSetSize/);
    });

    it("fewer signers than the threshold, even with a valid signature (BelowThreshold)", async () => {
      const twoOfFour = await attest({}, [0, 1]);
      await assert.rejects(verify(encodeAttestation(twoOfFour)), /BelowThreshold/);
      const none = { ...(await attest()), signers: 0n };
      await assert.rejects(verify(encodeAttestation(none)), /BelowThreshold/);
    });

    it("the infinity signature (InfinitySignature)", async () => {
      const attestation: Attestation = { ...(await attest()), signature: bytesToHex(new Uint8Array(256)) };
      await assert.rejects(verify(encodeAttestation(attestation)), /InfinitySignature/);
    });

    it("a signature outside the G2 subgroup (InvalidSignaturePoint)", async () => {
      const attestation: Attestation = { ...(await attest()), signature: nonSubgroupG2() };
      await assert.rejects(verify(encodeAttestation(attestation)), /InvalidSignaturePoint/);
    });

    it("a signature off the curve (InvalidSignaturePoint)", async () => {
      const attestation = await attest();
      const offCurve = flipHexByte(attestation.signature, 255);
      await assert.rejects(verify(encodeAttestation({ ...attestation, signature: offCurve })), /InvalidSignaturePoint/);
    });

    it("a signature whose padding bytes are not zero (InvalidSignaturePoint)", async () => {
      const attestation = await attest();
      const padded = setHexByte(attestation.signature, 0, 1);
      await assert.rejects(verify(encodeAttestation({ ...attestation, signature: padded })), /InvalidSignaturePoint/);
    });

    it("a forgery by keys outside the set (false / InvalidSignature)", async () => {
      const outsiders = LocalCommittee.generate(4, NETWORK_ID);
      const forged = outsiders.attest(await freshVerdict(chain), 0, [0, 1, 2]);
      assert.equal(await verify(encodeAttestation(forged)), false);
      await assert.rejects(submit(encodeAttestation(forged)), /InvalidSignature/);
    });

    it("a bitmap naming members who did not sign (false)", async () => {
      const attestation = await attest({}, [0, 1, 2]);
      const claimed = encodeAttestation({ ...attestation, signers: signerBitmap([1, 2, 3]) });
      assert.equal(await verify(claimed), false);
    });

    it("any verdict field changed after signing (false)", async () => {
      const attestation = await attest();
      const tampered: Partial<Verdict>[] = [
        { outcome: Outcome.Reject },
        { target: bytesToHex(randomBytes(20)) },
        { codehash: randomHex(32) },
        { chainId: attestation.verdict.chainId + 1n },
        { reasons: 1n },
        { expiresAt: attestation.verdict.expiresAt + 1n },
      ];
      for (const change of tampered) {
        const encoded = encodeAttestation({ ...attestation, verdict: { ...attestation.verdict, ...change } });
        assert.equal(await verify(encoded), false, JSON.stringify(change, (_, v) => (typeof v === "bigint" ? `${v}` : v)));
      }
    });

    it("an outcome that is not approve, reject or revoke (InvalidOutcome)", async () => {
      const encoded = encodeAttestation(await attest());
      await assert.rejects(verify(setHexByte(encoded, 153, 0)), /InvalidOutcome/);
      await assert.rejects(verify(setHexByte(encoded, 153, 4)), /InvalidOutcome/);
    });

    it("an expired attestation (AttestationExpired)", async () => {
      const now = await latestTimestamp(chain);
      const attestation = await attest({ issuedAt: now - 10n, expiresAt: now });
      await assert.rejects(verify(encodeAttestation(attestation)), /AttestationExpired/);
    });

    it("a verdict dated beyond the allowed clock skew, which would outrank later revokes (IssuedInFuture)", async () => {
      const now = await latestTimestamp(chain);
      const skew = await registry.read<bigint>("MAX_CLOCK_SKEW");
      const future = await attest({ issuedAt: now + skew + 60n, expiresAt: now + 10n * skew });
      await assert.rejects(verify(encodeAttestation(future)), /IssuedInFuture/);
      const withinSkew = await attest({ issuedAt: now + skew / 2n, expiresAt: now + 10n * skew });
      assert.equal(await verify(encodeAttestation(withinSkew)), true);
    });

    it("a duplicate signer: the bitmap cannot name one twice, and a set cannot hold a key twice", async () => {
      // Two bits are two distinct keys, and the keys are strictly ascending, so the only way to
      // count one signer twice is a duplicate key in a set, which rotation refuses (below).
      const keys = committee.keysBlob;
      const firstKey = sliceHex(keys, 0, 96);
      assert.equal(await constructorError(chain, [NETWORK_ID, 60n, concatHex([firstKey, firstKey]), 2]), "DuplicateValidatorKey");
    });
  });

  describe("verdict ordering for one (chain, target, codehash)", () => {
    it("a later reject replaces an approval", async () => {
      const approval = await attest();
      await submit(encodeAttestation(approval));
      const reject = committee.attest(
        { ...approval.verdict, candidateId: randomHex(32), outcome: Outcome.Reject, issuedAt: approval.verdict.issuedAt + 1n },
        0,
        thresholdSigners(),
      );
      await submit(encodeAttestation(reject));
      assert.equal(await isApproved(approval.verdict), false);
    });

    it("a later revoke replaces an approval", async () => {
      const approval = await attest();
      await submit(encodeAttestation(approval));
      const revoke = committee.attest(
        { ...approval.verdict, outcome: Outcome.Revoke, issuedAt: approval.verdict.issuedAt + 1n },
        0,
        thresholdSigners(),
      );
      await submit(encodeAttestation(revoke));
      assert.equal(await isApproved(approval.verdict), false);
    });

    it("at equal issue time a reject beats an approval, whichever arrives first", async () => {
      const approval = await attest();
      const reject = committee.attest({ ...approval.verdict, outcome: Outcome.Reject }, 0, thresholdSigners());
      await submit(encodeAttestation(reject));
      await assert.rejects(submit(encodeAttestation(approval)), /StaleVerdict/);
      assert.equal(await isApproved(approval.verdict), false);
    });

    it("an older verdict cannot overwrite a newer one (StaleVerdict)", async () => {
      const approval = await attest();
      const olderReject = committee.attest(
        { ...approval.verdict, outcome: Outcome.Reject, issuedAt: approval.verdict.issuedAt - 5n },
        0,
        thresholdSigners(),
      );
      await submit(encodeAttestation(approval));
      await assert.rejects(submit(encodeAttestation(olderReject)), /StaleVerdict/);
      assert.equal(await isApproved(approval.verdict), true);
    });

    it("a newer approval after a reject approves (a fresh evaluation)", async () => {
      const reject = await attest({ outcome: Outcome.Reject });
      await submit(encodeAttestation(reject));
      const approval = committee.attest(
        { ...reject.verdict, outcome: Outcome.Approve, issuedAt: reject.verdict.issuedAt + 1n },
        0,
        thresholdSigners(),
      );
      await submit(encodeAttestation(approval));
      assert.equal(await isApproved(approval.verdict), true);
    });

    it("an approval lapses at its expiry", async () => {
      const now = await latestTimestamp(chain);
      const approval = await attest({ expiresAt: now + 100n });
      await submit(encodeAttestation(approval));
      assert.equal(await isApproved(approval.verdict), true);
      await increaseTime(chain, 200);
      assert.equal(await isApproved(approval.verdict), false);
    });
  });

  describe("enrollment", () => {
    it("stores proposers and policy under (target, caller)", async () => {
      const target = bytesToHex(randomBytes(20));
      const proposer = bytesToHex(randomBytes(20));
      const policyHash = randomHex(32);
      await registry.write("enroll", [target, [proposer], policyHash]);
      const authority = chain.wallet.account.address;
      const enrollment = await registry.read<{ policyHash: Hex; proposers: Hex[] }>("enrollment", [target, authority]);
      assert.equal(enrollment.policyHash, policyHash);
      assert.deepEqual(enrollment.proposers.map((p) => p.toLowerCase()), [proposer]);
      assert.equal(await registry.read("isEnrolledProposer", [target, authority, proposer]), true);
      assert.equal(await registry.read("isEnrolledProposer", [target, authority, bytesToHex(randomBytes(20))]), false);
      // Another caller's entry for the same target is separate: a stranger cannot overwrite it.
      assert.equal(await registry.read("isEnrolledProposer", [target, bytesToHex(randomBytes(20)), proposer]), false);
    });

    it("refuses more than MAX_PROPOSERS and the zero address", async () => {
      const target = bytesToHex(randomBytes(20));
      const many = Array.from({ length: 33 }, () => bytesToHex(randomBytes(20)));
      await assert.rejects(registry.write("enroll", [target, many, randomHex(32)]), /TooManyProposers/);
      const zero = "0x0000000000000000000000000000000000000000";
      await assert.rejects(registry.write("enroll", [target, [zero], randomHex(32)]), /ZeroProposer/);
    });
  });
});

describe("SentinelRegistry validator sets", () => {
  let chain: TestChain;
  let genesis: LocalCommittee;
  let next: LocalCommittee;
  let registry: RegistryUnderTest;

  before(async () => {
    chain = await startTestChain();
    genesis = LocalCommittee.generate(4, NETWORK_ID);
    next = LocalCommittee.generate(7, NETWORK_ID);
    const deployment = await deployRegistry(chain, {
      networkId: NETWORK_ID,
      rotationGracePeriodSeconds: BigInt(GRACE_SECONDS),
      genesis: genesis.genesis(),
    });
    registry = registryUnderTest(chain, deployment.address);
  });
  after(() => chain?.stop());

  const propose = (committee: LocalCommittee, keys: Hex, threshold: number, setIndex = 1) => {
    const digestCommittee = { keysBlob: keys, threshold } as LocalCommittee;
    const { signers, signature } = committee.attestRotation(digestCommittee, setIndex, committee.firstSigners(committee.threshold));
    return registry.write("proposeValidatorSet", [keys, threshold, signers, signature]);
  };
  const admitAll = (committee: LocalCommittee) => {
    const proofs = committee.genesis().proofs;
    return registry.write("admitValidatorKeys", [BigInt(proofs.length), signatureToEip2537(aggregate(proofs))]);
  };

  it("a deployed registry is inactive until every genesis key is admitted", async () => {
    const pending = LocalCommittee.generate(3, NETWORK_ID);
    const address = await deployContract(chain.wallet, chain.client, SentinelRegistry, [NETWORK_ID, 60n, pending.keysBlob, 3]);
    const fresh = registryUnderTest(chain, address);
    assert.equal(await fresh.read("hasActiveSet"), false);
    const proofs = pending.genesis().proofs;
    await fresh.write("admitValidatorKeys", [2n, signatureToEip2537(aggregate(proofs.slice(0, 2)))]);
    assert.equal(await fresh.read("hasActiveSet"), false);
    await assert.rejects(
      fresh.write("admitValidatorKeys", [2n, signatureToEip2537(aggregate(proofs.slice(2)))]),
      /AdmissionCountOutOfRange/,
    );
    await fresh.write("admitValidatorKeys", [1n, signatureToEip2537(proofs[2]!)]);
    assert.equal(await fresh.read("hasActiveSet"), true);
    assert.equal(await fresh.read("validatorKeys", [0]), pending.keysBlob);
  });

  describe("admission refuses a key without a valid proof of possession", () => {
    const deployPending = async (committee: LocalCommittee) => {
      const address = await deployContract(chain.wallet, chain.client, SentinelRegistry, [
        NETWORK_ID,
        60n,
        committee.keysBlob,
        committee.threshold,
      ]);
      return registryUnderTest(chain, address);
    };

    it("a proof for another key", async () => {
      const committee = LocalCommittee.generate(2, NETWORK_ID);
      const fresh = await deployPending(committee);
      const wrong = signProofOfPossession(generateSecretKey(), NETWORK_ID);
      await assert.rejects(fresh.write("admitValidatorKeys", [1n, signatureToEip2537(wrong)]), /InvalidProofOfPossession/);
    });

    it("a proof made for another network (wrong domain)", async () => {
      const committee = LocalCommittee.generate(2, NETWORK_ID);
      const fresh = await deployPending(committee);
      const proofs = committee.secretKeys.map((sk) => signProofOfPossession(sk, OTHER_NETWORK_ID));
      await assert.rejects(
        fresh.write("admitValidatorKeys", [2n, signatureToEip2537(aggregate(proofs))]),
        /InvalidProofOfPossession/,
      );
    });

    it("a rogue key (the negated sum of honest keys plus the attacker's) cannot be admitted", async () => {
      // The classic attack: pk_rogue = g^t - pk_honest makes the aggregate the attacker's key.
      // It needs a proof for pk_rogue, which only the holder of its secret can make; an
      // aggregate of the honest proof and one by t is not it.
      const honest = generateSecretKey();
      const attacker = generateSecretKey();
      const { PublicKey } = await import("../../src/crypto/bls.ts");
      const { bls12_381 } = await import("@noble/curves/bls12-381.js");
      const G1 = bls12_381.G1.Point;
      const honestPoint = G1.fromBytes(honest.toPublicKey().toBytes(true));
      const attackerPoint = G1.fromBytes(attacker.toPublicKey().toBytes(true));
      const roguePoint = attackerPoint.subtract(honestPoint);
      const rogue = PublicKey.fromBytes(roguePoint.toBytes(true));
      const keys = [honest.toPublicKey(), rogue].sort((a, b) => Buffer.compare(a.toBytes(false), b.toBytes(false)));
      const address = await deployContract(chain.wallet, chain.client, SentinelRegistry, [NETWORK_ID, 60n, encodeKeys(keys), 2]);
      const fresh = registryUnderTest(chain, address);
      const proofs = [signProofOfPossession(honest, NETWORK_ID), signProofOfPossession(attacker, NETWORK_ID)];
      await assert.rejects(
        fresh.write("admitValidatorKeys", [2n, signatureToEip2537(aggregate(proofs))]),
        /InvalidProofOfPossession/,
      );
    });

    it("the infinity point as the aggregate proof", async () => {
      const committee = LocalCommittee.generate(2, NETWORK_ID);
      const fresh = await deployPending(committee);
      await assert.rejects(
        fresh.write("admitValidatorKeys", [2n, bytesToHex(new Uint8Array(256))]),
        /InfinitySignature/,
      );
    });
  });

  describe("a proposed set is refused when", () => {
    it("its keys are not sorted (UnsortedValidatorKeys)", async () => {
      const reversed = encodeKeys([...next.publicKeys].reverse());
      await assert.rejects(propose(genesis, reversed, next.threshold), /UnsortedValidatorKeys/);
    });
    it("a key repeats (DuplicateValidatorKey)", async () => {
      const keys = next.publicKeys;
      await assert.rejects(propose(genesis, encodeKeys([keys[0]!, keys[0]!, keys[1]!]), 3), /DuplicateValidatorKey/);
    });
    it("a key is the point at infinity (InfinityKey)", async () => {
      await assert.rejects(propose(genesis, concatHex([bytesToHex(new Uint8Array(96)), next.keysBlob]), 6), /InfinityKey/);
    });
    it("a key is off the curve (InvalidPublicKey)", async () => {
      const offCurve = flipHexByte(next.keysBlob, 95);
      await assert.rejects(propose(genesis, offCurve, next.threshold), /InvalidPublicKey|UnsortedValidatorKeys/);
    });
    it("it is empty or not whole keys (InvalidKeysLength)", async () => {
      await assert.rejects(propose(genesis, "0x", 1), /InvalidKeysLength/);
      await assert.rejects(propose(genesis, sliceHex(next.keysBlob, 0, 95), 1), /InvalidKeysLength/);
    });
    it("the threshold is below ⌊2n/3⌋+1 or above n (ThresholdOutOfRange)", async () => {
      await assert.rejects(propose(genesis, next.keysBlob, 4), /ThresholdOutOfRange/);
      await assert.rejects(propose(genesis, next.keysBlob, 8), /ThresholdOutOfRange/);
    });
    it("it is signed by too few of the current set (BelowThreshold)", async () => {
      const { signature } = genesis.attestRotation(next, 1, [0, 1]);
      await assert.rejects(
        registry.write("proposeValidatorSet", [next.keysBlob, next.threshold, signerBitmap([0, 1]), signature]),
        /BelowThreshold/,
      );
    });
    it("it is signed for another set index (InvalidSignature)", async () => {
      await assert.rejects(propose(genesis, next.keysBlob, next.threshold, 2), /InvalidSignature/);
    });
  });

  describe("rotation", () => {
    it("activates the new set once its keys are admitted; a replayed proposal is refused", async () => {
      await propose(genesis, next.keysBlob, next.threshold);
      await assert.rejects(propose(genesis, next.keysBlob, next.threshold), /RotationAlreadyProposed/);
      assert.equal(await registry.read("currentSetIndex"), 0);
      await admitAll(next);
      assert.equal(await registry.read("currentSetIndex"), 1);
      assert.equal(await registry.read("validatorKeys", [1]), next.keysBlob);
    });

    it("the new set's attestations verify", async () => {
      const attestation = next.attest(await freshVerdict(chain), 1, next.firstSigners(next.threshold));
      assert.equal(await registry.read("verifyAttestation", [encodeAttestation(attestation)]), true);
    });

    it("the old set still verifies verdicts during the grace period", async () => {
      const attestation = genesis.attest(await freshVerdict(chain), 0, genesis.firstSigners(genesis.threshold));
      assert.equal(await registry.read("verifyAttestation", [encodeAttestation(attestation)]), true);
    });

    it("the old set can never sign another rotation", async () => {
      // Enough bits to meet set 1's threshold, but the signature is the old set's.
      const third = LocalCommittee.generate(4, NETWORK_ID);
      const { signature } = genesis.attestRotation(third, 2, genesis.firstSigners());
      const signers = signerBitmap(next.firstSigners(next.threshold));
      await assert.rejects(
        registry.write("proposeValidatorSet", [third.keysBlob, third.threshold, signers, signature]),
        /InvalidSignature/,
      );
    });

    it("the old set expires after the grace period (ValidatorSetExpired)", async () => {
      const attestation = genesis.attest(await freshVerdict(chain, { expiresAt: 2n ** 63n }), 0, genesis.firstSigners(3));
      await increaseTime(chain, GRACE_SECONDS + 1);
      await assert.rejects(registry.read("verifyAttestation", [encodeAttestation(attestation)]), /ValidatorSetExpired/);
    });

    it("the current set rotates again to index 2", async () => {
      const third = LocalCommittee.generate(5, NETWORK_ID);
      await propose(next, third.keysBlob, third.threshold, 2);
      await admitAll(third);
      assert.equal(await registry.read("currentSetIndex"), 2);
    });
  });
});
