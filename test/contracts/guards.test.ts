// The upgrade guards on a real anvil chain with real OZ proxies: SentinelGuardedUUPS inside a
// protocol's implementation, SentinelTimelockController in front of proxies it owns, and the
// UpgradeCalls recogniser both rely on. Every approval, revocation and expiry goes through a
// real SentinelRegistry with BLS-signed attestations (test/helpers/guardGate.ts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  concatHex,
  encodeDeployData,
  encodeFunctionData,
  getAddress,
  numberToHex,
  parseAbi,
  sliceHex,
  zeroAddress,
  zeroHash,
  type Address,
  type Hex,
} from "viem";
import {
  GuardedVaultV1,
  GuardedVaultV2,
  PlainUUPSVault,
  SentinelTestERC1967Proxy,
  SentinelTestTransparentProxy,
  SentinelTimelockController,
  UpgradeCallsHarness,
} from "../../artifacts/contracts.ts";
import { connectChain } from "../../src/chains/clients.ts";
import { Outcome } from "../../src/codec/types.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";
import { ADMIN_SLOT, Gate, UPGRADE_ABI, expectRevert, slotAddress } from "../helpers/guardGate.ts";

describe("SentinelGuardedUUPS", () => {
  let gate: Gate;
  let owner: Address;
  let implV1: Address;
  let implV2: Address;
  let v2Codehash: Hex;

  before(async () => {
    gate = await Gate.start("uups");
    owner = gate.chain.wallet.account.address;
    implV1 = await gate.deploy(GuardedVaultV1, [gate.registry]);
    implV2 = await gate.deploy(GuardedVaultV2, [gate.registry]);
    v2Codehash = await gate.codehash(implV2);
  });
  after(() => gate?.stop());

  /** A fresh vault behind OZ's ERC1967Proxy: approvals are per proxy, so tests never share one. */
  async function newVault(): Promise<Address> {
    const init = encodeFunctionData({ abi: GuardedVaultV1.abi, functionName: "initialize", args: [owner, 7n] });
    return gate.deploy(SentinelTestERC1967Proxy, [implV1, init]);
  }

  function upgrade(proxy: Address, implementation: Address, wallet = gate.chain.wallet) {
    return wallet.writeContract({
      address: proxy,
      abi: GuardedVaultV1.abi,
      functionName: "upgradeToAndCall",
      args: [implementation, "0x"],
    });
  }

  const version = (proxy: Address) =>
    gate.chain.client.readContract({ address: proxy, abi: GuardedVaultV2.abi, functionName: "version" });

  const refused = (proxy: Address, implementation = implV2, codehash = v2Codehash) =>
    expectRevert(upgrade(proxy, implementation), GuardedVaultV1.abi, "UpgradeNotApproved", [implementation, codehash]);

  it("upgrades to an approved implementation", async () => {
    const vault = await newVault();
    assert.equal(await version(vault), 1n);
    await gate.approve(vault, implV2);
    await gate.mined(upgrade(vault, implV2));
    assert.equal(await version(vault), 2n);
    assert.equal(await gate.implementationOf(vault), implV2);
    const value = await gate.chain.client.readContract({ address: vault, abi: GuardedVaultV2.abi, functionName: "value" });
    assert.equal(value, 7n, "storage survives the upgrade");
    await gate.mined(gate.chain.wallet.writeContract({ address: vault, abi: GuardedVaultV2.abi, functionName: "increment" }));
  });

  it("refuses an implementation that was never approved", async () => {
    const vault = await newVault();
    // Another deployment of the same source has other code (OZ's __self immutable), so its
    // approval does not stand in for this one.
    const sibling = await gate.deploy(GuardedVaultV2, [gate.registry]);
    assert.notEqual(await gate.codehash(sibling), v2Codehash);
    await gate.approve(vault, sibling);
    await refused(vault);
    assert.equal(await version(vault), 1n);
    assert.equal(await gate.implementationOf(vault), implV1);
  });

  it("refuses an approval that was later revoked", async () => {
    const vault = await newVault();
    const issuedAt = await gate.now();
    await gate.record({ target: vault, codehash: v2Codehash, issuedAt });
    assert.equal(await gate.isApproved(vault, v2Codehash), true);
    await gate.record({ target: vault, codehash: v2Codehash, issuedAt: issuedAt + 1n, outcome: Outcome.Revoke });
    assert.equal(await gate.isApproved(vault, v2Codehash), false);
    await refused(vault);
    assert.equal(await version(vault), 1n);
  });

  it("refuses an approval for another chain id", async () => {
    const vault = await newVault();
    await gate.approve(vault, implV2, { chainId: 1n });
    await refused(vault);
  });

  it("refuses an approval for another proxy", async () => {
    const vault = await newVault();
    const other = await newVault();
    await gate.approve(other, implV2);
    await refused(vault);
    await gate.mined(upgrade(other, implV2));
  });

  it("refuses an approval that has expired", async () => {
    const vault = await newVault();
    await gate.approve(vault, implV2, { lifetime: 600n });
    assert.equal(await gate.isApproved(vault, v2Codehash), true);
    await gate.warp(601n);
    assert.equal(await gate.isApproved(vault, v2Codehash), false);
    await refused(vault);
  });

  it("still runs the protocol's own access control on an approved upgrade", async () => {
    const vault = await newVault();
    await gate.approve(vault, implV2);
    const stranger = connectChain(gate.chain.chain.id, gate.chain.anvil.rpcUrl, ANVIL_DEV_KEYS[1]!).wallet;
    await expectRevert(upgrade(vault, implV2, stranger), GuardedVaultV1.abi, "OwnableUnauthorizedAccount", [
      stranger.account.address,
    ]);
    assert.equal(await version(vault), 1n);
    await gate.mined(upgrade(vault, implV2));
    assert.equal(await version(vault), 2n);
  });

  it("cannot be deployed without a registry", async () => {
    const call = gate.chain.client.call({
      data: encodeDeployData({ abi: GuardedVaultV1.abi, bytecode: GuardedVaultV1.bytecode, args: [zeroAddress] }),
    });
    await expectRevert(call, GuardedVaultV1.abi, "InvalidSentinelRegistry", [zeroAddress]);
  });
});

