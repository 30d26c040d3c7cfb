import { tmpdir } from "node:os";
import { join } from "node:path";
import { Outcome } from "../src/codec/types.ts";
import { addProtocol, codehashOf, signCandidate, sleep, startDevnet, submitCandidate, waitForDecision } from "../src/devnet/devnet.ts";
process.env["NODE_OPTIONS"] = "--cpu-prof --cpu-prof-dir=/tmp/prof";
const devnet = await startDevnet({ nodes: 16, dir: join(tmpdir(), `sentinel-prof-${process.pid}`) });
try {
  await sleep(3000);
  const t0 = Date.now();
  for (let k = 0; k < 6; k++) {
    await addProtocol(devnet);
    const chain = devnet.chains[k % 2]!;
    const node = devnet.nodes[k]!;
    const body = await signCandidate(devnet, chain, chain.protocol.benign, BigInt(k + 1000));
    const codehash = await codehashOf(chain, chain.protocol.benign);
    const t = Date.now();
    await submitCandidate(node, body);
    await waitForDecision(devnet, { chainId: chain.chainId, target: chain.protocol.proxy, codehash }, Outcome.Approve, 120_000);
    console.log("candidate", k, Date.now() - t);
    await sleep(2000);
  }
  console.log("loaded window ms", Date.now() - t0);
} finally {
  await devnet.stop();
}
