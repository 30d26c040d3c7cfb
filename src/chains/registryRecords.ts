// What a registry has recorded, read so that a reorg cannot make the node believe a record that
// is gone: "final" only at the chain's head minus its confirmations. And where a recorded
// attestation's bytes are: the VerdictRecorded log names the digest, the transaction carries the
// attestation; logs are read in pages, newest first, since RPC providers cap log ranges.
import { decodeFunctionData, type Address, type Hex, type PublicClient } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { decodeAttestation, type Attestation } from "../codec/attestation.ts";
import { verdictDigest } from "../codec/types.ts";

const abi = SentinelRegistry.abi;

export type RecordState = "final" | "unconfirmed" | "absent";

export interface RegistryRef {
  client: PublicClient;
  registry: Address;
  confirmations: number;
}

/** The highest block `confirmations` deep (the head itself when confirmations is 0). */
export async function confirmedHead(ref: RegistryRef): Promise<bigint> {
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

export interface LogPaging {
  /** getLogs asks for at most this many blocks at a time. */
  maxLogRange: bigint;
  /** Pages read at most, newest first: bounds the cost of looking for a record that is older. */
  maxPages: number;
}

export const DEFAULT_LOG_PAGING: LogPaging = { maxLogRange: 10_000n, maxPages: 100 };

/**
 * The attestation recorded for `digest`, from its VerdictRecorded log at or below `toBlock`,
 * or undefined if none is found within the paging bounds (or it was not submitted directly).
 */
export async function findRecordedAttestation(
  ref: RegistryRef,
  networkId: Hex,
  digest: Hex,
  toBlock: bigint,
  paging: LogPaging = DEFAULT_LOG_PAGING,
): Promise<Attestation | undefined> {
  let high = toBlock;
  for (let page = 0; page < paging.maxPages && high >= 0n; page++) {
    const low = high - paging.maxLogRange + 1n > 0n ? high - paging.maxLogRange + 1n : 0n;
    const logs = await ref.client.getContractEvents({
      address: ref.registry,
      abi,
      eventName: "VerdictRecorded",
      args: { digest },
      fromBlock: low,
      toBlock: high,
    });
    for (const log of logs) {
      if (!log.transactionHash) continue;
      const transaction = await ref.client.getTransaction({ hash: log.transactionHash });
      let call;
      try {
        call = decodeFunctionData({ abi, data: transaction.input });
      } catch {
        continue; // Submitted through another contract: the bytes are not in this input.
      }
      if (call.functionName !== "submitAttestation") continue;
      const attestation = decodeAttestation(call.args[0]);
      if (verdictDigest(networkId, attestation.verdict) === digest) return attestation;
    }
    if (low === 0n) break;
    high = low - 1n;
  }
  return undefined;
}
