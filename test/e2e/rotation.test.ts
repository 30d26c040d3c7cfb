// Joining and leaving, with real node processes and anvil chains: a 4-node network grows to 5
// through `sentinel validator propose --add` and shrinks back with `--remove`, and verdicts are
// recorded on both chains before, during and after. The new node starts as an observer, and
// signs at its index once the rotation is active; the replaced sets keep verifying for the
// registry's grace period; the devnet's manifest is gone once it stops.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { Outcome } from "../../src/codec/types.ts";
import { generateSecretKey, publicKeyRaw } from "../../src/crypto/bls.ts";
import { addProtocol, codehashOf, fund, signCandidate, startDevnet, submitCandidate, waitForDecision, type Devnet, type DevnetNode } from "../../src/devnet/devnet.ts";
import { prepareJoiningNode } from "../../src/devnet/joinNode.ts";
import { waitFor } from "../helpers/wait.ts";

const CLI = fileURLToPath(new URL("../../src/cli/sentinel.ts", import.meta.url));
const DECISION_TIMEOUT_MS = 60_000;

interface Health {
  setIndex: number;
  validatorIndex: number | null;
  peers: number;
}

async function health(node: DevnetNode): Promise<Health | undefined> {
  try {
    const response = await fetch(`${node.apiUrl}/health`);
    return response.ok ? ((await response.json()) as Health) : undefined;
  } catch {
    return undefined; // restarting
  }
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("validator set rotation: 4 -> 5 -> 4 with verdicts throughout", { timeout: 240_000 }, () => {
  let devnet: Devnet;
  let joiner: DevnetNode | undefined;
  let nonce = 0n;
  let senderKeyFile: string;

  before(async () => {
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-rotation-${process.pid}`) });
    const sender = generatePrivateKey();
    for (const chain of devnet.chains) await fund(chain, privateKeyToAccount(sender).address);
    senderKeyFile = join(devnet.dir, "rotation-sender.key");
    writeFileSync(senderKeyFile, sender, { mode: 0o600 });
  });
  after(async () => {
    await joiner?.stop();
    if (devnet) {
      await devnet.stop();
      assert.equal(existsSync(devnet.manifestPath), false, "the manifest goes with the network");
    }
  });

  /** A fresh protocol, a benign upgrade submitted to `node`; resolves once both chains record the approval. */
  async function verdict(node: DevnetNode, label: string): Promise<{ id: Hex; recorded: Promise<boolean> }> {
    await addProtocol(devnet);
    const chain = devnet.chains[0]!;
    const subject = { chainId: chain.chainId, target: chain.protocol.proxy, codehash: await codehashOf(chain, chain.protocol.benign) };
    const body = await signCandidate(devnet, chain, chain.protocol.benign, ++nonce);
    // The node may be restarting onto a new set at this moment: its API is back within a second.
    const id = await waitFor(`node ${node.index} to take the candidate ${label}`, () => submitCandidate(node, body).catch(() => undefined), 15_000, 200);
    const recorded = waitForDecision(devnet, subject, Outcome.Approve, DECISION_TIMEOUT_MS).then((ok) => {
      assert.ok(ok, `verdict ${label} recorded on both chains`);
      return ok;
    });
    return { id, recorded };
  }

  /** A node's attestation of a candidate, once it has one (10 s at most). */
  const attestationOn = (apiUrl: string, id: Hex) =>
    waitFor(`the attestation of ${id} on ${apiUrl}`, async () => {
      const response = await fetch(`${apiUrl}/v1/attestations/${id}`);
      return response.status === 200 ? ((await response.json()) as { encoded: Hex; setIndex: number }) : undefined;
    }, 10_000);

  const setOf = async (index: number) =>
    Promise.all(devnet.chains.map((chain) => chain.client.readContract({ address: chain.registry, abi: SentinelRegistry.abi, functionName: "validatorSet", args: [index] })));

  it("grows to 5 and shrinks back to 4", async () => {
    const before = await verdict(devnet.nodes[0]!, "before");
    await before.recorded;
    // Recorded on both chains does not mean node 0 holds it yet (gossip or its chain follower brings it).
    const set0Attestation = await attestationOn(devnet.nodes[0]!.apiUrl, before.id);
    assert.equal(set0Attestation.setIndex, 0);

    const key = generateSecretKey();
    const joining = await prepareJoiningNode(devnet, key, 4);
    joiner = joining.node;
    joiner.start();
    await joiner.waitReady();
    assert.equal((await health(joiner))?.validatorIndex, null, "not in the set yet: observing");

    const nodes = devnet.nodes.map((node) => node.apiUrl).join(",");
    const proposer = devnet.nodes[1]!;
    const joinerKey = `0x${Buffer.from(publicKeyRaw(key.toPublicKey())).toString("hex")}`;
    /** Each operator's say: the devnet's configs read <node dir>/rotation-approvals.json at every vote. */
    const approve = (nodes: DevnetNode[], approvals: { add?: string[]; remove?: string[] }) =>
      nodes.forEach((node) => writeFileSync(join(dirname(node.configPath), "rotation-approvals.json"), JSON.stringify(approvals)));

    // No operator has approved the key yet: every node refuses, nothing is submitted.
    const unapproved = await runCli(["validator", "propose", "--config", proposer.configPath, "--add", joining.keyFile, "--nodes", nodes, "--key-file", senderKeyFile]);
    assert.equal(unapproved.code, 1, `exit ${unapproved.code}\n${unapproved.stdout}\n${unapproved.stderr}`);
    assert.equal(unapproved.stderr.match(/refused \(403 NOT_APPROVED\)/g)?.length, 4, unapproved.stderr);
    approve(devnet.nodes, { add: [joinerKey] });
    // One verdict submitted as the votes are collected, one as the set activates and the nodes restart.
    const growing = runCli(["validator", "propose", "--config", proposer.configPath, "--add", joining.keyFile, "--nodes", nodes, "--key-file", senderKeyFile, "--json"]);
    const during = await verdict(devnet.nodes[2]!, "during the vote");
    const grow = await growing;
    assert.equal(grow.code, 0, grow.stderr);
    const switching = await verdict(devnet.nodes[3]!, "during the switch");
    const grown = JSON.parse(grow.stdout.trim().split("\n").at(-1)!) as { setIndex: number; keys: Hex[]; signers: number[]; chains: { result: string }[] };
    assert.equal(grown.setIndex, 1);
    assert.equal(grown.keys.length, 5);
    assert.ok(grown.signers.length >= 3);
    assert.deepEqual(grown.chains.map((c) => c.result), ["activated", "activated"]);
    await during.recorded;
    await switching.recorded;

    // Every node restarts with set 1; the new one signs at its index there.
    const newIndex = grown.keys.indexOf(joinerKey as Hex);
    const all = [...devnet.nodes, joiner];
    // On set 1 and reconnected to every other node: a candidate gossiped while a restarted node
    // is still dialling its peers never reaches it (gossip is not replayed).
    await waitFor("every node on set 1, connected to the others", async () => (await Promise.all(all.map(health))).every((h) => h?.setIndex === 1 && h.peers >= all.length - 1), 60_000, 250);
    assert.equal((await health(joiner))?.validatorIndex, newIndex);
    // The grace period: set 0 still verifies, until its validUntil.
    for (const set of await setOf(0)) assert.ok(set.validUntil > BigInt(Math.floor(Date.now() / 1000)), "set 0 is in its grace period, not expired");

    const after5 = await verdict(joiner, "after growing to 5");
    await after5.recorded;
    const attestation = await attestationOn(joiner.apiUrl, after5.id);
    assert.equal(attestation.setIndex, 1, "attested by the 5-member set");
    await waitFor("the new node's signature", async () => ((await (await fetch(`${joiner!.apiUrl}/v1/candidates/${after5.id}`)).json()) as { signedDigest: Hex | null }).signedDigest, 20_000);

    approve(all, { remove: [joinerKey] });
    const shrink = await runCli(["validator", "propose", "--config", proposer.configPath, "--remove", String(newIndex), "--nodes", [...all.map((n) => n.apiUrl)].join(","), "--key-file", senderKeyFile, "--json"]);
    assert.equal(shrink.code, 0, shrink.stderr);
    const shrunk = JSON.parse(shrink.stdout.trim().split("\n").at(-1)!) as { setIndex: number; keys: Hex[] };
    assert.equal(shrunk.setIndex, 2);
    assert.equal(shrunk.keys.length, 4);
    await waitFor("every node on set 2, connected to the others", async () => (await Promise.all(all.map(health))).every((h) => h?.setIndex === 2 && h.peers >= all.length - 1), 60_000, 250);
    assert.equal((await health(joiner))?.validatorIndex, null, "removed: observing again");

    const after4 = await verdict(devnet.nodes[3]!, "after shrinking to 4");
    await after4.recorded;
    const last = await attestationOn(devnet.nodes[3]!.apiUrl, after4.id);
    assert.equal(last.setIndex, 2);
    // The grace period: set 0's attestation still verifies on every chain, two rotations later.
    for (const chain of devnet.chains) {
      const valid = await chain.client.readContract({ address: chain.registry, abi: SentinelRegistry.abi, functionName: "verifyAttestation", args: [set0Attestation.encoded] });
      assert.equal(valid, true, `set 0's attestation verifies on chain ${chain.chainId} within the grace period`);
    }
    // Below the threshold nothing is submitted: one node asked, and not even approved by its operator.
    const few = await runCli(["validator", "propose", "--config", proposer.configPath, "--remove", "0", "--nodes", devnet.nodes[0]!.apiUrl, "--key-file", senderKeyFile]);
    assert.equal(few.code, 1, few.stderr);
    assert.match(few.stderr, /\d vote\(s\), set 2 needs 3: nothing submitted/);
    assert.equal(await devnet.chains[0]!.client.readContract({ address: devnet.chains[0]!.registry, abi: SentinelRegistry.abi, functionName: "currentSetIndex" }), 2);
  });
});
