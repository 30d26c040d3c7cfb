// Operation binding on a real anvil chain: the registry records a bound verdict's binding and
// answers `isApprovedFor` only for that operation; SentinelTimelockController executes a bound
// upgrade only under the operation id its own hashOperation gives; SentinelGuardedUUPS, which
// names no operation, never uses a bound approval. Adversarial twins: another operation, the
// zero operation, another chain, another proxy, a binding tampered with in the bytes.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  bytesToHex,
  concatHex,
  encodeAbiParameters,
  encodeFunctionData,
  keccak256,
  numberToHex,
  parseEventLogs,
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
  SentinelRegistry,
  SentinelTestERC1967Proxy,
  SentinelTimelockController,
} from "../../artifacts/contracts.ts";
import { encodeAttestation } from "../../src/codec/attestation.ts";
import { Outcome } from "../../src/codec/types.ts";
import { Gate, UPGRADE_ABI, expectRevert } from "../helpers/guardGate.ts";

const randomHex = (bytes: number): Hex => bytesToHex(randomBytes(bytes));

describe("registry: bound approvals", () => {
  let gate: Gate;
  let target: Address;
  let codehash: Hex;
  const read = <T>(functionName: "isApproved" | "isApprovedFor" | "bindingOf", args: readonly unknown[]) =>
    gate.chain.client.readContract({ address: gate.registry, abi: SentinelRegistry.abi, functionName, args: args as never }) as Promise<T>;
  const chainId = () => BigInt(gate.chain.chain.id);
  const approvedFor = (operation: Hex, t = target, c = codehash) => read<boolean>("isApprovedFor", [chainId(), t, c, operation]);

  before(async () => {
    gate = await Gate.start("binding-registry");
  });
  after(() => gate?.stop());

  function fresh() {
    target = bytesToHex(randomBytes(20)) as Address;
    codehash = randomHex(32);
  }

  it("approves only the bound operation, and is no approval for a guard that names none", async () => {
    fresh();
    const operation = randomHex(32);
    const hash = await gate.record({ target, codehash, binding: operation });
    assert.equal(await approvedFor(operation), true);
    assert.equal(await approvedFor(randomHex(32)), false, "another operation");
    assert.equal(await approvedFor(zeroHash), false, "the zero operation");
    assert.equal(await read("isApproved", [chainId(), target, codehash]), false);
    assert.equal(await read("bindingOf", [chainId(), target, codehash]), operation);
    const receipt = await gate.chain.client.getTransactionReceipt({ hash });
    const [bound] = parseEventLogs({ abi: SentinelRegistry.abi, logs: receipt.logs, eventName: "VerdictBound" });
    assert.equal(bound?.args.binding, operation);
  });

  it("an unbound approval serves every operation, as before", async () => {
    fresh();
    const hash = await gate.record({ target, codehash });
    assert.equal(await read("isApproved", [chainId(), target, codehash]), true);
    assert.equal(await approvedFor(randomHex(32)), true);
    assert.equal(await approvedFor(zeroHash), true);
    assert.equal(await read("bindingOf", [chainId(), target, codehash]), zeroHash);
    const receipt = await gate.chain.client.getTransactionReceipt({ hash });
    assert.equal(parseEventLogs({ abi: SentinelRegistry.abi, logs: receipt.logs, eventName: "VerdictBound" }).length, 0);
  });

  it("a later decision replaces the binding: unbound, rebound, revoked", async () => {
    fresh();
    const first = randomHex(32);
    const second = randomHex(32);
    const issuedAt = await gate.now();
    await gate.record({ target, codehash, binding: first, issuedAt });
    await gate.record({ target, codehash, issuedAt: issuedAt + 1n });
    assert.equal(await read("bindingOf", [chainId(), target, codehash]), zeroHash, "the stale binding is not consulted");
    assert.equal(await read("isApproved", [chainId(), target, codehash]), true);
    await gate.record({ target, codehash, binding: second, issuedAt: issuedAt + 2n });
    assert.equal(await approvedFor(first), false);
    assert.equal(await approvedFor(second), true);
    await gate.record({ target, codehash, binding: second, issuedAt: issuedAt + 3n, outcome: Outcome.Revoke });
    assert.equal(await approvedFor(second), false, "a revoke ends a bound approval");
  });

  it("a bound approval for another chain or another target approves nothing here", async () => {
    fresh();
    const operation = randomHex(32);
    await gate.record({ target, codehash, binding: operation, chainId: 1n });
    assert.equal(await approvedFor(operation), false);
    const other = bytesToHex(randomBytes(20)) as Address;
    await gate.record({ target: other, codehash, binding: operation });
    assert.equal(await approvedFor(operation), false);
    assert.equal(await approvedFor(operation, other), true);
  });

  it("refuses a binding changed in the bytes, a zero binding in the bound layout, and truncation", async () => {
    const now = await gate.now();
    const verdict = {
      candidateId: randomHex(32),
      chainId: chainId(),
      target: bytesToHex(randomBytes(20)) as Address,
      codehash: randomHex(32),
      outcome: Outcome.Approve,
      policyHash: randomHex(32),
      reasons: 0n,
      findingsDigest: randomHex(32),
      issuedAt: now,
      expiresAt: now + 3600n,
      binding: randomHex(32),
    };
    const encoded = encodeAttestation(gate.committee.attest(verdict, 0, gate.committee.firstSigners(gate.committee.threshold)));
    assert.equal((encoded.length - 2) / 2, 586);
    const verify = (bytes: Hex) =>
      gate.chain.client.readContract({ address: gate.registry, abi: SentinelRegistry.abi, functionName: "verifyAttestation", args: [bytes] });
    assert.equal(await verify(encoded), true);
    const rebound = concatHex([sliceHex(encoded, 0, 266), randomHex(32), sliceHex(encoded, 298)]);
    assert.equal(await verify(rebound), false, "a binding moved to another operation breaks the signature");
    const zeroed = concatHex([sliceHex(encoded, 0, 266), zeroHash, sliceHex(encoded, 298)]);
    await expectRevert(verify(zeroed), SentinelRegistry.abi, "ZeroBinding");
    // The unbound layout under the bound version byte, and the bound one cut short.
    const cut = concatHex([sliceHex(encoded, 0, 266), sliceHex(encoded, 298)]);
    await expectRevert(verify(cut), SentinelRegistry.abi, "AttestationTruncated", [554n, 586n]);
    const unbound = concatHex(["0x01", sliceHex(cut, 1)]);
    assert.equal(await verify(unbound), false, "the same verdict signed as bound does not verify as unbound");
  });

  it("costs an unbound verdict nothing more; measures both", async () => {
    fresh();
    const unbound = await gate.gasUsed(await gate.record({ target, codehash }));
    fresh();
    const bound = await gate.gasUsed(await gate.record({ target, codehash, binding: randomHex(32) }));
    console.log(`# gas submitAttestation: unbound ${unbound}, bound ${bound} (+${bound - unbound})`);
    assert.ok(bound > unbound);
  });
});

