// The fork and how the shadow deployment talks to it: plain JSON-RPC (reverts and anvil's own
// methods come back as data, not as wrapped errors), eth_call with the contract's revert as an
// answer, and transactions sent by impersonated accounts, one per block, on a clock set from the
// pinned block (never the wall clock), so that every node's fork mines the same blocks.
import { decodeErrorResult, isHex, numberToHex, parseAbi, type Address, type Hex } from "viem";
import { ShadowDeploymentError } from "./errors.ts";

/** Funds the impersonated authority when it has less: gas at any realistic price. */
const AUTHORITY_FUNDING = 10n ** 21n;
/** The fork's blocks follow the pinned block at this spacing, whatever the wall clock says. */
const BLOCK_SPACING_SECONDS = 12n;
/** Upgrade transactions never exceed this (nor the pinned block's gas limit). */
const MAX_UPGRADE_GAS = 30_000_000n;
/** Revert reasons in evidence are cut here: the new code chooses them. */
const MAX_REASON_CHARS = 200;
const RECEIPT_POLL_MS = 5;

interface RpcBlock {
  hash: Hex;
  timestamp: Hex;
  gasLimit: Hex;
}
export interface RpcLog {
  address: Hex;
  topics: Hex[];
  data: Hex;
  logIndex: Hex;
}
interface RpcReceipt {
  status: Hex;
  blockNumber: Hex;
  logs: RpcLog[];
}
type RpcResponse = { result: unknown } | { error: { code: number; message: string; data?: unknown } };

/**
 * Plain JSON-RPC, so reverts and anvil's own methods come back as data, not as wrapped errors.
 * One request at a time: a forking anvil (1.7) can deadlock for good when several requests make
 * it fetch state from its origin at once (about one shadow run in 25 on two busy cores).
 */
export class JsonRpc {
  readonly url: string;
  readonly signal: AbortSignal;
  private id = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private current: { method: string; since: number } | undefined;

  constructor(url: string, signal: AbortSignal) {
    this.url = url;
    this.signal = signal;
  }

