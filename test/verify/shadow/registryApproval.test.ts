import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { getAddress, keccak256, stringToHex } from "viem";
import { SentinelRegistry } from "../../../artifacts/contracts.ts";
import { deployRegistry } from "../../../src/chains/registry.ts";
import { signProofOfPossession } from "../../../src/consensus/validatorSet.ts";
import { LocalCommittee } from "../../../src/devnet/committee.ts";
import { registryApprovalOverride } from "../../../src/verify/shadow/index.ts";
import { startTestChain, type TestChain } from "../../helpers/chain.ts";

describe("the shadow fork's registry approval", () => {
  let chain: TestChain;
  let registry: `0x${string}`;
  before(async () => {
    chain = await startTestChain();
    const networkId = keccak256(stringToHex("approval-override"));
    const committee = LocalCommittee.generate(4, networkId);
    ({ address: registry } = await deployRegistry(chain, {
      networkId,
      rotationGracePeriodSeconds: 3600n,
      genesis: { keys: committee.publicKeys, proofs: committee.secretKeys.map((sk) => signProofOfPossession(sk, networkId)), threshold: committee.threshold },
    }));
  });
  after(() => chain?.stop());

  it("makes isApproved true for exactly that chain, target and codehash", async () => {
    const target = getAddress("0x00000000000000000000000000000000000000a1");
    const codehash = keccak256("0x6001");
    const isApproved = (chainId: bigint, t = target, c = codehash) =>
      chain.client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName: "isApproved", args: [chainId, t, c] });
    assert.equal(await isApproved(31337n), false);
    const { address, slot, value } = registryApprovalOverride(registry, 31337n, target, codehash);
    await chain.client.request({ method: "anvil_setStorageAt" as never, params: [address, slot, value] as never });
    assert.equal(await isApproved(31337n), true);
    assert.equal(await isApproved(1n), false, "another chain");
    assert.equal(await isApproved(31337n, getAddress("0x00000000000000000000000000000000000000a2")), false, "another target");
    assert.equal(await isApproved(31337n, target, keccak256("0x6002")), false, "other code");
    const decision = await chain.client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName: "decisionOf", args: [31337n, target, codehash] });
    assert.equal(decision.outcome, 1);
    assert.equal(decision.expiresAt, 2n ** 64n - 1n);
  });
});
