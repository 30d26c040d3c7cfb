// The enrollment index against a real registry and real OpenZeppelin proxies on anvil: what it
// learns from the logs, what drops an entry (re-enrollment, unenrollment, an ownership or admin
// change, an enrollment forged by someone who is not the authority), and when it stops
// answering (a poll too long ago; an owner changed without any event).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import pino from "pino";
import { encodeFunctionData, getAddress, keccak256, parseAbi, stringToHex, type Address, type Hex } from "viem";
import { PlainUUPSVault, SentinelRegistry, SentinelTestERC1967Proxy, SentinelTestTransparentProxy } from "../../artifacts/contracts.ts";
import { ERC1967_ADMIN_SLOT } from "../../src/chains/authority.ts";
import { connectChain, type ChainClients } from "../../src/chains/clients.ts";
import { EnrollmentIndex, type EnrollmentIndexOptions } from "../../src/chains/enrollmentIndex.ts";
import { deployRegistry } from "../../src/chains/registry.ts";
import { RegistryReader } from "../../src/chains/registryReader.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { rpc, startTestChain, type TestChain } from "../helpers/chain.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-enrollment-index-test"));
const POLICY: Hex = keccak256(stringToHex("policy"));
const OWNABLE_ABI = parseAbi(["function transferOwnership(address newOwner)"]);
const proposerA = getAddress("0x00000000000000000000000000000000000000a1");
const proposerB = getAddress("0x00000000000000000000000000000000000000b2");