describe("SentinelTimelockController", () => {
  const MIN_DELAY = 3600n;
  let gate: Gate;
  let timelock: Address;
  let plainV1: Address;
  let plainV2: Address;
  let uupsProxy: Address;
  let transparentProxy: Address;
  let proxyAdmin: Address;
  let salts = 0;

  before(async () => {
    gate = await Gate.start("timelock");
    const deployer = gate.chain.wallet.account.address;
    // Self-administered (admin zero); the deployer proposes and executes.
    timelock = await gate.deploy(SentinelTimelockController, [gate.registry, MIN_DELAY, [deployer], [deployer], zeroAddress]);
    plainV1 = await gate.deploy(PlainUUPSVault);
    plainV2 = await gate.deploy(PlainUUPSVault);
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [timelock] });
    uupsProxy = await gate.deploy(SentinelTestERC1967Proxy, [plainV1, init]);
    transparentProxy = await gate.deploy(SentinelTestTransparentProxy, [plainV1, timelock, init]);
    proxyAdmin = slotAddress(await gate.chain.client.getStorageAt({ address: transparentProxy, slot: ADMIN_SLOT }));
    const adminOwner = await gate.chain.client.readContract({
      address: proxyAdmin,
      abi: parseAbi(["function owner() view returns (address)"]),
      functionName: "owner",
    });
    assert.equal(adminOwner, timelock);
  });
  after(() => gate?.stop());

  interface Operation {
    targets: Address[];
    payloads: Hex[];
    salt: Hex;
  }

  /** Schedules the calls as one operation and waits out the delay; execution is up to the test. */
  async function scheduleReady(calls: { target: Address; data: Hex }[]): Promise<Operation> {
    const operation = {
      targets: calls.map((c) => c.target),
      payloads: calls.map((c) => c.data),
      salt: numberToHex(++salts, { size: 32 }),
    };
    // `execute` runs only what `schedule` hashed, `executeBatch` only what `scheduleBatch` did.
    await gate.mined(
      calls.length === 1
        ? gate.chain.wallet.writeContract({
            address: timelock,
            abi: SentinelTimelockController.abi,
            functionName: "schedule",
            args: [operation.targets[0]!, 0n, operation.payloads[0]!, zeroHash, operation.salt, MIN_DELAY],
          })
        : gate.chain.wallet.writeContract({
            address: timelock,
            abi: SentinelTimelockController.abi,
            functionName: "scheduleBatch",
            args: [operation.targets, operation.targets.map(() => 0n), operation.payloads, zeroHash, operation.salt, MIN_DELAY],
          }),
    );
    await gate.warp(MIN_DELAY);
    return operation;
  }

  /** Single calls go through `execute`, several through `executeBatch`. */
  function execute(operation: Operation) {
    const [target, payload] = [operation.targets[0]!, operation.payloads[0]!];
    if (operation.targets.length === 1) {
      return gate.chain.wallet.writeContract({
        address: timelock,
        abi: SentinelTimelockController.abi,
        functionName: "execute",
        args: [target, 0n, payload, zeroHash, operation.salt],
      });
    }
    return gate.chain.wallet.writeContract({
      address: timelock,
      abi: SentinelTimelockController.abi,
      functionName: "executeBatch",
      args: [operation.targets, operation.targets.map(() => 0n), operation.payloads, zeroHash, operation.salt],
    });
  }

  const refused = (operation: Operation, args?: readonly unknown[]) =>
    expectRevert(execute(operation), SentinelTimelockController.abi, "UpgradeNotApproved", args);

  const vaultValue = (proxy: Address) =>
    gate.chain.client.readContract({ address: proxy, abi: PlainUUPSVault.abi, functionName: "value" });

  it("executes a UUPS upgradeToAndCall only once it is approved", async () => {
    const data = encodeFunctionData({ abi: UPGRADE_ABI, functionName: "upgradeToAndCall", args: [plainV2, "0x"] });
    const operation = await scheduleReady([{ target: uupsProxy, data }]);
    await refused(operation, [uupsProxy, plainV2, await gate.codehash(plainV2)]);
    assert.equal(await gate.implementationOf(uupsProxy), plainV1);

    // The refused operation stays pending; the same one runs once the approval is recorded.
    await gate.approve(uupsProxy, plainV2);
    await gate.mined(execute(operation));
    assert.equal(await gate.implementationOf(uupsProxy), plainV2);
  });

  it("executes a ProxyAdmin upgradeAndCall of a transparent proxy only once it is approved", async () => {
    const data = encodeFunctionData({
      abi: UPGRADE_ABI,
      functionName: "upgradeAndCall",
      args: [transparentProxy, plainV2, "0x"],
    });
    const operation = await scheduleReady([{ target: proxyAdmin, data }]);
    const expected = [transparentProxy, plainV2, await gate.codehash(plainV2)];
    await refused(operation, expected);
    // Approvals name the proxy, not the ProxyAdmin the call goes to, nor another proxy
    // (the UUPS proxy's approval of the same code in the previous test).
    await gate.approve(proxyAdmin, plainV2);
    await refused(operation, expected);
    assert.equal(await gate.implementationOf(transparentProxy), plainV1);

    await gate.approve(transparentProxy, plainV2);
    await gate.mined(execute(operation));
    assert.equal(await gate.implementationOf(transparentProxy), plainV2);
  });

  it("executes calls that are not upgrades unchanged", async () => {
    const data = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [42n] });
    await gate.mined(execute(await scheduleReady([{ target: uupsProxy, data }])));
    assert.equal(await vaultValue(uupsProxy), 42n);
  });

  it("checks every call of a batch", async () => {
    const unapproved = await gate.deploy(PlainUUPSVault);
    const operation = await scheduleReady([
      { target: uupsProxy, data: encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [43n] }) },
      { target: uupsProxy, data: encodeFunctionData({ abi: UPGRADE_ABI, functionName: "upgradeTo", args: [unapproved] }) },
    ]);
    await refused(operation, [uupsProxy, unapproved, await gate.codehash(unapproved)]);
    assert.notEqual(await vaultValue(uupsProxy), 43n, "the batch reverted as a whole");
  });

  it("refuses truncated upgrade calldata", async () => {
    const before = await gate.implementationOf(uupsProxy);
    const full = encodeFunctionData({ abi: UPGRADE_ABI, functionName: "upgradeToAndCall", args: [plainV1, "0x"] });
    // The implementation word cut short: no address can be read, so nothing can be approved.
    const operation = await scheduleReady([{ target: uupsProxy, data: sliceHex(full, 0, 4 + 20) }]);
    await refused(operation, [zeroAddress, zeroAddress, zeroHash]);
    assert.equal(await gate.implementationOf(uupsProxy), before);
  });

  it("cannot be deployed without a registry", async () => {
    const call = gate.chain.client.call({
      data: encodeDeployData({
        abi: SentinelTimelockController.abi,
        bytecode: SentinelTimelockController.bytecode,
        args: [zeroAddress, MIN_DELAY, [], [], zeroAddress],
      }),
    });
    await expectRevert(call, SentinelTimelockController.abi, "InvalidSentinelRegistry", [zeroAddress]);
  });
});

