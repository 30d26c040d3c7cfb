// resolveUpgradeAuthority against real OpenZeppelin proxies on anvil: a UUPS ERC1967Proxy with
// an Ownable implementation, a TransparentUpgradeableProxy with its own ProxyAdmin, and
// contracts that have no authority at all.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { encodeFunctionData, getAddress, keccak256, parseAbi, stringToHex, zeroAddress, type Address } from "viem";
import { GasProbe, GuardedVaultV1, PlainUUPSVault, SentinelTestERC1967Proxy, SentinelTestTransparentProxy } from "../../artifacts/contracts.ts";
import { ERC1967_ADMIN_SLOT, NoUpgradeAuthority, resolveUpgradeAuthority } from "../../src/chains/authority.ts";
import { connectChain } from "../../src/chains/clients.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";

const OWNABLE_ABI = parseAbi(["function renounceOwnership()", "function transferOwnership(address newOwner)"]);

describe("resolveUpgradeAuthority", () => {
  let chain: TestChain;
  let deployer: Address;
  let protocolOwner: Address;
  let plainImplementation: Address;

  before(async () => {
    chain = await startTestChain();
    deployer = chain.wallet.account.address;
    protocolOwner = connectChain(chain.chain.id, chain.anvil.rpcUrl, ANVIL_DEV_KEYS[5]!).wallet.account.address;
    plainImplementation = getAddress(await chain.deploy(PlainUUPSVault));
  });
  after(() => chain?.stop());

  const deploy = async (artifact: Parameters<TestChain["deploy"]>[0], args: readonly unknown[] = []) =>
    getAddress(await chain.deploy(artifact, args));

  async function mined(hash: Promise<`0x${string}`>) {
    const receipt = await chain.client.waitForTransactionReceipt({ hash: await hash });
    assert.equal(receipt.status, "success");
  }

  it("a UUPS ERC1967Proxy: the owner() its Ownable implementation answers through the proxy", async () => {
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [protocolOwner] });
    const proxy = await deploy(SentinelTestERC1967Proxy, [plainImplementation, init]);
    const admin = await chain.client.getStorageAt({ address: proxy, slot: ERC1967_ADMIN_SLOT });
    assert.equal(BigInt(admin ?? "0x0"), 0n, "a UUPS proxy has no admin");
    assert.deepEqual(await resolveUpgradeAuthority(chain.client, proxy), { authority: protocolOwner, kind: "owner" });
  });

  it("a TransparentUpgradeableProxy: the owner of its ProxyAdmin, not the ProxyAdmin", async () => {
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [deployer] });
    const proxy = await deploy(SentinelTestTransparentProxy, [plainImplementation, protocolOwner, init]);
    const result = await resolveUpgradeAuthority(chain.client, proxy);
    const adminWord = await chain.client.getStorageAt({ address: proxy, slot: ERC1967_ADMIN_SLOT });
    assert.deepEqual(result, { authority: protocolOwner, kind: "proxy-admin-owner", admin: getAddress(`0x${adminWord!.slice(26)}`) });
    // The implementation's own owner (deployer) is what owner() through the proxy would say:
    // the admin slot takes precedence over it.
    assert.notEqual(result.authority, deployer);
  });

  it("a proxy whose admin has no owner(): the admin itself", async () => {
    // An ERC1967 proxy whose admin slot names a contract without owner() is written by hand:
    // OZ's own proxies always deploy a ProxyAdmin. anvil_setStorageAt stands in for a custom proxy.
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [deployer] });
    const proxy = await deploy(SentinelTestERC1967Proxy, [plainImplementation, init]);
    const ownerlessAdmin = await deploy(GasProbe);
    await anvilSetStorage(chain, proxy, ERC1967_ADMIN_SLOT, ownerlessAdmin);
    assert.deepEqual(await resolveUpgradeAuthority(chain.client, proxy), { authority: ownerlessAdmin, kind: "erc1967-admin", admin: ownerlessAdmin });

    // An EOA admin (as in the original ERC-1967 proxies) is the authority too.
    await anvilSetStorage(chain, proxy, ERC1967_ADMIN_SLOT, protocolOwner);
    assert.deepEqual(await resolveUpgradeAuthority(chain.client, proxy), { authority: protocolOwner, kind: "erc1967-admin", admin: protocolOwner });
  });

  it("a contract with neither an admin slot nor owner(): NoUpgradeAuthority", async () => {
    const plain = await deploy(GasProbe);
    await assert.rejects(resolveUpgradeAuthority(chain.client, plain), (error) => {
      assert.ok(error instanceof NoUpgradeAuthority);
      assert.equal(error.code, "NO_UPGRADE_AUTHORITY");
      assert.equal(error.reason, "no-admin-no-owner");
      assert.equal(error.target, plain);
      return true;
    });
  });

  it("a renounced owner (owner() is zero) or a renounced ProxyAdmin: NoUpgradeAuthority", async () => {
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [deployer] });
    const uups = await deploy(SentinelTestERC1967Proxy, [plainImplementation, init]);
    await mined(chain.wallet.writeContract({ address: uups, abi: OWNABLE_ABI, functionName: "renounceOwnership" }));
    await assert.rejects(resolveUpgradeAuthority(chain.client, uups), { name: "NoUpgradeAuthority", reason: "renounced" });

    const transparent = await deploy(SentinelTestTransparentProxy, [plainImplementation, deployer, init]);
    const adminWord = await chain.client.getStorageAt({ address: transparent, slot: ERC1967_ADMIN_SLOT });
    const proxyAdmin = getAddress(`0x${adminWord!.slice(26)}`);
    assert.deepEqual(await resolveUpgradeAuthority(chain.client, transparent), { authority: deployer, kind: "proxy-admin-owner", admin: proxyAdmin });
    await mined(chain.wallet.writeContract({ address: proxyAdmin, abi: OWNABLE_ABI, functionName: "renounceOwnership" }));
    await assert.rejects(resolveUpgradeAuthority(chain.client, transparent), { name: "NoUpgradeAuthority", reason: "renounced" });
  });

  it("follows an ownership transfer", async () => {
    const registryStandIn = await deploy(GasProbe);
    const implementation = await deploy(GuardedVaultV1, [registryStandIn]);
    const init = encodeFunctionData({ abi: GuardedVaultV1.abi, functionName: "initialize", args: [deployer, 1n] });
    const proxy = await deploy(SentinelTestERC1967Proxy, [implementation, init]);
    assert.equal((await resolveUpgradeAuthority(chain.client, proxy)).authority, deployer);
    await mined(chain.wallet.writeContract({ address: proxy, abi: OWNABLE_ABI, functionName: "transferOwnership", args: [protocolOwner] }));
    assert.deepEqual(await resolveUpgradeAuthority(chain.client, proxy), { authority: protocolOwner, kind: "owner" });
  });

  it("an address without code (an EOA, nothing deployed): NoUpgradeAuthority", async () => {
    await assert.rejects(resolveUpgradeAuthority(chain.client, protocolOwner), { name: "NoUpgradeAuthority", reason: "no-code" });
    const nothing = getAddress(keccak256(stringToHex("nothing here")).slice(0, 42));
    await assert.rejects(resolveUpgradeAuthority(chain.client, nothing), { name: "NoUpgradeAuthority", reason: "no-code" });
  });

  it("throws RPC failures as they are, never as 'no authority'", async () => {
    const down = connectChain(chain.chain.id, "http://127.0.0.1:9", ANVIL_DEV_KEYS[0]!);
    await assert.rejects(resolveUpgradeAuthority(down.client, zeroAddress), (error) => {
      assert.ok(!(error instanceof NoUpgradeAuthority));
      assert.equal((error as Error).name, "HttpRequestError");
      return true;
    });
  });
});

async function anvilSetStorage(chain: TestChain, address: Address, slot: `0x${string}`, value: Address): Promise<void> {
  const word = `0x${value.slice(2).toLowerCase().padStart(64, "0")}`;
  const response = await fetch(chain.anvil.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_setStorageAt", params: [address, slot, word] }),
  });
  const body = (await response.json()) as { error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
}