describe("EnrollmentIndex", () => {
  let chain: TestChain;
  let registry: Address;
  let reader: RegistryReader;
  let owner: ChainClients;
  let attacker: ChainClients;
  let implementation: Address;
  let clock: number;

  before(async () => {
    chain = await startTestChain();
    const committee = LocalCommittee.generate(4, NETWORK_ID);
    registry = getAddress((await deployRegistry(chain, { networkId: NETWORK_ID, rotationGracePeriodSeconds: 3600n, genesis: committee.genesis() })).address);
    reader = new RegistryReader({ chainId: chain.chain.id, registry }, { client: chain.client });
    owner = connectChain(chain.chain.id, chain.anvil.rpcUrl, ANVIL_DEV_KEYS[5]!);
    attacker = connectChain(chain.chain.id, chain.anvil.rpcUrl, ANVIL_DEV_KEYS[6]!);
    implementation = getAddress(await chain.deploy(PlainUUPSVault));
  });
  after(() => chain?.stop());
  beforeEach(() => {
    clock = 1_000_000;
  });

  const index = (options: Partial<EnrollmentIndexOptions> = {}) =>
    new EnrollmentIndex(options, { client: chain.client, reader, logger: pino({ level: "silent" }), now: () => clock });

  async function mined(clients: ChainClients, sent: Promise<Hex>) {
    const receipt = await clients.client.waitForTransactionReceipt({ hash: await sent });
    assert.equal(receipt.status, "success");
  }

  /** A UUPS proxy owned by `owner` (its owner() is the authority). */
  async function uupsProxy(): Promise<Address> {
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [owner.wallet.account.address] });
    return getAddress(await chain.deploy(SentinelTestERC1967Proxy, [implementation, init]));
  }

  const enroll = (by: ChainClients, target: Address, proposers: Address[]) =>
    mined(by, by.wallet.writeContract({ address: registry, abi: SentinelRegistry.abi, functionName: "enroll", args: [target, proposers, POLICY] }));

  it("indexes enrollments made before it started, with their authority and policy", async () => {
    const proxy = await uupsProxy();
    await enroll(owner, proxy, [proposerA]);
    const fresh = index();
    assert.equal(fresh.lookup(proxy), undefined, "nothing before the first poll");
    await fresh.poll();
    assert.deepEqual(fresh.lookup(proxy), { proposers: [proposerA], authority: owner.wallet.account.address, policyHash: POLICY });
    assert.equal(fresh.lookup(implementation), undefined, "a target nobody enrolled");
  });

  it("honours the chain's confirmations: an enrollment counts once it is that deep, and a reorg cannot leave it behind", async () => {
    const proxy = await uupsProxy();
    const live = index({ confirmations: 3 });
    await live.poll();
    await enroll(owner, proxy, [proposerA]);
    await live.poll();
    assert.equal(live.lookup(proxy), undefined, "one block deep: not yet");
    assert.deepEqual((await live.read(proxy)).proposers, [], "nor when read");
    await rpc(chain.anvil.rpcUrl, "anvil_mine", ["0x3"]);
    await live.poll();
    assert.deepEqual(live.lookup(proxy)?.proposers, [proposerA]);
    assert.deepEqual((await live.read(proxy)).proposers, [proposerA]);
  });

  it("follows a re-enrollment and an unenrollment", async () => {
    const proxy = await uupsProxy();
    await enroll(owner, proxy, [proposerA]);
    const live = index();
    await live.poll();
    await enroll(owner, proxy, [proposerB]);
    await live.poll();
    assert.deepEqual(live.lookup(proxy)?.proposers, [proposerB]);
    await enroll(owner, proxy, []);
    await live.poll();
    assert.equal(live.lookup(proxy), undefined);
  });

  it("forged: an enrollment written by someone who is not the authority is not indexed, and leaves the real one", async () => {
    const proxy = await uupsProxy();
    await enroll(owner, proxy, [proposerA]);
    const live = index();
    await live.poll();
    await enroll(attacker, proxy, [attacker.wallet.account.address]);
    await live.poll();
    assert.deepEqual(live.lookup(proxy)?.proposers, [proposerA]);
    assert.equal(live.lookup(proxy)?.authority, owner.wallet.account.address);
  });

  it("drops an entry when the target's ownership moves (a log of the target)", async () => {
    const proxy = await uupsProxy();
    await enroll(owner, proxy, [proposerA]);
    const live = index();
    await live.poll();
    await mined(owner, owner.wallet.writeContract({ address: proxy, abi: OWNABLE_ABI, functionName: "transferOwnership", args: [attacker.wallet.account.address] }));
    await live.poll();
    assert.equal(live.lookup(proxy), undefined, "the new owner enrolled nobody");
  });

  it("drops an entry when its ProxyAdmin's ownership moves (a log of the admin, not of the target)", async () => {
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [owner.wallet.account.address] });
    const proxy = getAddress(await chain.deploy(SentinelTestTransparentProxy, [implementation, owner.wallet.account.address, init]));
    await enroll(owner, proxy, [proposerA]);
    const live = index();
    await live.poll();
    assert.deepEqual(live.lookup(proxy)?.proposers, [proposerA]);
    const word = await chain.client.getStorageAt({ address: proxy, slot: ERC1967_ADMIN_SLOT });
    const proxyAdmin = getAddress(`0x${word!.slice(26)}`);
    await mined(owner, owner.wallet.writeContract({ address: proxyAdmin, abi: OWNABLE_ABI, functionName: "transferOwnership", args: [attacker.wallet.account.address] }));
    await live.poll();
    assert.equal(live.lookup(proxy), undefined);
  });

  it("answers nothing once its last poll is older than freshForMs, and again after the next poll", async () => {
    const proxy = await uupsProxy();
    await enroll(owner, proxy, [proposerA]);
    const live = index({ freshForMs: 3_000 });
    await live.poll();
    clock += 3_001;
    assert.equal(live.lookup(proxy), undefined);
    await live.poll();
    assert.deepEqual(live.lookup(proxy)?.proposers, [proposerA]);
  });

  it("a chain it cannot reach: nothing indexed, nothing answered", async () => {
    const down = connectChain(chain.chain.id, "http://127.0.0.1:9", ANVIL_DEV_KEYS[0]!);
    const unreachable = new EnrollmentIndex({}, { client: down.client, reader: new RegistryReader({ chainId: chain.chain.id, registry }, { client: down.client }), logger: pino({ level: "silent" }), now: () => clock });
    await unreachable.poll();
    assert.equal(unreachable.size, 0);
  });

  it("reads an entry again after maxAgeMs: an authority changed without any event", async () => {
    const proxy = await uupsProxy();
    await enroll(owner, proxy, [proposerA]);
    const live = index({ maxAgeMs: 60_000 });
    await live.poll();
    // A custom proxy could write its admin slot without an event: the slot now names the attacker.
    await rpc(chain.anvil.rpcUrl, "anvil_setStorageAt", [proxy, ERC1967_ADMIN_SLOT, `0x${attacker.wallet.account.address.slice(2).toLowerCase().padStart(64, "0")}`]);
    await rpc(chain.anvil.rpcUrl, "evm_mine", []);
    await live.poll();
    assert.deepEqual(live.lookup(proxy)?.proposers, [proposerA], "no log: still the old answer within maxAgeMs");
    clock += 60_001;
    await live.poll();
    assert.equal(live.lookup(proxy), undefined, "read again: the attacker enrolled nobody");
  });

  it("indexes an enrollment older than its backfill window when it is first read", async () => {
    const proxy = await uupsProxy();
    await enroll(owner, proxy, [proposerA]);
    await rpc(chain.anvil.rpcUrl, "evm_mine", []);
    const short = index({ backfillBlocks: 0n });
    await short.poll();
    assert.equal(short.lookup(proxy), undefined, "enrolled before the window");
    assert.deepEqual((await short.read(proxy)).proposers, [proposerA]);
    assert.deepEqual(short.lookup(proxy)?.proposers, [proposerA]);
    assert.deepEqual((await short.read(implementation)).proposers, [], "a target without an authority");
    assert.equal(short.lookup(implementation), undefined, "a read that lists nobody is not indexed");
  });
});
