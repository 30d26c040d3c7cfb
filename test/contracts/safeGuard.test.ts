// SentinelSafeGuard with the real Safe 1.5.0 (singleton, SafeProxyFactory, MultiSend and
// MultiSendCallOnly deployed from @safe-global/safe-smart-account's build artifacts) on anvil:
// a 2-of-3 Safe owns a UUPS proxy and a transparent proxy's ProxyAdmin, sets the guard, and
// executes transactions its owners signed. Approved upgrades run, unapproved ones and approvals
// bound to another Safe transaction are refused, other transactions pass, and the routes around
// the guard (delegatecall, MultiSend entries, removing the guard, enabling a module) are refused.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  bytesToHex,
  concatHex,
  encodeFunctionData,
  encodePacked,
  getAddress,
  parseAbi,
  parseEventLogs,
  zeroAddress,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { PlainUUPSVault, SentinelSafeGuard, SentinelTestERC1967Proxy, SentinelTestTransparentProxy } from "../../artifacts/contracts.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { ADMIN_SLOT, Gate, UPGRADE_ABI, expectRevert, slotAddress } from "../helpers/guardGate.ts";

const require = createRequire(import.meta.url);
const SAFE_BUILD = "@safe-global/safe-smart-account/build/artifacts/contracts";
const safeArtifact = (path: string) => require(`${SAFE_BUILD}/${path}`) as { abi: Abi; bytecode: Hex };
const Safe = safeArtifact("Safe.sol/Safe.json");
const SafeProxyFactory = safeArtifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json");
const MultiSend = safeArtifact("libraries/MultiSend.sol/MultiSend.json");
const MultiSendCallOnly = safeArtifact("libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json");

const SAFE_ABI = parseAbi([
  "function setup(address[] owners, uint256 threshold, address to, bytes data, address fallbackHandler, address paymentToken, uint256 payment, address paymentReceiver)",
  "function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures) payable returns (bool)",
  "function getTransactionHash(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, uint256 nonce) view returns (bytes32)",
  "function nonce() view returns (uint256)",
  "function setGuard(address guard)",
  "function enableModule(address module)",
  "function setModuleGuard(address moduleGuard)",
  "function getStorageAt(uint256 offset, uint256 length) view returns (bytes)",
]);
const FACTORY_ABI = parseAbi([
  "function createProxyWithNonce(address singleton, bytes initializer, uint256 saltNonce) returns (address)",
  "event ProxyCreation(address indexed proxy, address singleton)",
]);
const MULTI_SEND_ABI = parseAbi(["function multiSend(bytes transactions) payable"]);
/** keccak256("guard_manager.guard.address"), where Safe 1.5.0 keeps its guard. */
const GUARD_SLOT = "0x4a204f620c8c5ccdca3fd54d003badd85ba500436a431f0cbda4f558c93c34c8";
const CALL = 0;
const DELEGATECALL = 1;

interface SafeTx {
  to: Address;
  value?: bigint;
  data: Hex;
  operation?: number;
}