describe("UpgradeCalls", () => {
  let chain: TestChain;
  let harness: Address;
  const target = getAddress("0x1111111111111111111111111111111111111111");
  const proxy = getAddress("0x2222222222222222222222222222222222222222");
  const implementation = getAddress("0x3333333333333333333333333333333333333333");
  const notUpgrade = [false, zeroAddress, zeroAddress] as const;
  const malformed = [true, zeroAddress, zeroAddress] as const;

  before(async () => {
    chain = await startTestChain();
    harness = getAddress(await chain.deploy(UpgradeCallsHarness));
  });
  after(() => chain?.stop());

  const parse = (data: Hex) =>
    chain.client.readContract({ address: harness, abi: UpgradeCallsHarness.abi, functionName: "parse", args: [target, data] });

  const calls = {
    upgradeToAndCall: encodeFunctionData({ abi: UPGRADE_ABI, functionName: "upgradeToAndCall", args: [implementation, "0x1234"] }),
    upgradeTo: encodeFunctionData({ abi: UPGRADE_ABI, functionName: "upgradeTo", args: [implementation] }),
    upgradeAndCall: encodeFunctionData({ abi: UPGRADE_ABI, functionName: "upgradeAndCall", args: [proxy, implementation, "0x"] }),
    upgrade: encodeFunctionData({ abi: UPGRADE_ABI, functionName: "upgrade", args: [proxy, implementation] }),
  };
  /** Bytes of each selector's static head: the shortest well-formed call. */
  const headBytes = { upgradeToAndCall: 68, upgradeTo: 36, upgradeAndCall: 100, upgrade: 68 };

  it("recognises the four upgrade entry points and which proxy each changes", async () => {
    assert.deepEqual(await parse(calls.upgradeToAndCall), [true, target, implementation]);
    assert.deepEqual(await parse(calls.upgradeTo), [true, target, implementation]);
    assert.deepEqual(await parse(calls.upgradeAndCall), [true, proxy, implementation]);
    assert.deepEqual(await parse(calls.upgrade), [true, proxy, implementation]);
    // Trailing bytes are legal ABI and change nothing.
    assert.deepEqual(await parse(concatHex([calls.upgrade, "0xdeadbeef"])), [true, proxy, implementation]);
  });

  it("leaves other calls alone", async () => {
    assert.deepEqual(await parse("0x"), notUpgrade);
    assert.deepEqual(await parse("0x4f1ef2"), notUpgrade);
    const setValue = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [1n] });
    assert.deepEqual(await parse(setValue), notUpgrade);
  });

  it("counts truncated upgrade calls as malformed upgrades", async () => {
    for (const [name, data] of Object.entries(calls)) {
      const head = headBytes[name as keyof typeof headBytes];
      for (const length of [4, head - 1]) {
        assert.deepEqual(await parse(sliceHex(data, 0, length)), malformed, `${name} cut to ${length} bytes`);
      }
      assert.notDeepEqual(await parse(sliceHex(data, 0, head)), malformed, `${name} at exactly its head`);
    }
  });

  it("counts address words with dirty upper bits as malformed upgrades", async () => {
    const dirty = (data: Hex, argument: number) => {
      const at = 4 + 32 * argument;
      return concatHex([sliceHex(data, 0, at), "0x01", sliceHex(data, at + 1)]);
    };
    assert.deepEqual(await parse(dirty(calls.upgradeToAndCall, 0)), malformed);
    assert.deepEqual(await parse(dirty(calls.upgradeTo, 0)), malformed);
    assert.deepEqual(await parse(dirty(calls.upgradeAndCall, 0)), malformed);
    assert.deepEqual(await parse(dirty(calls.upgradeAndCall, 1)), malformed);
    assert.deepEqual(await parse(dirty(calls.upgrade, 1)), malformed);
  });
});