  raw(method: string, params: unknown[]): Promise<RpcResponse> {
    const result = this.queue.then(() => this.send(method, params));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The request waiting for its answer, if any, and for how long: what a timeout reports. */
  waitingFor(): { method: string; ms: number } | undefined {
    return this.current && { method: this.current.method, ms: Math.round(performance.now() - this.current.since) };
  }

  private async send(method: string, params: unknown[]): Promise<RpcResponse> {
    this.signal.throwIfAborted();
    this.current = { method, since: performance.now() };
    // A signal of its own per request, tied to the run's and untied after: fetch leaves its abort
    // listener on the signal it is given, and a run's thousands of requests (the behaviour check's)
    // would pile them up on the run's one signal.
    const request = new AbortController();
    const abort = () => request.abort(this.signal.reason);
    this.signal.addEventListener("abort", abort, { once: true });
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params }),
        signal: request.signal,
      });
      if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`);
      return (await response.json()) as RpcResponse;
    } finally {
      this.signal.removeEventListener("abort", abort);
      this.current = undefined;
    }
  }

  async request<T = unknown>(method: string, params: unknown[]): Promise<T> {
    const response = await this.raw(method, params);
    if ("error" in response) throw new Error(`${method}: ${response.error.message}`);
    return response.result as T;
  }
}

export interface PinnedBlock {
  number: bigint;
  hash: Hex;
  timestamp: bigint;
  gasLimit: bigint;
}

/** The block as the chain (or the fork) has it; BLOCK_UNAVAILABLE when there is none. */
export async function pinnedBlock(rpc: JsonRpc, blockNumber: bigint): Promise<PinnedBlock> {
  const block = await rpc.request<RpcBlock | null>("eth_getBlockByNumber", [numberToHex(blockNumber), false]);
  if (block === null) throw new ShadowDeploymentError("BLOCK_UNAVAILABLE", `the chain has no block ${blockNumber}`);
  return { number: blockNumber, hash: block.hash, timestamp: BigInt(block.timestamp), gasLimit: BigInt(block.gasLimit) };
}

/** Errors an upgrade commonly reverts with (OZ 5.x), decoded by name in evidence. */
const KNOWN_ERRORS_ABI = parseAbi([
  "error OwnableUnauthorizedAccount(address account)",
  "error OwnableInvalidOwner(address owner)",
  "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
  "error ERC1967InvalidImplementation(address implementation)",
  "error ERC1967InvalidAdmin(address admin)",
  "error ERC1967NonPayable()",
  "error UUPSUnauthorizedCallContext()",
  "error UUPSUnsupportedProxiableUUID(bytes32 slot)",
  "error InvalidInitialization()",
  "error NotInitializing()",
  "error ProxyDeniedAdminAccess()",
  "error AddressEmptyCode(address target)",
  "error FailedCall()",
  "error FailedInnerCall()",
  // SentinelGuardedUUPS: the registry has not approved the new code (see registryApproval.ts).
  "error UpgradeNotApproved(address implementation, bytes32 codehash)",
]);

export interface Revert {
  /** Decoded: `OwnableUnauthorizedAccount(0x…)`, `Error("…")`, `Panic(17)`, `custom error 0x…`, `no revert data`, or the EVM halt. */
  reason: string;
  data: Hex;
}

export type CallOutcome = { ok: true; data: Hex } | { ok: false; revert: Revert };

/**
 * eth_call: a revert (code 3) or an EVM halt (anvil's -32603 "EVM error …") is the contract's
 * answer; anything else is the node failing, and throws.
 */
export async function ethCall(rpc: JsonRpc, tx: { from?: Address; to: Address; data: Hex; gas?: Hex }, block: Hex): Promise<CallOutcome> {
  const response = await rpc.raw("eth_call", [tx, block]);
  if ("result" in response) return { ok: true, data: (response.result as Hex).toLowerCase() as Hex };
  const { code, message, data } = response.error;
  if (code === 3 || /revert/i.test(message)) {
    const revertData = (typeof data === "string" && isHex(data) ? data.toLowerCase() : "0x") as Hex;
    return { ok: false, revert: { reason: decodeRevert(revertData), data: revertData } };
  }
  if (code === -32603 && message.startsWith("EVM error")) return { ok: false, revert: { reason: message.slice(0, MAX_REASON_CHARS), data: "0x" } };
  throw new ShadowDeploymentError("CHECK_FAILED", `eth_call failed: ${message}`);
}

/** A revert's data, decoded: Error(string), Panic(uint256), a known OZ error, or its selector. */
export function decodeRevert(data: Hex): string {
  if (data === "0x") return "no revert data";
  try {
    const decoded = decodeErrorResult({ abi: KNOWN_ERRORS_ABI, data });
    const args = (decoded.args ?? []).map((arg) => (typeof arg === "string" && (decoded.errorName as string) === "Error" ? JSON.stringify(arg) : String(arg)));
    return `${decoded.errorName}(${args.join(", ")})`.slice(0, MAX_REASON_CHARS);
  } catch {
    return data.length >= 10 ? `custom error ${data.slice(0, 10)}` : `malformed revert data ${data}`;
  }
}

/** A transaction the fork sends: `from` is impersonated and funded. */
export interface ForkTransaction {
  from: Address;
  to: Address;
  data: Hex;
}

/** A mined transaction: its logs, or its revert (replayed, since receipts do not carry it). */
export type Sent = { hash: Hex; blockNumber: bigint } & ({ status: "success"; logs: RpcLog[] } | { status: "reverted"; revert: Revert });

/** The fork: transactions by impersonated accounts, one per block, on a clock set from the pinned block. */
export class Fork {
  private readonly rpc: JsonRpc;
  private readonly pinned: PinnedBlock;
  private transactions = 0n;

  constructor(rpc: JsonRpc, pinned: PinnedBlock) {
    this.rpc = rpc;
    this.pinned = pinned;
  }

  async send(tx: ForkTransaction): Promise<Sent> {
    const rpc = this.rpc;
    const gas = this.pinned.gasLimit < MAX_UPGRADE_GAS ? this.pinned.gasLimit : MAX_UPGRADE_GAS;
    await rpc.request("anvil_impersonateAccount", [tx.from]);
    const balance = BigInt(await rpc.request<Hex>("eth_getBalance", [tx.from, "latest"]));
    if (balance < AUTHORITY_FUNDING) await rpc.request("anvil_setBalance", [tx.from, numberToHex(AUTHORITY_FUNDING)]);
    this.transactions += 1n;
    await rpc.request("evm_setNextBlockTimestamp", [numberToHex(this.pinned.timestamp + BLOCK_SPACING_SECONDS * this.transactions)]);
    // An explicit gas limit: anvil mines a reverting transaction instead of refusing to estimate it.
    const request = { from: tx.from, to: tx.to, data: tx.data, gas: numberToHex(gas), value: "0x0" };
    const hash = await rpc.request<Hex>("eth_sendTransaction", [request]);
    const receipt = await this.receipt(hash);
    await rpc.request("anvil_stopImpersonatingAccount", [tx.from]);
    const blockNumber = BigInt(receipt.blockNumber);
    if (receipt.status === "0x1") return { hash, status: "success", blockNumber, logs: receipt.logs };
    // The revert data is not in the receipt: the same call on the state before gives it.
    const replay = await ethCall(rpc, request, numberToHex(blockNumber - 1n));
    const revert = replay.ok ? { reason: "reverted in the transaction only (the same call succeeds)", data: "0x" as Hex } : replay.revert;
    return { hash, status: "reverted", blockNumber, revert };
  }

  private async receipt(hash: Hex): Promise<RpcReceipt> {
    for (;;) {
      const receipt = await this.rpc.request<RpcReceipt | null>("eth_getTransactionReceipt", [hash]);
      if (receipt !== null) return receipt;
      await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
      this.rpc.signal.throwIfAborted();
    }
  }
}
