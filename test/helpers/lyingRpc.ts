// A JSON-RPC endpoint of our own in front of a real chain that lies as told: other code or storage
// for an address, another hash for every block (a fork the honest chain never saw), or silence.
// What a poisoned or hijacked provider does, for the tests of the node's quorum reads.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { keccak256, stringToHex, type Address, type Hex } from "viem";

export interface Lies {
  /** eth_getCode of these addresses answers this code. */
  code?: Map<string, Hex>;
  /** eth_getStorageAt of any slot of these addresses answers this word. */
  storage?: Map<string, Hex>;
  /** Every block (by number or hash) answers another hash: a forked chain. */
  forkBlocks?: boolean;
  /** Accepts the connection and never answers. */
  silent?: boolean;
  /** Answers every call with a body of this many bytes (a string result that never ends sooner). */
  floodBytes?: number;
  /** Answers every call with a result nested this deep. */
  nestDepth?: number;
}

export interface LyingRpc {
  url: string;
  lies: Lies;
  /** Calls it answered, by method. */
  calls: Map<string, number>;
  stop(): Promise<void>;
}

export async function startLyingRpc(upstream: string, lies: Lies = {}): Promise<LyingRpc> {
  const calls = new Map<string, number>();
  const state = { lies };
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (state.lies.silent) return; // held open; the caller's timeout ends it
    if (state.lies.floodBytes !== undefined) return void flood(response, state.lies.floodBytes);
    if (state.lies.nestDepth !== undefined) {
      const depth = state.lies.nestDepth;
      response.writeHead(200, { "content-type": "application/json" });
      return void response.end(`{"jsonrpc":"2.0","id":1,"result":${"[".repeat(depth)}${"]".repeat(depth)}}`);
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: unknown; method: string; params?: unknown[] };
    calls.set(body.method, (calls.get(body.method) ?? 0) + 1);
    const upstreamResponse = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const answer = (await upstreamResponse.json()) as { result?: unknown };
    const address = String(body.params?.[0] ?? "").toLowerCase();
    const l = state.lies;
    if (body.method === "eth_getCode" && l.code?.has(address)) answer.result = l.code.get(address);
    // anvil's forks read an account whole (code included) with eth_getAccountInfo: a liar lies there too.
    if (body.method === "eth_getAccountInfo" && l.code?.has(address) && answer.result) (answer.result as { code: Hex }).code = l.code.get(address)!;
    if (body.method === "eth_getStorageAt" && l.storage?.has(address)) answer.result = l.storage.get(address);
    if (l.forkBlocks && (body.method === "eth_getBlockByNumber" || body.method === "eth_getBlockByHash") && answer.result) {
      const block = answer.result as { hash: Hex; stateRoot: Hex };
      block.hash = keccak256(stringToHex(`fork:${block.hash}`));
      block.stateRoot = keccak256(stringToHex(`fork:${block.stateRoot}`));
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get lies() {
      return state.lies;
    },
    set lies(value: Lies) {
      state.lies = value;
    },
    calls,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `bytes` of a JSON-RPC answer, written a MiB at a time as the reader takes them. */
async function flood(response: ServerResponse, bytes: number): Promise<void> {
  response.writeHead(200, { "content-type": "application/json" });
  const chunk = Buffer.alloc(1 << 20, 0x61);
  let sent = 0;
  response.write('{"jsonrpc":"2.0","id":1,"result":"0x');
  while (sent < bytes && !response.destroyed) {
    sent += chunk.length;
    if (!response.write(chunk)) await new Promise((resolve) => { response.once("drain", resolve); response.once("close", resolve); });
  }
  response.end('"}');
}

/** Lowercased, as the lying endpoint matches addresses. */
export const lower = (address: Address): string => address.toLowerCase();