describe("SentinelSafeGuard with Safe 1.5.0", () => {
  let gate: Gate;
  let safe: Address;
  let guard: Address;
  let multiSend: Address;
  let multiSendCallOnly: Address;
  let plainV1: Address;
  let singleton: Address;
  let factory: Address;
  const owners = [1, 2, 3].map((i) => privateKeyToAccount(ANVIL_DEV_KEYS[i]!));

  before(async () => {
    gate = await Gate.start("safe-guard");
    singleton = await gate.deploy(Safe);
    factory = await gate.deploy(SafeProxyFactory);
    multiSend = await gate.deploy(MultiSend);
    multiSendCallOnly = await gate.deploy(MultiSendCallOnly);
    safe = await createSafe(factory, singleton, 1n);
    guard = await gate.deploy(SentinelSafeGuard, [gate.registry, multiSend, multiSendCallOnly]);
    // Setting the guard is the last transaction the Safe runs without it.
    await gate.mined(exec({ to: safe, data: encodeFunctionData({ abi: SAFE_ABI, functionName: "setGuard", args: [guard] }) }));
    assert.equal(slotAddress(await gate.chain.client.getStorageAt({ address: safe, slot: GUARD_SLOT })), guard);
    plainV1 = await gate.deploy(PlainUUPSVault);
  });
  after(() => gate?.stop());

  const nonce = (of = safe) => gate.chain.client.readContract({ address: of, abi: SAFE_ABI, functionName: "nonce" });

  /** A 2-of-3 Safe of `owners`, made by the real factory, without a guard. */
  async function createSafe(factory: Address, singleton: Address, saltNonce: bigint): Promise<Address> {
    const initializer = encodeFunctionData({
      abi: SAFE_ABI,
      functionName: "setup",
      args: [owners.map((o) => o.address), 2n, zeroAddress, "0x", zeroAddress, zeroAddress, 0n, zeroAddress],
    });
    const created = await gate.mined(
      gate.chain.wallet.writeContract({ address: factory, abi: FACTORY_ABI, functionName: "createProxyWithNonce", args: [singleton, initializer, saltNonce] }),
    );
    const receipt = await gate.chain.client.getTransactionReceipt({ hash: created });
    const [creation] = parseEventLogs({ abi: FACTORY_ABI, logs: receipt.logs, eventName: "ProxyCreation" });
    return getAddress(creation!.args.proxy);
  }

  /** The hash the Safe computes (and its owners sign) for `tx` at `atNonce`. */
  async function safeTxHash(tx: SafeTx, atNonce?: bigint, of = safe): Promise<Hex> {
    return gate.chain.client.readContract({
      address: of,
      abi: SAFE_ABI,
      functionName: "getTransactionHash",
      args: [tx.to, tx.value ?? 0n, tx.data, tx.operation ?? CALL, 0n, 0n, 0n, zeroAddress, zeroAddress, atNonce ?? (await nonce(of))],
    });
  }

  /** Two of the three owners sign the Safe transaction hash (ECDSA, sorted by owner); anyone submits. */
  async function exec(tx: SafeTx, of = safe): Promise<Hex> {
    const hash = await safeTxHash(tx, undefined, of);
    const signers = [...owners.slice(0, 2)].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
    const signatures = concatHex(await Promise.all(signers.map((o) => o.sign({ hash }))));
    return gate.chain.wallet.writeContract({
      address: of,
      abi: SAFE_ABI,
      functionName: "execTransaction",
      args: [tx.to, tx.value ?? 0n, tx.data, tx.operation ?? CALL, 0n, 0n, 0n, zeroAddress, zeroAddress, signatures],
    });
  }

  async function newProxy(): Promise<Address> {
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [safe] });
    return gate.deploy(SentinelTestERC1967Proxy, [plainV1, init]);
  }

  const upgradeTx = (proxy: Address, implementation: Address): SafeTx => ({
    to: proxy,
    data: encodeFunctionData({ abi: UPGRADE_ABI, functionName: "upgradeToAndCall", args: [implementation, "0x"] }),
  });

  /** MultiSend's packed entries: operation ‖ to ‖ value ‖ data length ‖ data. */
  function batch(entries: (SafeTx & { operation?: number })[], via = multiSendCallOnly): SafeTx {
    const packed = concatHex(
      entries.map((e) =>
        encodePacked(["uint8", "address", "uint256", "uint256", "bytes"], [e.operation ?? CALL, e.to, e.value ?? 0n, BigInt((e.data.length - 2) / 2), e.data]),
      ),
    );
    return { to: via, data: encodeFunctionData({ abi: MULTI_SEND_ABI, functionName: "multiSend", args: [packed] }), operation: DELEGATECALL };
  }

  const refused = (tx: SafeTx, name: string, args?: readonly unknown[]) => expectRevert(exec(tx), SentinelSafeGuard.abi, name, args);

  it("answers ERC-165 for Safe 1.5.0's ITransactionGuard (setGuard accepted it)", async () => {
    const supports = (id: Hex) =>
      gate.chain.client.readContract({ address: guard, abi: SentinelSafeGuard.abi, functionName: "supportsInterface", args: [id] });
    assert.equal(await supports("0xe6d7a83a"), true);
    assert.equal(await supports("0x01ffc9a7"), true);
    assert.equal(await supports("0xffffffff"), false);
  });

  it("executes an approved UUPS upgrade, refuses an unapproved one", async () => {
    const proxy = await newProxy();
    const v2 = await gate.deploy(PlainUUPSVault);
    await refused(upgradeTx(proxy, v2), "UpgradeNotApproved", [proxy, v2, await gate.codehash(v2)]);
    await gate.approve(proxy, v2);
    const hash = await gate.mined(exec(upgradeTx(proxy, v2)));
    console.log(`# gas Safe execTransaction, guarded upgrade (unbound approval): ${await gate.gasUsed(hash)}`);
    assert.equal(await gate.implementationOf(proxy), v2);
  });

  it("costs: the same upgrade from a Safe without the guard, for comparison", async () => {
    const unguarded = await createSafe(factory, singleton, 2n);
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [unguarded] });
    const proxy = await gate.deploy(SentinelTestERC1967Proxy, [plainV1, init]);
    const v2 = await gate.deploy(PlainUUPSVault);
    // One transaction first, so its nonce write costs what the guarded Safe's does (non-zero to non-zero).
    await gate.mined(exec({ to: unguarded, data: "0x" }, unguarded));
    const hash = await gate.mined(exec(upgradeTx(proxy, v2), unguarded));
    console.log(`# gas Safe execTransaction, upgrade without a guard: ${await gate.gasUsed(hash)}`);
    assert.equal(await gate.implementationOf(proxy), v2);
  });

  it("executes a ProxyAdmin upgradeAndCall of a transparent proxy only once the proxy's upgrade is approved", async () => {
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [safe] });
    const proxy = await gate.deploy(SentinelTestTransparentProxy, [plainV1, safe, init]);
    const admin = slotAddress(await gate.chain.client.getStorageAt({ address: proxy, slot: ADMIN_SLOT }));
    const v2 = await gate.deploy(PlainUUPSVault);
    const tx = { to: admin, data: encodeFunctionData({ abi: UPGRADE_ABI, functionName: "upgradeAndCall", args: [proxy, v2, "0x"] }) };
    await gate.approve(admin, v2);
    await refused(tx, "UpgradeNotApproved", [proxy, v2, await gate.codehash(v2)]);
    await gate.approve(proxy, v2);
    await gate.mined(exec(tx));
    assert.equal(await gate.implementationOf(proxy), v2);
  });

  it("a bound approval executes only the Safe transaction it is bound to", async () => {
    const proxy = await newProxy();
    const v2 = await gate.deploy(PlainUUPSVault);
    const tx = upgradeTx(proxy, v2);
    const current = await nonce();
    // Bound to the same calls at the next nonce: another Safe transaction.
    const issuedAt = await gate.now();
    await gate.approve(proxy, v2, { binding: await safeTxHash(tx, current + 1n), issuedAt });
    await refused(tx, "UpgradeNotApproved", [proxy, v2, await gate.codehash(v2)]);
    await gate.approve(proxy, v2, { binding: await safeTxHash(tx, current), issuedAt: issuedAt + 1n });
    const hash = await gate.mined(exec(tx));
    console.log(`# gas Safe execTransaction, guarded upgrade (bound approval): ${await gate.gasUsed(hash)}`);
    assert.equal(await gate.implementationOf(proxy), v2);
  });

  it("a bound approval is not usable by another proxy, nor by the same transaction under the other MultiSend", async () => {
    const proxy = await newProxy();
    const other = await newProxy();
    const v2 = await gate.deploy(PlainUUPSVault);
    const viaCallOnly = batch([upgradeTx(proxy, v2)]);
    await gate.approve(other, v2, { binding: await safeTxHash(viaCallOnly) });
    await refused(viaCallOnly, "UpgradeNotApproved", [proxy, v2, await gate.codehash(v2)]);
    await gate.approve(proxy, v2, { binding: await safeTxHash(viaCallOnly) });
    await refused(batch([upgradeTx(proxy, v2)], multiSend), "UpgradeNotApproved");
    await gate.mined(exec(viaCallOnly));
    assert.equal(await gate.implementationOf(proxy), v2);
  });

  it("an approval bound to one Safe's transaction is not usable by another Safe sending the same calls", async () => {
    const other = await createSafe(factory, singleton, 3n);
    await gate.mined(exec({ to: other, data: encodeFunctionData({ abi: SAFE_ABI, functionName: "setGuard", args: [guard] }) }, other));
    // `proxy` is the second Safe's; its approval is first bound to the first Safe's hash of the
    // very same transaction (same calls, same nonce): the Safe's address is in the hash's domain.
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [other] });
    const proxy = await gate.deploy(SentinelTestERC1967Proxy, [plainV1, init]);
    const v2 = await gate.deploy(PlainUUPSVault);
    const tx = upgradeTx(proxy, v2);
    const otherNonce = await nonce(other);
    await gate.approve(proxy, v2, { binding: await safeTxHash(tx, otherNonce) });
    // The codehash first: awaited inside the call, it would leave the revert unhandled meanwhile.
    const codehash = await gate.codehash(v2);
    await expectRevert(exec(tx, other), SentinelSafeGuard.abi, "UpgradeNotApproved", [proxy, v2, codehash]);
    await gate.approve(proxy, v2, { binding: await safeTxHash(tx, otherNonce, other), issuedAt: (await gate.now()) + 1n });
    await gate.mined(exec(tx, other));
    assert.equal(await gate.implementationOf(proxy), v2);
  });

  it("lets transactions that are not upgrades through, batched or not", async () => {
    const proxy = await newProxy();
    const setValue = (v: bigint) => ({ to: proxy, data: encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [v] }) });
    const hash = await gate.mined(exec(setValue(9n)));
    console.log(`# gas Safe execTransaction, guarded, not an upgrade: ${await gate.gasUsed(hash)}`);
    await gate.testClient.setBalance({ address: safe, value: 10n ** 18n });
    const payee = bytesToHex(randomBytes(20)) as Address;
    await gate.mined(exec(batch([setValue(10n), { to: payee, value: 5n, data: "0x" }])));
    assert.equal(await gate.chain.client.readContract({ address: proxy, abi: PlainUUPSVault.abi, functionName: "value" }), 10n);
    assert.equal(await gate.chain.client.getBalance({ address: payee }), 5n);
  });

  describe("routes around the guard, refused", () => {
    it("an unapproved upgrade hidden in a MultiSend batch, after harmless calls", async () => {
      const proxy = await newProxy();
      const v2 = await gate.deploy(PlainUUPSVault);
      const harmless = { to: proxy, data: encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [1n] }) };
      await refused(batch([harmless, harmless, upgradeTx(proxy, v2)], multiSend), "UpgradeNotApproved", [proxy, v2, await gate.codehash(v2)]);
      assert.equal(await gate.implementationOf(proxy), plainV1);
    });

    it("a DELEGATECALL to any other contract (here the new implementation itself)", async () => {
      const proxy = await newProxy();
      const v2 = await gate.deploy(PlainUUPSVault);
      await refused({ ...upgradeTx(proxy, v2), to: v2, operation: DELEGATECALL }, "DelegateCallRefused", [v2]);
      await refused({ to: zeroAddress, data: "0x", operation: DELEGATECALL }, "DelegateCallRefused", [zeroAddress]);
    });

    it("a DELEGATECALL entry inside a MultiSend batch", async () => {
      const proxy = await newProxy();
      const v2 = await gate.deploy(PlainUUPSVault);
      await refused(batch([{ ...upgradeTx(proxy, v2), operation: DELEGATECALL }], multiSend), "DelegateCallRefused", [proxy]);
    });

    it("removing or replacing the guard, directly or from a batch entry addressed to zero (the Safe)", async () => {
      const setGuard = encodeFunctionData({ abi: SAFE_ABI, functionName: "setGuard", args: [zeroAddress] });
      await refused({ to: safe, data: setGuard }, "GuardChangeRefused", ["0xe19a9dd9"]);
      await refused(batch([{ to: zeroAddress, data: setGuard }]), "GuardChangeRefused", ["0xe19a9dd9"]);
      assert.equal(slotAddress(await gate.chain.client.getStorageAt({ address: safe, slot: GUARD_SLOT })), guard);
    });

    it("enabling a module or a module guard (module transactions skip this guard)", async () => {
      const module = owners[0]!.address;
      await refused({ to: safe, data: encodeFunctionData({ abi: SAFE_ABI, functionName: "enableModule", args: [module] }) }, "GuardChangeRefused");
      await refused({ to: safe, data: encodeFunctionData({ abi: SAFE_ABI, functionName: "setModuleGuard", args: [module] }) }, "GuardChangeRefused");
    });

    it("a MultiSend batch whose entry runs past the end, or a call to MultiSend that is not multiSend", async () => {
      const proxy = await newProxy();
      const v2 = await gate.deploy(PlainUUPSVault);
      const entry = encodePacked(["uint8", "address", "uint256", "uint256"], [CALL, proxy, 0n, 1000n]);
      const overrun = encodeFunctionData({ abi: MULTI_SEND_ABI, functionName: "multiSend", args: [concatHex([entry, upgradeTx(proxy, v2).data])] });
      await refused({ to: multiSendCallOnly, data: overrun, operation: DELEGATECALL }, "MalformedMultiSend");
      await refused({ to: multiSendCallOnly, data: "0xdeadbeef", operation: DELEGATECALL }, "MalformedMultiSend");
    });

    it("an approval for another chain", async () => {
      const proxy = await newProxy();
      const v2 = await gate.deploy(PlainUUPSVault);
      await gate.approve(proxy, v2, { chainId: 1n });
      await refused(upgradeTx(proxy, v2), "UpgradeNotApproved");
    });
  });
});
