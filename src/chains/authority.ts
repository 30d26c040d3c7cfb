// Who may upgrade a target: the account whose enrollment in the registry counts. The registry
// cannot read another contract's ERC-1967 admin slot, so every node resolves the authority off
// chain the same way, and reads only that authority's enrollment (docs/contracts.md).
import {
  AbiDecodingDataSizeTooSmallError,
  AbiDecodingZeroDataError,
  BaseError,
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  getAddress,
  hexToBigInt,
  InternalRpcError,
  pad,
  parseAbi,
  sliceHex,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { SentinelError } from "../errors.ts";

/** bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1); also what proxiableUUID() returns. */
export const ERC1967_IMPLEMENTATION_SLOT: Hex = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
/** bytes32(uint256(keccak256("eip1967.proxy.admin")) - 1). */
export const ERC1967_ADMIN_SLOT: Hex = "0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103";

const OWNABLE_ABI = parseAbi(["function owner() view returns (address)"]);

export type UpgradeAuthorityKind =
  /** The ERC-1967 admin itself (an EOA, or a contract without owner()). */
  | "erc1967-admin"
  /** The owner of the contract in the admin slot, as with OZ's ProxyAdmin. */
  | "proxy-admin-owner"
  /** The target's own owner(), as with UUPS proxies and Ownable contracts. */
  | "owner";

export interface UpgradeAuthority {
  authority: Address;
  kind: UpgradeAuthorityKind;
  /** The contract or account in the ERC-1967 admin slot, when there is one. */
  admin?: Address;
}

export type NoUpgradeAuthorityReason =
  /** Nothing is deployed at the target. */
  | "no-code"
  /** No admin slot, and no owner() answers. */
  | "no-admin-no-owner"
  /** owner() answers the zero address: ownership was renounced, nobody can upgrade. */
  | "renounced";

export class NoUpgradeAuthority extends SentinelError<"NO_UPGRADE_AUTHORITY", { target: Address; reason: NoUpgradeAuthorityReason }> {
  override name = "NoUpgradeAuthority";

  constructor(target: Address, reason: NoUpgradeAuthorityReason, detail: string) {
    super("NO_UPGRADE_AUTHORITY", `no upgrade authority for ${target}: ${detail}`, { target, reason });
  }

  get target(): Address {
    return this.meta.target;
  }

  get reason(): NoUpgradeAuthorityReason {
    return this.meta.reason;
  }
}

/**
 * The upgrade authority of `target`, read at `blockNumber`, or else at the latest block (then the
 * reads are one round trip, and in the rare case a block lands between them they may see two
 * consecutive blocks: admission accepts that; verification pins a block):
 * 1. a non-zero ERC-1967 admin slot: the admin's owner() if it has one (OZ ProxyAdmin →
 *    "proxy-admin-owner"), else the admin ("erc1967-admin");
 * 2. an empty slot: the target's owner() ("owner"), which a UUPS proxy forwards to its
 *    implementation;
 * 3. otherwise NoUpgradeAuthority. A renounced owner (zero address) is no authority either.
 * RPC failures are thrown as they come: an unreachable node is not "no authority".
 *
 * @example const { authority } = await resolveUpgradeAuthority(client, proxy)
 */
export async function resolveUpgradeAuthority(
  client: PublicClient,
  target: Address,
  options: { blockNumber?: bigint } = {},
): Promise<UpgradeAuthority> {
  const address = getAddress(target);
  const at: BlockAt = options.blockNumber !== undefined ? { blockNumber: options.blockNumber } : { blockTag: "latest" };
  // Independent reads at one block, at once: every node resolves this for every candidate.
  const [code, word, targetOwner] = await Promise.all([
    client.getCode({ address, ...at }),
    client.getStorageAt({ address, slot: ERC1967_ADMIN_SLOT, ...at }),
    readOwner(client, address, at),
  ]);
  if (code === undefined || code === "0x") throw new NoUpgradeAuthority(address, "no-code", "no contract at that address");

  const admin = word === undefined || hexToBigInt(word) === 0n ? undefined : wordAddress(word);
  if (admin !== undefined) {
    const adminOwner = await readOwner(client, admin, at);
    if (adminOwner === undefined) return { authority: admin, kind: "erc1967-admin", admin };
    if (BigInt(adminOwner) === 0n) {
      throw new NoUpgradeAuthority(address, "renounced", `its admin ${admin} has renounced ownership`);
    }
    return { authority: adminOwner, kind: "proxy-admin-owner", admin };
  }

  const owner = targetOwner;
  if (owner === undefined) {
    throw new NoUpgradeAuthority(address, "no-admin-no-owner", "the ERC-1967 admin slot is empty and owner() does not answer");
  }
  if (BigInt(owner) === 0n) throw new NoUpgradeAuthority(address, "renounced", "owner() is the zero address");
  return { authority: owner, kind: "owner" };
}

/**
 * The address in the low 20 bytes of a 32-byte word: a storage slot, a call's return word or an
 * indexed log topic (Solidity right-aligns addresses). Shorter words are left-padded; a longer
 * one throws.
 */
export function wordAddress(word: Hex): Address {
  return getAddress(sliceHex(pad(word, { size: 32 }), 12));
}

/**
 * `owner()` of `address`, or undefined when the contract has no such function: the call reverts,
 * returns nothing (an EOA, a contract without the function or fallback) or returns too little.
 */
type BlockAt = { blockNumber: bigint } | { blockTag: "latest" };

async function readOwner(client: PublicClient, address: Address, at: BlockAt): Promise<Address | undefined> {
  try {
    const owner = await client.readContract({ address, abi: OWNABLE_ABI, functionName: "owner", ...at });
    return getAddress(owner);
  } catch (error) {
    if (error instanceof BaseError && error.walk(isNoOwnerAnswer) !== null && !isNodeFailure(error)) return undefined;
    throw error;
  }
}

/**
 * viem reads a JSON-RPC "internal error" (-32603) as a revert. Without revert data it is more
 * likely the node failing than the contract answering, so it must not become "no owner".
 */
function isNodeFailure(error: BaseError): boolean {
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
  const hasData = revert?.raw !== undefined && revert.raw !== "0x";
  return !hasData && error.walk((e) => e instanceof InternalRpcError) !== null;
}

function isNoOwnerAnswer(error: unknown): boolean {
  return (
    error instanceof ContractFunctionRevertedError ||
    error instanceof ContractFunctionZeroDataError ||
    error instanceof AbiDecodingZeroDataError ||
    error instanceof AbiDecodingDataSizeTooSmallError
  );
}
