// RegistryReader.targetEnrollment on anvil, against real proxies and a real SentinelRegistry: the
// one-round-trip read (EnrollmentLens, run as a deployless call) must answer exactly what
// resolveUpgradeAuthority followed by enrollment() answers, for every kind of target, and fall
// back to those reads where a target has an admin.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPublicClient, custom, encodeFunctionData, getAddress, keccak256, parseAbi, stringToHex, type Address, type Hex } from "viem";
import { GasProbe, PlainUUPSVault, SentinelRegistry, SentinelTestERC1967Proxy, SentinelTestTransparentProxy } from "../../artifacts/contracts.ts";
import { NoUpgradeAuthority, resolveUpgradeAuthority } from "../../src/chains/authority.ts";
import { connectChain, type ChainClients } from "../../src/chains/clients.ts";
import { deployRegistry } from "../../src/chains/registry.ts";
import { RegistryReader } from "../../src/chains/registryReader.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-target-enrollment-test"));
const OWNABLE_ABI = parseAbi(["function renounceOwnership()"]);
const proposer = (n: number) => getAddress(keccak256(stringToHex(`proposer-${n}`)).slice(0, 42));

describe("RegistryReader.targetEnrollment", () => {
  let chain: TestChain;
  let owner: ChainClients;
  let registry: Address;
  let reader: RegistryReader;
  /** JSON-RPC methods the reader sent, in order. */
  const methods: string[] = [];
  let implementation: Address;

  before(async () => {
    chain = await startTestChain();
    owner = connectChain(chain.chain.id, chain.anvil.rpcUrl, ANVIL_DEV_KEYS[5]!);
    const committee = LocalCommittee.generate(4, NETWORK_ID);
    registry = getAddress((await deployRegistry(chain, { networkId: NETWORK_ID, rotationGracePeriodSeconds: 3600n, genesis: committee.genesis() })).address);
    const counted = createPublicClient({
      chain: chain.chain,
      transport: custom({
        request: ({ method, params }) => {
          methods.push(method);
          return chain.client.request({ method, params } as never);
        },
      }),
    });
    reader = new RegistryReader({ chainId: chain.chain.id, registry }, { client: counted });
    implementation = getAddress(await chain.deploy(PlainUUPSVault));
  });
  after(() => chain?.stop());

  async function mined(sent: Promise<Hex>) {
    assert.equal((await chain.client.waitForTransactionReceipt({ hash: await sent })).status, "success");
  }
  const enroll = (by: ChainClients, target: Address, proposers: Address[]) =>
    mined(by.wallet.writeContract({ address: registry, abi: SentinelRegistry.abi, functionName: "enroll", args: [target, proposers, keccak256(stringToHex("policy"))] }));
  const uupsOwnedBy = async (authority: Address) =>
    getAddress(await chain.deploy(SentinelTestERC1967Proxy, [implementation, encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [authority] })]));

  /** What the reads one after the other say. */
  async function sequential(target: Address) {
    const { authority } = await resolveUpgradeAuthority(chain.client, target);
    return { authority, enrollment: await reader.enrollment(target, authority) };
  }

  it("a UUPS target: its owner's enrollment in one round trip, the same as the reads one by one", async () => {
    const target = await uupsOwnedBy(owner.wallet.account.address);
    await enroll(owner, target, [proposer(1), proposer(2)]);
    methods.length = 0;
    const read = await reader.targetEnrollment(target);
    assert.deepEqual(methods.sort(), ["eth_call", "eth_getStorageAt"], "two requests, sent together");
    assert.equal(read.authority, owner.wallet.account.address);
    assert.deepEqual(read.enrollment?.proposers, [proposer(1), proposer(2)]);
    assert.ok(read.enrollment.enrolledAt > 0n);
    assert.deepEqual(read, await sequential(target));
  });

  it("an enrollment written by someone other than the authority means nothing", async () => {
    const target = await uupsOwnedBy(owner.wallet.account.address);
    await enroll(chain, target, [proposer(3)]);
    assert.deepEqual(await reader.targetEnrollment(target), { authority: owner.wallet.account.address, enrollment: undefined });
  });

  it("a transparent proxy: the reads one by one (its ProxyAdmin's owner is the authority)", async () => {
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [chain.wallet.account.address] });
    const target = getAddress(await chain.deploy(SentinelTestTransparentProxy, [implementation, owner.wallet.account.address, init]));
    await enroll(owner, target, [proposer(4)]);
    const read = await reader.targetEnrollment(target);
    assert.equal(read.authority, owner.wallet.account.address, "not the implementation's owner() through the proxy");
    assert.deepEqual(read.enrollment?.proposers, [proposer(4)]);
    assert.deepEqual(read, await sequential(target));
  });

  it("no authority: a renounced owner, a contract without owner(), an address without code", async () => {
    const renounced = await uupsOwnedBy(chain.wallet.account.address);
    await mined(chain.wallet.writeContract({ address: renounced, abi: OWNABLE_ABI, functionName: "renounceOwnership" }));
    const ownerless = getAddress(await chain.deploy(GasProbe));
    const empty = proposer(99);
    for (const [target, reason] of [[renounced, "renounced"], [ownerless, "no-admin-no-owner"], [empty, "no-code"]] as const) {
      await assert.rejects(reader.targetEnrollment(target), (error) => {
        assert.ok(error instanceof NoUpgradeAuthority, String(error));
        assert.equal(error.reason, reason);
        return true;
      });
      await assert.rejects(resolveUpgradeAuthority(chain.client, target), { name: "NoUpgradeAuthority", reason });
    }
  });
});
