// What a registry has recorded, read so that a reorg cannot make the node believe a record that
// is gone: "final" only at the chain's head minus its confirmations.
import type { Address, Hex, PublicClient } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";

const abi = SentinelRegistry.abi;

export type RecordState = "final" | "unconfirmed" | "absent";

export interface RegistryRef {
  client: PublicClient;
  registry: Address;
  confirmations: number;
}

/** The highest block `confirmations` deep (the head itself when confirmations is 0). */
export async function confirmedHead(ref: Pick<RegistryRef, "client" | "confirmations">): Promise<bigint> {
  const head = await ref.client.getBlockNumber({ cacheTime: 0 });
  const confirmed = head - BigInt(ref.confirmations);
  return confirmed < 0n ? 0n : confirmed;
}

export async function recordState(ref: RegistryRef, digest: Hex): Promise<RecordState> {
  const isRecorded = (blockNumber?: bigint) =>
    ref.client.readContract({ address: ref.registry, abi, functionName: "isRecorded", args: [digest], ...(blockNumber !== undefined && { blockNumber }) });
  if (ref.confirmations === 0) return (await isRecorded()) ? "final" : "absent";
  const head = await ref.client.getBlockNumber({ cacheTime: 0 });
  if (head >= BigInt(ref.confirmations) && (await isRecorded(head - BigInt(ref.confirmations)))) return "final";
  return (await isRecorded(head)) ? "unconfirmed" : "absent";
}
