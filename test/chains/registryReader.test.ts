// RegistryReader against a real SentinelRegistry on anvil: validator sets with their keys parsed
// back into blst keys, recorded digests, approvals and enrollments, each next to its negative.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { getAddress, keccak256, stringToHex, type Address, type Hex } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { connectChain } from "../../src/chains/clients.ts";
import { deployContract } from "../../src/chains/deploy.ts";
import { deployRegistry } from "../../src/chains/registry.ts";
import { RegistryReader, RegistryReaderError } from "../../src/chains/registryReader.ts";
import { encodeAttestation } from "../../src/codec/attestation.ts";
import { Outcome, verdictDigest, type Verdict } from "../../src/codec/types.ts";
import { publicKeyRaw } from "../../src/crypto/bls.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { latestTimestamp, startTestChain, type TestChain } from "../helpers/chain.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-registry-reader-test"));
const abi = SentinelRegistry.abi;
const hash = (label: string): Hex => keccak256(stringToHex(label));

describe("RegistryReader", () => {
  let chain: TestChain;
  let committee: LocalCommittee;
  let registry: Address;
  let reader: RegistryReader;

  before(async () => {
    chain = await startTestChain();
    committee = LocalCommittee.generate(5, NETWORK_ID);
    registry = getAddress((await deployRegistry(chain, { networkId: NETWORK_ID, rotationGracePeriodSeconds: 3600n, genesis: committee.genesis() })).address);
    reader = new RegistryReader({ chainId: chain.chain.id, registry }, { client: chain.client });
  });
  after(() => chain?.stop());

  async function mined(sent: Promise<Hex>) {
    const receipt = await chain.client.waitForTransactionReceipt({ hash: await sent });
    assert.equal(receipt.status, "success");
  }

  it("reads the current set: index, threshold, validity and the keys in the registry's order", async () => {
    const set = await reader.currentValidatorSet();
    assert.equal(set.index, 0);
    assert.equal(set.threshold, committee.threshold);
    assert.equal(set.validUntil, 2n ** 64n - 1n);
    assert.equal(set.keys.length, committee.size);
    set.keys.forEach((key, i) =>
      assert.deepEqual(publicKeyRaw(key), publicKeyRaw(committee.publicKeys[i]!), `key ${i} in signer-bitmap order`),
    );
    const byIndex = await reader.validatorSet(0);
    assert.ok(byIndex);
    assert.equal(byIndex.keys.length, committee.size);
  });

  it("answers undefined for a set that was never activated", async () => {
    assert.equal(await reader.validatorSet(1), undefined);
    assert.equal(await reader.validatorSet(2 ** 32 - 1), undefined);
  });

  it("refuses to name a current set before the genesis keys are admitted", async () => {
    const pending = await deployContract(chain.wallet, chain.client, SentinelRegistry, [NETWORK_ID, 3600n, committee.keysBlob, committee.threshold]);
    const unadmitted = new RegistryReader({ chainId: chain.chain.id, registry: pending }, { client: chain.client });
    await assert.rejects(unadmitted.currentValidatorSet(), (error) => {
      assert.ok(error instanceof RegistryReaderError);
      assert.equal(error.code, "NO_ACTIVE_VALIDATOR_SET");
      return true;
    });
    assert.equal(await unadmitted.validatorSet(0), undefined);
  });

  it("reads isRecorded and isApproved before and after an attestation is recorded", async () => {
    const issuedAt = await latestTimestamp(chain);
    const verdict: Verdict = {
      candidateId: hash("reader-candidate"),
      chainId: BigInt(chain.chain.id),
      target: getAddress("0x00000000000000000000000000000000000a11ce"),
      codehash: hash("code"),
      outcome: Outcome.Approve,
      policyHash: hash("policy"),
      reasons: 0n,
      findingsDigest: hash("findings"),
      issuedAt,
      expiresAt: issuedAt + 86_400n,
    };
    const digest = verdictDigest(NETWORK_ID, verdict);
    assert.equal(await reader.isRecorded(digest), false);
    assert.equal(await reader.isApproved(verdict.chainId, verdict.target, verdict.codehash), false);

    const attestation = encodeAttestation(committee.attest(verdict, 0, committee.firstSigners(committee.threshold)));
    await mined(chain.wallet.writeContract({ address: registry, abi, functionName: "submitAttestation", args: [attestation] }));

    assert.equal(await reader.isRecorded(digest), true);
    assert.equal(await reader.isApproved(verdict.chainId, verdict.target, verdict.codehash), true);
    assert.equal(await reader.isApproved(1n, verdict.target, verdict.codehash), false, "another chain id");
    assert.equal(await reader.isApproved(verdict.chainId, verdict.target, hash("other code")), false, "other code");
  });

  it("reads an authority's enrollment and its proposers, and nobody else's", async () => {
    const target = getAddress("0x00000000000000000000000000000000000b0b00");
    const authority = chain.wallet.account.address;
    const stranger = connectChain(chain.chain.id, chain.anvil.rpcUrl, ANVIL_DEV_KEYS[6]!);
    const [p1, p2] = [getAddress("0x1000000000000000000000000000000000000001"), getAddress("0x2000000000000000000000000000000000000002")];

    assert.equal(await reader.enrollment(target, authority), undefined);
    assert.equal(await reader.isEnrolledProposer(target, authority, p1), false);

    await mined(chain.wallet.writeContract({ address: registry, abi, functionName: "enroll", args: [target, [p1, p2], hash("policy-v1")] }));
    const enrollment = await reader.enrollment(target, authority);
    assert.ok(enrollment);
    assert.deepEqual(enrollment.proposers, [p1, p2]);
    assert.equal(enrollment.policyHash, hash("policy-v1"));
    assert.equal(enrollment.enrolledAt, await latestTimestamp(chain));
    assert.equal(await reader.isEnrolledProposer(target, authority, p2), true);

    // A stranger's entry for the same target is its own; the authority's reads do not see it.
    await mined(stranger.wallet.writeContract({ address: registry, abi, functionName: "enroll", args: [target, [stranger.wallet.account.address], hash("squat")] }));
    assert.equal(await reader.isEnrolledProposer(target, authority, stranger.wallet.account.address), false);
    assert.deepEqual((await reader.enrollment(target, authority))?.proposers, [p1, p2]);

    // An empty list unenrolls.
    await mined(chain.wallet.writeContract({ address: registry, abi, functionName: "enroll", args: [target, [], hash("policy-v1")] }));
    assert.equal(await reader.enrollment(target, authority), undefined);
    assert.equal(await reader.isEnrolledProposer(target, authority, p1), false);
  });

  it("refuses a client for another chain", () => {
    assert.throws(() => new RegistryReader({ chainId: 1, registry }, { client: chain.client }), /chain 1/);
  });
});
