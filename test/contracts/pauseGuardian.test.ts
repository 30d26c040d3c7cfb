// The example pause-only guardian (contracts/examples/PauseGuardian.sol) on a real anvil chain
// with a real registry and BLS-signed attestations: it refuses to pause while the live code is
// approved (or merely expired), pauses once the codec's revocation of that code is recorded
// (at the approval's own issue time: the revoke wins the tie), ignores revocations of code the
// proxy no longer runs, and has no way to unpause.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { encodeFunctionData, getAddress, keccak256, stringToHex, type Address, type Hex } from "viem";
import { PausableGuardedVaultV1, PausableGuardedVaultV2, PauseGuardian, SentinelRegistry, SentinelTestERC1967Proxy } from "../../artifacts/contracts.ts";
import { connectChain } from "../../src/chains/clients.ts";
import { deployRegistry } from "../../src/chains/registry.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { encodeAttestation } from "../../src/codec/attestation.ts";
import { revocationVerdict } from "../../src/codec/revocation.ts";
import type { Verdict } from "../../src/codec/types.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";
import { approvalVerdict } from "../helpers/verdicts.ts";

const NETWORK = keccak256(stringToHex("sentinel-pause-guardian-test"));

describe("PauseGuardian", () => {
  let chain: TestChain;
  let registry: Address;
  const committee = LocalCommittee.generate(4, NETWORK);

  before(async () => {
    chain = await startTestChain();
    registry = getAddress((await deployRegistry(chain, { networkId: NETWORK, rotationGracePeriodSeconds: 3600n, genesis: committee.genesis() })).address);
  });
  after(async () => chain?.stop());

  const mined = async (hash: Promise<Hex>) => assert.equal((await chain.client.waitForTransactionReceipt({ hash: await hash })).status, "success");
  const codehash = async (address: Address) => keccak256((await chain.client.getCode({ address }))!);
  const submit = (verdict: Verdict) =>
    mined(chain.wallet.writeContract({ address: registry, abi: SentinelRegistry.abi, functionName: "submitAttestation", args: [encodeAttestation(committee.attest(verdict, 0))] }));

  /** A vault proxy running V1, upgraded to an approved V2, guarded by a fresh PauseGuardian. */
  async function setup() {
    const owner = chain.wallet.account.address;
    const v1 = getAddress(await chain.deploy(PausableGuardedVaultV1, [registry]));
    const v2 = getAddress(await chain.deploy(PausableGuardedVaultV2, [registry]));
    const proxy = getAddress(
      await chain.deploy(SentinelTestERC1967Proxy, [v1, encodeFunctionData({ abi: PausableGuardedVaultV1.abi, functionName: "initialize", args: [owner, 100n] })]),
    );
    const now = (await chain.client.getBlock()).timestamp;
    const approval: Verdict = approvalVerdict({ label: `approval-${proxy}`, chainId: BigInt(chain.chain.id), target: proxy, codehash: await codehash(v2), issuedAt: now });
    await submit(approval);
    await mined(chain.wallet.writeContract({ address: proxy, abi: PausableGuardedVaultV2.abi, functionName: "upgradeToAndCall", args: [v2, "0x"] }));
    const guardian = getAddress(await chain.deploy(PauseGuardian, [registry, proxy]));
    await mined(chain.wallet.writeContract({ address: proxy, abi: PausableGuardedVaultV2.abi, functionName: "setGuardian", args: [guardian] }));
    return { proxy, guardian, approval, v1 };
  }

  const paused = (proxy: Address) => chain.client.readContract({ address: proxy, abi: PausableGuardedVaultV2.abi, functionName: "paused" });
  const pauseOnRevocation = (guardian: Address) =>
    chain.client.simulateContract({ account: chain.wallet.account, address: guardian, abi: PauseGuardian.abi, functionName: "pauseOnRevocation" });

  it("refuses to pause while the live code is approved", async () => {
    const { proxy, guardian } = await setup();
    await assert.rejects(pauseOnRevocation(guardian), /NotRevoked/);
    assert.equal(await chain.client.readContract({ address: guardian, abi: PauseGuardian.abi, functionName: "shouldPause" }), false);
    assert.equal(await paused(proxy), false);
  });

  it("pauses once the revocation of the live code is recorded, and only once", async () => {
    const { proxy, guardian, approval } = await setup();
    await submit(revocationVerdict(NETWORK, { approvalId: approval.candidateId, approval, invariant: "value-capped" }));
    assert.equal(await chain.client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName: "isApproved", args: [approval.chainId, proxy, approval.codehash] }), false);
    assert.equal(await chain.client.readContract({ address: guardian, abi: PauseGuardian.abi, functionName: "shouldPause" }), true);
    // Anyone may call it: here an account that is neither the owner nor anyone the vault knows.
    const stranger = connectChain(chain.chain.id, chain.anvil.rpcUrl, ANVIL_DEV_KEYS[3]!);
    const { request } = await stranger.client.simulateContract({ account: stranger.wallet.account, address: guardian, abi: PauseGuardian.abi, functionName: "pauseOnRevocation" });
    await mined(stranger.wallet.writeContract(request));
    assert.equal(await paused(proxy), true);
    await assert.rejects(pauseOnRevocation(guardian), /AlreadyPaused/);
  });

  it("ignores a revocation of code the proxy no longer runs", async () => {
    const { proxy, guardian, v1 } = await setup();
    const now = (await chain.client.getBlock()).timestamp;
    const oldApproval: Verdict = approvalVerdict({ label: `old-${proxy}`, chainId: BigInt(chain.chain.id), target: proxy, codehash: await codehash(v1), issuedAt: now });
    await submit(revocationVerdict(NETWORK, { approvalId: oldApproval.candidateId, approval: oldApproval, invariant: "value-capped" }));
    await assert.rejects(pauseOnRevocation(guardian), /NotRevoked/);
    assert.equal(await paused(proxy), false);
  });

  it("has no way to unpause", () => {
    const functions = PauseGuardian.abi.filter((item) => item.type === "function").map((item) => item.name);
    assert.deepEqual(functions.sort(), ["REGISTRY", "TARGET", "pauseOnRevocation", "shouldPause"]);
  });
});
