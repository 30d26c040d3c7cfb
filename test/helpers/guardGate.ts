// A chain with a real SentinelRegistry and the committee that signs for it, for the guards'
// tests (test/contracts/guards.test.ts, binding.test.ts, safeGuard.test.ts): approvals,
// revocations and expiries are BLS-signed attestations recorded on chain, never storage writes.
import assert from "node:assert/strict";
import {
  BaseError,
  ContractFunctionRevertedError,
  RawContractError,
  createTestClient,
  decodeErrorResult,
  getAddress,
  http,
  keccak256,
  pad,
  parseAbi,
  sliceHex,
  stringToHex,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { deployRegistry } from "../../src/chains/registry.ts";
import { encodeAttestation } from "../../src/codec/attestation.ts";
import { Outcome } from "../../src/codec/types.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { startTestChain, type TestChain } from "./chain.ts";

/** ERC-1967 slots: keccak256("eip1967.proxy.implementation") - 1 and "...admin" - 1. */
export const IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
export const ADMIN_SLOT = "0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103";
export const DAY = 86_400n;

/** Upgrade entry points that exist in no compiled artifact here (ProxyAdmin and legacy ones). */
export const UPGRADE_ABI = parseAbi([
  "function upgradeToAndCall(address newImplementation, bytes data) payable",
  "function upgradeTo(address newImplementation)",
  "function upgradeAndCall(address proxy, address implementation, bytes data) payable",
  "function upgrade(address proxy, address implementation)",
]);

/** A chain with a registry, the committee that signs for it, and anvil's clock. */
export class Gate {
  readonly chain: TestChain;
  readonly committee: LocalCommittee;
  readonly registry: Address;
  readonly testClient;
  private candidates = 0;

  private constructor(chain: TestChain, committee: LocalCommittee, registry: Address) {
    this.chain = chain;
    this.committee = committee;
    this.registry = registry;
    this.testClient = createTestClient({ mode: "anvil", chain: chain.chain, transport: http(chain.anvil.rpcUrl) });
  }

  static async start(label: string): Promise<Gate> {
    const chain = await startTestChain();
    try {
      const networkId = keccak256(stringToHex(`sentinel-guards-test/${label}`));
      const committee = LocalCommittee.generate(4, networkId);
      const { address } = await deployRegistry(chain, {
        networkId,
        rotationGracePeriodSeconds: 3600n,
        genesis: committee.genesis(),
      });
      return new Gate(chain, committee, getAddress(address));
    } catch (error) {
      await chain.stop();
      throw error;
    }
  }

  async now(): Promise<bigint> {
    return (await this.chain.client.getBlock()).timestamp;
  }

  async codehash(address: Address): Promise<Hex> {
    const code = await this.chain.client.getCode({ address });
    assert.ok(code && code !== "0x", `no code at ${address}`);
    return keccak256(code);
  }

  async deploy(artifact: { abi: Abi; bytecode: Hex }, args: readonly unknown[] = []): Promise<Address> {
    return getAddress(await this.chain.deploy(artifact, args));
  }

  /** Has the committee sign a verdict on `codehash` for `target` and records it on chain. */
  async record(options: {
    target: Address;
    codehash: Hex;
    outcome?: Outcome;
    chainId?: bigint;
    issuedAt?: bigint;
    lifetime?: bigint;
    /** The operation the verdict is bound to; unbound when absent. */
    binding?: Hex;
  }): Promise<Hex> {
    const issuedAt = options.issuedAt ?? (await this.now());
    const verdict = {
      candidateId: keccak256(stringToHex(`candidate-${++this.candidates}`)),
      chainId: options.chainId ?? BigInt(this.chain.chain.id),
      target: options.target,
      codehash: options.codehash,
      outcome: options.outcome ?? Outcome.Approve,
      policyHash: keccak256(stringToHex("policy")),
      reasons: 0n,
      findingsDigest: keccak256(stringToHex("findings")),
      issuedAt,
      expiresAt: issuedAt + (options.lifetime ?? DAY),
      ...(options.binding !== undefined ? { binding: options.binding } : {}),
    };
    const attestation = this.committee.attest(verdict, 0, this.committee.firstSigners(this.committee.threshold));
    return this.mined(
      this.chain.wallet.writeContract({
        address: this.registry,
        abi: SentinelRegistry.abi,
        functionName: "submitAttestation",
        args: [encodeAttestation(attestation)],
      }),
    );
  }

  /** Approves the code now at `implementation` as the next implementation of `proxy`. */
  async approve(proxy: Address, implementation: Address, options: { chainId?: bigint; lifetime?: bigint; binding?: Hex; issuedAt?: bigint } = {}) {
    return this.record({ target: proxy, codehash: await this.codehash(implementation), ...options });
  }

  isApproved(proxy: Address, codehash: Hex): Promise<boolean> {
    return this.chain.client.readContract({
      address: this.registry,
      abi: SentinelRegistry.abi,
      functionName: "isApproved",
      args: [BigInt(this.chain.chain.id), proxy, codehash],
    });
  }

  /** Waits for the transaction, asserts it succeeded; its hash, for a gas reading. */
  async mined(sent: Promise<Hex>): Promise<Hex> {
    const hash = await sent;
    const receipt = await this.chain.client.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, "success", `tx ${hash} reverted`);
    return hash;
  }

  async gasUsed(hash: Hex): Promise<bigint> {
    return (await this.chain.client.getTransactionReceipt({ hash })).gasUsed;
  }

  async warp(seconds: bigint): Promise<void> {
    await this.testClient.increaseTime({ seconds: Number(seconds) });
    await this.testClient.mine({ blocks: 1 });
  }

  async implementationOf(proxy: Address): Promise<Address> {
    return slotAddress(await this.chain.client.getStorageAt({ address: proxy, slot: IMPLEMENTATION_SLOT }));
  }

  stop(): Promise<void> {
    return this.chain.stop();
  }
}

export function slotAddress(word: Hex | undefined): Address {
  assert.ok(word);
  return getAddress(sliceHex(pad(word, { size: 32 }), 12));
}

/** The custom error a rejected write or call reverted with, decoded against `abi`. */
export function revertOf(error: unknown, abi: Abi): { name: string; args: readonly unknown[] } {
  if (!(error instanceof BaseError)) throw error;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError && reverted.data) {
    return { name: reverted.data.errorName, args: reverted.data.args ?? [] };
  }
  const raw = error.walk((e) => e instanceof RawContractError || (e as { data?: unknown }).data !== undefined);
  const data = (raw as { data?: Hex | { data?: Hex } } | null)?.data;
  const hex = typeof data === "string" ? data : data?.data;
  if (!hex) throw error;
  const decoded = decodeErrorResult({ abi, data: hex });
  return { name: decoded.errorName, args: decoded.args ?? [] };
}

export async function expectRevert(promise: Promise<unknown>, abi: Abi, name: string, args?: readonly unknown[]) {
  await assert.rejects(promise, (error) => {
    const reverted = revertOf(error, abi);
    assert.equal(reverted.name, name);
    if (args) assert.deepEqual(reverted.args, args);
    return true;
  });
}
