// A live chain as the monitor reads it: plain JSON-RPC at a given block number, the same calls
// the shadow deployment makes on its fork (invariants through shadow/invariants.ts), through the
// node's RPC quorum when it has several endpoints. Readings are taken `confirmations` blocks
// behind the head, as relayed events are trusted, so a reorged-away block raises no alert. An
// RPC failure throws, which the monitor takes as no reading at all.
import { getAddress, keccak256, numberToHex, slice, type Address, type Hex } from "viem";
import { ERC1967_ADMIN_SLOT, ERC1967_IMPLEMENTATION_SLOT } from "../chains/authority.ts";
import { JsonRpc } from "../verify/shadow/fork.ts";
import { evaluateInvariant } from "../verify/shadow/invariants.ts";
import type { LiveChain } from "./monitor.ts";

export function rpcLiveChain(rpcUrl: string, confirmations: number, signal: AbortSignal): LiveChain {
  const rpc = new JsonRpc(rpcUrl, signal);
  const slotAddress = async (proxy: Address, slot: Hex, block: bigint): Promise<Address> =>
    getAddress(slice(await rpc.request<Hex>("eth_getStorageAt", [proxy, slot, numberToHex(block)]), 12, 32));
  return {
    blockNumber: async () => {
      const head = BigInt(await rpc.request<Hex>("eth_blockNumber", []));
      return head > BigInt(confirmations) ? head - BigInt(confirmations) : 0n;
    },
    implementationOf: (proxy, block) => slotAddress(proxy, ERC1967_IMPLEMENTATION_SLOT, block),
    adminOf: (proxy, block) => slotAddress(proxy, ERC1967_ADMIN_SLOT, block),
    codehashOf: async (address, block) => keccak256(await rpc.request<Hex>("eth_getCode", [address, numberToHex(block)])),
    read: (prepared, proxy, block) => evaluateInvariant(rpc, prepared, proxy, numberToHex(block)),
  };
}
