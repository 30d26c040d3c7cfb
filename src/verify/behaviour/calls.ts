// The calls the differential makes: what the protocol's users really did (the last transactions
// to the proxy, read from the chain up to the pinned block, bounded in blocks and in count) and
// what the policy declares (probes). Every node reads the same blocks, so every node makes the
// same calls.
import { encodeFunctionData, getAddress, numberToHex, parseAbiItem, toFunctionSelector, type AbiFunction, type Address, type Hex } from "viem";
import type { BehaviourProbe } from "../../codec/policy.ts";
import { firstLine, parseArgument, type JsonRpc } from "../shadow/index.ts";
import type { BehaviourCall } from "./report.ts";

interface RpcTransaction {
  hash: Hex;
  from: Address;
  to: Address | null;
  input: Hex;
  value: Hex;
}

/**
 * The last `limit` transactions whose `to` is the proxy, in the `blocks` blocks up to and
 * including the pinned one, oldest first. Transactions through another contract (a router, a
 * multisig) are not seen: that needs traces the chain may not serve.
 */
export async function recentCalls(rpc: JsonRpc, proxy: Address, pinned: bigint, bounds: { blocks: number; limit: number }): Promise<BehaviourCall[]> {
  const found: BehaviourCall[] = [];
  const target = proxy.toLowerCase();
  for (let n = pinned; n >= 0n && n > pinned - BigInt(bounds.blocks) && found.length < bounds.limit; n--) {
    const block = await rpc.request<{ transactions: RpcTransaction[] } | null>("eth_getBlockByNumber", [numberToHex(n), true]);
    const transactions = [...(block?.transactions ?? [])].reverse();
    for (const tx of transactions) {
      if (tx.to?.toLowerCase() !== target || found.length >= bounds.limit) continue;
      const data = tx.input.toLowerCase() as Hex;
      found.push({ kind: "replay", label: tx.hash, from: getAddress(tx.from), data, value: BigInt(tx.value).toString(), selector: selectorOf(data), repeat: 1 });
    }
  }
  return found.reverse();
}

/** The policy's probes as calls, and the probes that cannot be made as written (a policy problem, never a chain fact). */
export function probeCalls(probes: readonly BehaviourProbe[]): { calls: BehaviourCall[]; problems: { probe: string; problem: string }[] } {
  const calls: BehaviourCall[] = [];
  const problems: { probe: string; problem: string }[] = [];
  for (const probe of probes) {
    try {
      const item = parseAbiItem(probe.function) as AbiFunction;
      if (item.type !== "function") throw new Error("is not a function");
      if (item.inputs.length !== probe.args.length) throw new Error(`takes ${item.inputs.length} arguments, ${probe.args.length} given`);
      const args = item.inputs.map((input, i) => parseArgument(input.type, probe.args[i] ?? ""));
      const data = encodeFunctionData({ abi: [item], args }).toLowerCase() as Hex;
      const signature = `${item.name}(${item.inputs.map((input) => input.type).join(",")})`;
      calls.push({ kind: "probe", label: probe.name, from: probe.from, data, value: probe.value ?? "0", selector: toFunctionSelector(signature), signature, repeat: probe.repeat ?? 1 });
    } catch (error) {
      problems.push({ probe: probe.name, problem: firstLine(error) });
    }
  }
  return { calls, problems };
}

function selectorOf(data: Hex): Hex {
  return data.length >= 10 ? (data.slice(0, 10) as Hex) : "0x";
}
