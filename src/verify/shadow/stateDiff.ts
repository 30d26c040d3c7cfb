// The storage the upgrade transaction wrote, and its digest: the evidence that every node's fork
// ran the same upgrade.
import { keccak256, numberToHex, pad, stringToHex, type Address, type Hex } from "viem";
import { ERC1967_ADMIN_SLOT } from "../../chains/authority.ts";
import type { JsonRpc, Sent } from "./fork.ts";
import { ERC1967_IMPLEMENTATION_SLOT, INITIALIZABLE_V5_SLOT } from "./proxyFacts.ts";
import type { StateDiff, StorageChange } from "./report.ts";

/** Slots read when anvil cannot trace: ERC-1967's three, OZ v5's Initializable and Ownable(2Step) namespaces, slots 0–15. */
const KNOWN_SLOTS: readonly Hex[] = [
  ERC1967_IMPLEMENTATION_SLOT,
  ERC1967_ADMIN_SLOT,
  "0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6cb3582b35133d50", // eip1967.proxy.beacon - 1
  INITIALIZABLE_V5_SLOT,
  "0x9016d09d72d40fdae2fd8ceac6b6234c7706214fd39c1cd1e609a0528c199300", // openzeppelin.storage.Ownable
  "0x237e158222e3e6968b72b9db0d8043aacf074ad9f650f0d1606b4d82ee432c00", // openzeppelin.storage.Ownable2Step
  ...Array.from({ length: 16 }, (_, i) => numberToHex(i, { size: 32 })),
];

/** debug_traceTransaction's prestateTracer result, one side of the diff. */
type PrestateAccounts = Record<string, { storage?: Record<string, Hex> }>;

/**
 * The storage the upgrade transaction changed. anvil's diff-mode prestate trace names the
 * touched slots; their values are then read from the blocks before and after the transaction
 * (each transaction is alone in its block), so the digest does not depend on how a tracer
 * encodes values. Without the tracer, a fixed list of well-known slots is read instead.
 */
export async function stateDiff(rpc: JsonRpc, sent: Sent & { status: "success" }, fallbackAccounts: readonly Address[]): Promise<StateDiff> {
  let method: StateDiff["method"] = "prestateTracer";
  let touched: [Hex, Hex][] = [];
  const traced = await rpc.raw("debug_traceTransaction", [sent.hash, { tracer: "prestateTracer", tracerConfig: { diffMode: true } }]);
  const diff = "result" in traced ? (traced.result as { pre?: PrestateAccounts; post?: PrestateAccounts }) : undefined;
  if (diff?.pre !== undefined && diff.post !== undefined) {
    for (const side of [diff.pre, diff.post]) {
      for (const [address, account] of Object.entries(side)) {
        for (const slot of Object.keys(account.storage ?? {})) touched.push([address.toLowerCase() as Hex, word(slot as Hex) as Hex]);
      }
    }
  } else {
    method = "known-slots";
    const accounts = fallbackAccounts.filter((account) => BigInt(account) !== 0n).map((a) => a.toLowerCase() as Hex);
    touched = accounts.flatMap((address) => KNOWN_SLOTS.map((slot): [Hex, Hex] => [address, slot]));
  }
  const unique = [...new Map(touched.map(([address, slot]) => [`${address}:${slot}`, [address, slot] as const])).values()];
  const beforeBlock = numberToHex(sent.blockNumber - 1n);
  const afterBlock = numberToHex(sent.blockNumber);
  const changes = await Promise.all(
    unique.map(async ([address, slot]): Promise<StorageChange> => {
      const [before, after] = await Promise.all([
        rpc.request<Hex>("eth_getStorageAt", [address, slot, beforeBlock]),
        rpc.request<Hex>("eth_getStorageAt", [address, slot, afterBlock]),
      ]);
      return { address, slot, before: word(before) as Hex, after: word(after) as Hex };
    }),
  );
  const canonical = canonicalChanges(changes).map(([address, slot, before, after]) => ({ address, slot, before, after }) as StorageChange);
  return { method, changes: canonical, digest: stateDiffDigest(canonical) };
}

/**
 * The digest of a set of storage changes: keccak256 of canonical JSON, addresses and slots
 * sorted, all hex lowercase and 32-byte words, unchanged slots dropped.
 */
export function stateDiffDigest(changes: readonly StorageChange[]): Hex {
  return keccak256(stringToHex(JSON.stringify({ schema: "sentinel.state-diff/1", changes: canonicalChanges(changes) })));
}

function canonicalChanges(changes: readonly StorageChange[]): [string, string, string, string][] {
  return changes
    .map((c): [string, string, string, string] => [c.address.toLowerCase(), word(c.slot), word(c.before), word(c.after)])
    .filter(([, , before, after]) => before !== after)
    .sort((a, b) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

function word(value: Hex | string): string {
  return pad(value.toLowerCase() as Hex, { size: 32 });
}
