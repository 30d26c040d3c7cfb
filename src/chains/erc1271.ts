// ERC-1271: whether a contract wallet (a Safe, say) accepts a signature for a digest, asked at
// the chain's confirmed head, so a reorg cannot make a node count an approval from owners the
// wallet has only just added. A call that reverts or answers anything but the magic value is a
// "no" (the same on every node); a call that could not be made is this node's problem, thrown
// as Erc1271Unavailable so the caller does not hold it against the signature.
import { BaseError, ContractFunctionRevertedError, ContractFunctionZeroDataError, parseAbi, type Address, type Hex, type PublicClient } from "viem";
import { SentinelError } from "../errors.ts";
import { confirmedHead } from "./registryRecords.ts";

export const ERC1271_MAGIC_VALUE: Hex = "0x1626ba7e";

const abi = parseAbi(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);

export class Erc1271Unavailable extends SentinelError<"ERC1271_UNAVAILABLE", { wallet: Address }> {
  override name = "Erc1271Unavailable";
}

export async function isValidContractSignature(
  chain: { client: PublicClient; confirmations: number },
  wallet: Address,
  hash: Hex,
  signature: Hex,
): Promise<boolean> {
  let blockNumber: bigint;
  try {
    blockNumber = await confirmedHead(chain);
  } catch (error) {
    throw new Erc1271Unavailable("ERC1271_UNAVAILABLE", `could not read the chain's head: ${(error as Error).message.split("\n")[0]}`, { wallet }, { cause: error });
  }
  try {
    const answer = await chain.client.readContract({ address: wallet, abi, functionName: "isValidSignature", args: [hash, signature], blockNumber });
    return answer.toLowerCase() === ERC1271_MAGIC_VALUE;
  } catch (error) {
    if (isAnswer(error)) return false;
    throw new Erc1271Unavailable("ERC1271_UNAVAILABLE", `could not call isValidSignature: ${(error as Error).message.split("\n")[0]}`, { wallet }, { cause: error });
  }
}

/** The contract answered, just not yes: it reverted, has no code, or returned something undecodable. */
function isAnswer(error: unknown): boolean {
  if (!(error instanceof BaseError)) return false;
  return (
    error.walk((e) => e instanceof ContractFunctionRevertedError || e instanceof ContractFunctionZeroDataError) !== null ||
    /execution reverted|returned no data|AbiDecodingDataSizeTooSmall|Position .* out of bounds/i.test(error.message)
  );
}
