// One call on the fork and what it did: sent by its (impersonated) sender at a fixed timestamp,
// gas free (the fork's base fee is zero and the gas price too, so balances move only by value),
// and its effect read back: status, return or revert data (call trace), logs (receipt), and the
// storage and balances it changed (diff-mode prestate trace names them; their values are read from
// the blocks before and after, each transaction being alone in its block).
import { numberToHex, pad, type Address, type Hex } from "viem";
import { ERC1967_IMPLEMENTATION_SLOT, type JsonRpc, type RpcLog } from "../shadow/index.ts";
import type { Effect } from "./report.ts";

const RECEIPT_POLL_MS = 5;

export interface ForkCall {
  from: Address;
  to: Address;
  data: Hex;
  /** Wei. */
  value: bigint;
}

interface Receipt {
  status: Hex;
  blockNumber: Hex;
  logs: RpcLog[];
}

/** Sends one transaction in its own block at `timestamp`; the sender is impersonated and given `value` if it lacks it. */
export async function sendAt(rpc: JsonRpc, call: ForkCall, timestamp: bigint, gas: bigint): Promise<{ hash: Hex; receipt: Receipt }> {
  await rpc.request("anvil_impersonateAccount", [call.from]);
  if (call.value > 0n) {
    const balance = BigInt(await rpc.request<Hex>("eth_getBalance", [call.from, "latest"]));
    if (balance < call.value) await rpc.request("anvil_setBalance", [call.from, numberToHex(call.value)]);
  }
  await rpc.request("evm_setNextBlockTimestamp", [numberToHex(timestamp)]);
  const request = { from: call.from, to: call.to, data: call.data, value: numberToHex(call.value), gas: numberToHex(gas), gasPrice: "0x0" };
  const hash = await rpc.request<Hex>("eth_sendTransaction", [request]);
  let receipt: Receipt | null = null;
  while (receipt === null) {
    receipt = await rpc.request<Receipt | null>("eth_getTransactionReceipt", [hash]);
    if (receipt === null) await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
    rpc.signal.throwIfAborted();
  }
  await rpc.request("anvil_stopImpersonatingAccount", [call.from]);
  return { hash, receipt };
}

type PrestateAccounts = Record<string, { balance?: Hex; storage?: Record<string, Hex> }>;

/** The call, sent and read back. */
export async function effectOf(rpc: JsonRpc, call: ForkCall, timestamp: bigint, gas: bigint): Promise<Effect> {
  const { hash, receipt } = await sendAt(rpc, call, timestamp, gas);
  const status = receipt.status === "0x1" ? "success" : "reverted";
  const trace = await rpc.raw("debug_traceTransaction", [hash, { tracer: "callTracer" }]);
  const output = ("result" in trace ? ((trace.result as { output?: Hex }).output ?? "0x") : "0x").toLowerCase() as Hex;
  const logs = receipt.logs.map((log) => ({ address: log.address.toLowerCase() as Hex, topics: log.topics.map((t) => t.toLowerCase() as Hex), data: log.data.toLowerCase() as Hex }));

  const touchedSlots = new Map<string, [Hex, Hex]>();
  const touchedAccounts = new Set<Hex>();
  const diff = await rpc.raw("debug_traceTransaction", [hash, { tracer: "prestateTracer", tracerConfig: { diffMode: true } }]);
  const sides = "result" in diff ? (diff.result as { pre?: PrestateAccounts; post?: PrestateAccounts }) : {};
  for (const side of [sides.pre ?? {}, sides.post ?? {}]) {
    for (const [address, account] of Object.entries(side)) {
      const lower = address.toLowerCase() as Hex;
      if (account.balance !== undefined) touchedAccounts.add(lower);
      for (const slot of Object.keys(account.storage ?? {})) {
        const word = pad(slot.toLowerCase() as Hex, { size: 32 });
        // The implementation slot differs by design, and no user call writes it.
        if (word !== ERC1967_IMPLEMENTATION_SLOT) touchedSlots.set(`${lower}:${word}`, [lower, word]);
      }
    }
  }
  const block = BigInt(receipt.blockNumber);
  const [before, after] = [numberToHex(block - 1n), numberToHex(block)];
  const storage: [Hex, Hex, Hex][] = [];
  for (const [address, slot] of touchedSlots.values()) {
    const [old, now] = [await rpc.request<Hex>("eth_getStorageAt", [address, slot, before]), await rpc.request<Hex>("eth_getStorageAt", [address, slot, after])];
    if (BigInt(old) !== BigInt(now)) storage.push([address, slot, pad(now.toLowerCase() as Hex, { size: 32 })]);
  }
  const balances: [Hex, string][] = [];
  for (const address of touchedAccounts) {
    const [old, now] = [BigInt(await rpc.request<Hex>("eth_getBalance", [address, before])), BigInt(await rpc.request<Hex>("eth_getBalance", [address, after]))];
    if (old !== now) balances.push([address, (now - old).toString()]);
  }
  storage.sort((a, b) => compare(`${a[0]}${a[1]}`, `${b[0]}${b[1]}`));
  balances.sort((a, b) => compare(a[0], b[0]));
  return { status, output, logs, storage, balances };
}

/**
 * The first thing two effects of the same call differ in, for people: status, return data, a log
 * (count, emitter, topics, data), a storage slot, a balance; undefined when they are the same.
 */
export function firstDifference(v1: Effect, v2: Effect): string | undefined {
  if (v1.status !== v2.status) return `${v1.status} under V1, ${v2.status} under V2`;
  if (v1.output !== v2.output) return `${v1.status === "success" ? "return" : "revert"} data ${short(v1.output)} under V1, ${short(v2.output)} under V2`;
  for (let i = 0; i < Math.max(v1.logs.length, v2.logs.length); i++) {
    const [a, b] = [v1.logs[i], v2.logs[i]];
    if (a === undefined || b === undefined) return `log ${i} ${a === undefined ? "only under V2" : "only under V1"} (topic ${short((a ?? b)?.topics[0] ?? "0x")})`;
    if (a.address !== b.address) return `log ${i} emitted by ${a.address} under V1, ${b.address} under V2`;
    if (a.topics.join() !== b.topics.join()) return `log ${i} topics ${a.topics.map(short).join(",")} under V1, ${b.topics.map(short).join(",")} under V2`;
    if (a.data !== b.data) return `log ${i} (topic ${short(a.topics[0] ?? "0x")}) data ${short(a.data)} under V1, ${short(b.data)} under V2`;
  }
  const slots = (effect: Effect) => new Map(effect.storage.map(([address, slot, value]) => [`${address} slot ${slot}`, value]));
  const [s1, s2] = [slots(v1), slots(v2)];
  for (const key of [...new Set([...s1.keys(), ...s2.keys()])].sort()) {
    if (s1.get(key) !== s2.get(key)) return `storage ${key}: ${s1.get(key) ?? "unchanged"} under V1, ${s2.get(key) ?? "unchanged"} under V2`;
  }
  const balances = (effect: Effect) => new Map(effect.balances);
  const [b1, b2] = [balances(v1), balances(v2)];
  for (const key of [...new Set([...b1.keys(), ...b2.keys()])].sort()) {
    if (b1.get(key) !== b2.get(key)) return `balance of ${key}: ${b1.get(key) ?? "0"} wei under V1, ${b2.get(key) ?? "0"} wei under V2`;
  }
  return undefined;
}

function short(hex: Hex | string): string {
  return hex.length > 2 + 2 * 72 ? `${hex.slice(0, 2 + 2 * 72)}…` : hex;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