describe("SentinelTimelockController: bound approvals", () => {
  const MIN_DELAY = 3600n;
  let gate: Gate;
  let timelock: Address;
  let plainV1: Address;
  let salts = 0;

  before(async () => {
    gate = await Gate.start("binding-timelock");
    const deployer = gate.chain.wallet.account.address;
    timelock = await gate.deploy(SentinelTimelockController, [gate.registry, MIN_DELAY, [deployer], [deployer], zeroAddress]);
    plainV1 = await gate.deploy(PlainUUPSVault);
  });
  after(() => gate?.stop());

  async function newProxy(): Promise<Address> {
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [timelock] });
    return gate.deploy(SentinelTestERC1967Proxy, [plainV1, init]);
  }

  interface Operation {
    targets: Address[];
    payloads: Hex[];
    salt: Hex;
  }

  /** The operation's id as OZ computes it (abi.encode of the arguments), without the chain. */
  function operationId(operation: Operation): Hex {
    if (operation.targets.length === 1) {
      return keccak256(
        encodeAbiParameters(
          [{ type: "address" }, { type: "uint256" }, { type: "bytes" }, { type: "bytes32" }, { type: "bytes32" }],
          [operation.targets[0]!, 0n, operation.payloads[0]!, zeroHash, operation.salt],
        ),
      );
    }
    return keccak256(
      encodeAbiParameters(
        [{ type: "address[]" }, { type: "uint256[]" }, { type: "bytes[]" }, { type: "bytes32" }, { type: "bytes32" }],
        [operation.targets, operation.targets.map(() => 0n), operation.payloads, zeroHash, operation.salt],
      ),
    );
  }

  async function schedule(calls: { target: Address; data: Hex }[]): Promise<Operation> {
    const operation = { targets: calls.map((c) => c.target), payloads: calls.map((c) => c.data), salt: numberToHex(++salts, { size: 32 }) };
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
    return operation;
  }

  function execute(operation: Operation) {
    if (operation.targets.length === 1) {
      return gate.chain.wallet.writeContract({
        address: timelock,
        abi: SentinelTimelockController.abi,
        functionName: "execute",
        args: [operation.targets[0]!, 0n, operation.payloads[0]!, zeroHash, operation.salt],
      });
    }
    return gate.chain.wallet.writeContract({
      address: timelock,
      abi: SentinelTimelockController.abi,
      functionName: "executeBatch",
      args: [operation.targets, operation.targets.map(() => 0n), operation.payloads, zeroHash, operation.salt],
    });
  }

  const upgradeCall = (proxy: Address, implementation: Address) => ({
    target: proxy,
    data: encodeFunctionData({ abi: UPGRADE_ABI, functionName: "upgradeToAndCall", args: [implementation, "0x"] }),
  });

  it("our operation id is the timelock's own hashOperation and hashOperationBatch", async () => {
    const single = await schedule([upgradeCall(await newProxy(), plainV1)]);
    const onChain = await gate.chain.client.readContract({
      address: timelock,
      abi: SentinelTimelockController.abi,
      functionName: "hashOperation",
      args: [single.targets[0]!, 0n, single.payloads[0]!, zeroHash, single.salt],
    });
    assert.equal(onChain, operationId(single));
    const batch = { ...single, targets: [single.targets[0]!, single.targets[0]!], payloads: [single.payloads[0]!, "0x" as Hex] };
    const onChainBatch = await gate.chain.client.readContract({
      address: timelock,
      abi: SentinelTimelockController.abi,
      functionName: "hashOperationBatch",
      args: [batch.targets, [0n, 0n], batch.payloads, zeroHash, batch.salt],
    });
    assert.equal(onChainBatch, operationId(batch));
  });

  it("executes the operation the approval is bound to, and refuses its twin with another salt", async () => {
    const proxy = await newProxy();
    const v2 = await gate.deploy(PlainUUPSVault);
    const bound = await schedule([upgradeCall(proxy, v2)]);
    const twin = await schedule([upgradeCall(proxy, v2)]);
    await gate.warp(MIN_DELAY);
    await gate.approve(proxy, v2, { binding: operationId(bound) });
    // The codehash first: awaited inside the call, it would leave the revert unhandled meanwhile.
    const codehash = await gate.codehash(v2);
    await expectRevert(execute(twin), SentinelTimelockController.abi, "UpgradeNotApproved", [proxy, v2, codehash]);
    assert.equal(await gate.implementationOf(proxy), plainV1);
    const hash = await gate.mined(execute(bound));
    console.log(`# gas timelock execute, bound upgrade: ${await gate.gasUsed(hash)}`);
    assert.equal(await gate.implementationOf(proxy), v2);
  });

  it("executes a batch under its hashOperationBatch id, not under the id of its calls alone", async () => {
    const proxy = await newProxy();
    const v2 = await gate.deploy(PlainUUPSVault);
    const setValue = { target: proxy, data: encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [5n] }) };
    const batch = await schedule([setValue, upgradeCall(proxy, v2)]);
    const single = await schedule([upgradeCall(proxy, v2)]);
    await gate.warp(MIN_DELAY);
    await gate.approve(proxy, v2, { binding: operationId(batch) });
    await expectRevert(execute(single), SentinelTimelockController.abi, "UpgradeNotApproved");
    await gate.mined(execute(batch));
    assert.equal(await gate.implementationOf(proxy), v2);
  });

  it("an unbound approval still lets any operation execute the upgrade", async () => {
    const proxy = await newProxy();
    const v2 = await gate.deploy(PlainUUPSVault);
    const operation = await schedule([upgradeCall(proxy, v2)]);
    await gate.warp(MIN_DELAY);
    await gate.approve(proxy, v2);
    const hash = await gate.mined(execute(operation));
    console.log(`# gas timelock execute, unbound upgrade: ${await gate.gasUsed(hash)}`);
    assert.equal(await gate.implementationOf(proxy), v2);
  });

  it("an operation that re-enters to execute another keeps its own id for its later calls", async () => {
    // Executor role open to all (address zero), so the timelock may execute from inside itself.
    const open = await gate.deploy(SentinelTimelockController, [gate.registry, MIN_DELAY, [gate.chain.wallet.account.address], [zeroAddress], zeroAddress]);
    const init = encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "initialize", args: [open] });
    const proxy = await gate.deploy(SentinelTestERC1967Proxy, [plainV1, init]);
    const v2 = await gate.deploy(PlainUUPSVault);
    const scheduleOn = async (operation: Operation) =>
      gate.mined(
        operation.targets.length === 1
          ? gate.chain.wallet.writeContract({ address: open, abi: SentinelTimelockController.abi, functionName: "schedule", args: [operation.targets[0]!, 0n, operation.payloads[0]!, zeroHash, operation.salt, MIN_DELAY] })
          : gate.chain.wallet.writeContract({ address: open, abi: SentinelTimelockController.abi, functionName: "scheduleBatch", args: [operation.targets, operation.targets.map(() => 0n), operation.payloads, zeroHash, operation.salt, MIN_DELAY] }),
      );
    const inner: Operation = {
      targets: [proxy],
      payloads: [encodeFunctionData({ abi: PlainUUPSVault.abi, functionName: "setValue", args: [3n] })],
      salt: numberToHex(++salts, { size: 32 }),
    };
    const executeInner = encodeFunctionData({ abi: SentinelTimelockController.abi, functionName: "execute", args: [proxy, 0n, inner.payloads[0]!, zeroHash, inner.salt] });
    const outer: Operation = {
      targets: [open, proxy],
      payloads: [executeInner, upgradeCall(proxy, v2).data],
      salt: numberToHex(++salts, { size: 32 }),
    };
    await scheduleOn(inner);
    await scheduleOn(outer);
    await gate.warp(MIN_DELAY);
    await gate.approve(proxy, v2, { binding: operationId(outer) });
    await gate.mined(
      gate.chain.wallet.writeContract({ address: open, abi: SentinelTimelockController.abi, functionName: "executeBatch", args: [outer.targets, [0n, 0n], outer.payloads, zeroHash, outer.salt] }),
    );
    assert.equal(await gate.implementationOf(proxy), v2);
    assert.equal(await gate.chain.client.readContract({ address: proxy, abi: PlainUUPSVault.abi, functionName: "value" }), 3n);
  });

  it("a bound approval does not let a UUPS guard (which names no operation) upgrade", async () => {
    const owner = gate.chain.wallet.account.address;
    const implV1 = await gate.deploy(GuardedVaultV1, [gate.registry]);
    const implV2 = await gate.deploy(GuardedVaultV2, [gate.registry]);
    const init = encodeFunctionData({ abi: GuardedVaultV1.abi, functionName: "initialize", args: [owner, 1n] });
    const vault = await gate.deploy(SentinelTestERC1967Proxy, [implV1, init]);
    await gate.approve(vault, implV2, { binding: randomHex(32) });
    const upgrade = gate.chain.wallet.writeContract({ address: vault, abi: GuardedVaultV1.abi, functionName: "upgradeToAndCall", args: [implV2, "0x"] });
    await expectRevert(upgrade, GuardedVaultV1.abi, "UpgradeNotApproved", [implV2, await gate.codehash(implV2)]);
  });
});
