// submitRotation (src/chains/rotation.ts) against a real SentinelRegistry on anvil: a rotation the
// current set signed activates; a run that stopped after the proposal finishes the admission
// without proposing again; a chain that already has the set is left alone; a forged aggregate
// is refused by the registry and nothing changes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { getAddress, keccak256, stringToHex, type Address } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { deployRegistry } from "../../src/chains/registry.ts";
import { submitRotation, type SignedRotation } from "../../src/chains/rotation.ts";
import { keysHash } from "../../src/codec/types.ts";
import { signProofOfPossession } from "../../src/consensus/validatorSet.ts";
import { generateSecretKey } from "../../src/crypto/bls.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-rotation-submit-test"));

describe("submitRotation", () => {
  let chain: TestChain;
  let registry: Address;
  const current = LocalCommittee.generate(4, NETWORK_ID);

  before(async () => {
    chain = await startTestChain();
    registry = getAddress((await deployRegistry(chain, { networkId: NETWORK_ID, rotationGracePeriodSeconds: 3600n, genesis: current.genesis() })).address);
  });
  after(() => chain?.stop());

  const read = <T>(functionName: string, args: unknown[] = []) =>
    chain.client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName, args } as never) as Promise<T>;

  function signed(next: LocalCommittee, setIndex: number, by: LocalCommittee, signers = by.firstSigners(by.threshold)): SignedRotation {
    return {
      setIndex,
      keysBlob: next.keysBlob,
      keysHash: keysHash(next.keysBlob),
      threshold: next.threshold,
      ...by.attestRotation(next, setIndex, signers),
      proofs: next.secretKeys.map((sk) => signProofOfPossession(sk, NETWORK_ID)),
    };
  }

  it("a forged aggregate is refused on chain and changes nothing", async () => {
    const next = new LocalCommittee([...current.secretKeys, generateSecretKey()], NETWORK_ID);
    const outsiders = LocalCommittee.generate(4, NETWORK_ID);
    await assert.rejects(submitRotation(chain, registry, signed(next, 1, outsiders)));
    assert.equal(await read<number>("currentSetIndex"), 0);
  });

  it("activates the next set; a run stopped after the proposal resumes with the admission alone; a second run does nothing", async () => {
    const next = new LocalCommittee([...current.secretKeys, generateSecretKey()], NETWORK_ID);
    const rotation = signed(next, 1, current);
    // A run that died after proposing: only the proposal is on chain.
    const hash = await chain.wallet.writeContract({ address: registry, abi: SentinelRegistry.abi, functionName: "proposeValidatorSet", args: [rotation.keysBlob, rotation.threshold, rotation.signers, rotation.signature] });
    await chain.client.waitForTransactionReceipt({ hash });
    const resumed = await submitRotation(chain, registry, rotation);
    assert.equal(resumed.result, "activated");
    assert.equal(resumed.transactions.length, 1, "admission only: proposing again would revert RotationAlreadyProposed");
    assert.equal(await read<number>("currentSetIndex"), 1);
    const set0 = await read<{ validUntil: bigint }>("validatorSet", [0]);
    assert.ok(set0.validUntil < 2n ** 64n - 1n, "set 0 is now in its grace period");
    const again = await submitRotation(chain, registry, rotation);
    assert.deepEqual(again, { chainId: chain.chain.id, result: "already active", transactions: [] });
  });
});
