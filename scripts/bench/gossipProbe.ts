// One process of the gossip-floor measurement (scripts/bench-network.ts): a Sentinel network host
// (the node's own libp2p + gossipsub stack) that accepts every message. It prints one JSON line
// per message received, with its arrival time, and publishes when told to on stdin.
import { createInterface } from "node:readline";
import { privateKeyFromProtobuf } from "@libp2p/crypto/keys";
import { pino } from "pino";
import type { Hex } from "viem";
import { SentinelNetwork } from "../../src/network/index.ts";

const [networkId, listen, keyHex, ...bootstrap] = process.argv.slice(2) as [Hex, string, string, ...string[]];
const now = () => performance.timeOrigin + performance.now();
const accept = async () => "accept" as const;

const network = await SentinelNetwork.create(
  { networkId, listen: [listen], bootstrap, privateKey: privateKeyFromProtobuf(Buffer.from(keyHex, "hex")) },
  {
    handlers: {
      candidate: async (data) => {
        process.stdout.write(`${JSON.stringify({ received: new TextDecoder().decode(data), at: now() })}\n`);
        return "accept";
      },
      verdict: accept,
      approval: accept,
      attestation: accept,
    },
    bundles: { get: async () => undefined },
    logger: pino({ level: "silent" }),
  },
);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { publish?: string; peers?: boolean; stop?: boolean };
  if (command.publish !== undefined) {
    const at = now();
    const recipients = await network.publish("candidate", new TextEncoder().encode(command.publish));
    process.stdout.write(`${JSON.stringify({ published: command.publish, at, recipients })}\n`);
  }
  if (command.peers) process.stdout.write(`${JSON.stringify({ peers: network.meshPeers("candidate").length })}\n`);
  if (command.stop) break;
}
await network.stop();
process.exit(0);
