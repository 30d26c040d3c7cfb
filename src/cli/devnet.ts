// `sentinel devnet [--nodes n] [--scenario upgrade|revoke] [--exit]` (also `npm start`): a local network of two anvil chains
// and n node processes; submits one benign and one malicious upgrade per chain through the
// nodes' API, waits for the network's attestations to be recorded on both chains, and shows the
// guard letting the benign upgrade through and refusing the malicious one. With --exit, prints
// one JSON summary as its last line and exits 0 only if every outcome was right; without, keeps
// the network running (manifest in .devnet/manifest.json, removed when it stops) until Ctrl-C.
// `--scenario revoke` runs devnet/revokeScenario.ts instead: an approved upgrade broken on chain,
// revoked on both chains. `--scenario human-gate` runs devnet/humanGateScenario.ts: an upgrade whose
// policy requires 2 of 3 human approvers, pending with one approval, attested after the second.
import { parseArgs } from "node:util";
import type { Address, Hex } from "viem";
import { GuardedVaultV1 } from "../../artifacts/contracts.ts";
import { Outcome } from "../codec/types.ts";
import {
  codehashOf,
  signCandidate,
  startDevnet,
  submitCandidate,
  waitForDecision,
  type Devnet,
  type DevnetChain,
} from "../devnet/devnet.ts";
import type { CommandIo } from "./keys.ts";
import { prepareTryIt, tryItText } from "../devnet/tryIt.ts";
import { runRevokeScenario } from "../devnet/revokeScenario.ts";
import { runHumanGateScenario } from "../devnet/humanGateScenario.ts";
import { callerPath } from "./common.ts";

export const DEVNET_USAGE = `Usage:
  sentinel devnet [--nodes <n>] [--scenario upgrade|revoke|human-gate] [--exit] [--dir <dir>]
  sentinel devnet deploy --rpc <url>… --node-dir <dir>… --out <dir> --compile-cache <dir> [--node-host <pattern>]
      the chain side and each node's keys and config only, for docker-compose.yml (docs/operators.md)

A local network: two anvil chains with a registry each, n node processes (default 4), a sample
guarded vault. Submits a benign and a malicious upgrade per chain and shows the guard's answer.
Then deploys a fresh vault and prints a "try it" section: the whole protocol journey as
copy-paste commands (its values are in <dir>/manifest.json under tryIt, the vault's build-info
in <dir>/build-info.json). Ctrl-C (SIGINT, also to npm start's own process) or SIGTERM stops
everything and removes <dir>/manifest.json, so no tool reads a stopped network's addresses.

Options:
  --nodes <n>   network size, 1 to 64 (default 4)
  --scenario    upgrade (default): the demo above. revoke: an approved upgrade whose policy
                invariant is then broken on chain; the nodes revoke it on both chains and a
                pause-only guardian pauses the vault. The last line's JSON has the blocks from
                breach to recorded revocation on each chain; exit 0 only if revoked everywhere.
                human-gate: an upgrade whose policy requires 2 of 3 human approvers (two keys and a
                2-of-3 Safe): forged approvals refused, still pending with one approval, recorded on
                both chains after the second; exit 0 only if all of that held
  --exit        run the demo, print one JSON summary as the last line, exit 0 only if every outcome was right
  --dir <dir>   working directory, wiped at start (default .devnet, relative to where you run it)
`;

const DECISION_TIMEOUT_MS = 120_000;

interface CaseResult {
  chainId: number;
  kind: "benign" | "malicious";
  candidateId: Hex;
  expected: "APPROVE" | "REJECT";
  recordedOnAllChains: boolean;
  seconds: number;
  upgrade: string;
  ok: boolean;
}

export async function runDevnetCommand(argv: string[], io: CommandIo): Promise<number> {
  if (argv[0] === "deploy") return (await import("./devnetDeploy.ts")).runDevnetDeployCommand(argv.slice(1), io);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { nodes: { type: "string", default: "4" }, scenario: { type: "string", default: "upgrade" }, exit: { type: "boolean", default: false }, dir: { type: "string", default: ".devnet" } },
    }));
  } catch (error) {
    io.stderr(`sentinel devnet: ${(error as Error).message}\n\n${DEVNET_USAGE}`);
    return 2;
  }
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) {
    io.stderr("--nodes must be an integer from 1 to 64\n");
    return 2;
  }
  if (values.scenario !== "upgrade" && values.scenario !== "revoke" && values.scenario !== "human-gate") {
    io.stderr("--scenario must be upgrade, revoke or human-gate\n");
    return 2;
  }
  const say = (message: string) => io.stdout(`[devnet] ${message}\n`);
  say(`starting 2 chains and ${nodes} nodes in ${values.dir} ...`);
  let devnet: Devnet | undefined;
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    void devnet?.stop().then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    devnet = await startDevnet({ nodes, dir: callerPath(values.dir), log: say, nodeLogLevel: "info" });
    if (values.scenario === "revoke") {
      const result = await runRevokeScenario(devnet, say);
      say(result.ok ? `revoked on every chain, at most ${result.maxBlocks} block(s) after the breach; the guardian paused` : "NOT REVOKED EVERYWHERE (or not paused)");
      io.stdout(`${JSON.stringify({ ...result, nodes, threshold: devnet.committee.threshold, manifest: devnet.manifestPath })}\n`);
      if (values.exit) {
        await devnet.stop();
        return result.ok ? 0 : 1;
      }
      say("network running; Ctrl-C stops everything");
      await new Promise(() => {});
    }
    if (values.scenario === "human-gate") {
      const result = await runHumanGateScenario(devnet, say);
      say(result.ok ? "forged approvals refused; pending with one approval; approved on every chain after the second" : "THE HUMAN GATE DID NOT HOLD");
      io.stdout(`${JSON.stringify({ ...result, nodes, validatorThreshold: devnet.committee.threshold, manifest: devnet.manifestPath })}\n`);
      if (values.exit) {
        await devnet.stop();
        return result.ok ? 0 : 1;
      }
      say("network running; Ctrl-C stops everything");
      await new Promise(() => {});
    }
    const results = await runScenario(devnet, say);
    const ok = results.every((r) => r.ok);
    say(ok ? "every outcome as expected" : "SOME OUTCOMES WERE WRONG");
    say(`manifest: ${devnet.manifestPath}`);
    io.stdout(`${JSON.stringify({ ok, nodes, threshold: devnet.committee.threshold, manifest: devnet.manifestPath, results })}\n`);
    if (values.exit) {
      await devnet.stop();
      return ok ? 0 : 1;
    }
    io.stdout(tryItText(await prepareTryIt(devnet)));
    say("network running; Ctrl-C stops everything");
    await new Promise(() => {});
    return 0;
  } catch (error) {
    if (!interrupted) io.stderr(`devnet failed: ${(error as Error).stack ?? error}\n`);
    await devnet?.stop();
    return 1;
  }
}

export async function runScenario(devnet: Devnet, say: (message: string) => void): Promise<CaseResult[]> {
  const cases: { chain: DevnetChain; kind: "benign" | "malicious"; implementation: Address }[] = devnet.chains.flatMap((chain) => [
    { chain, kind: "benign" as const, implementation: chain.protocol.benign },
    { chain, kind: "malicious" as const, implementation: chain.protocol.malicious },
  ]);
  const submitted = await Promise.all(
    cases.map(async (c, i) => {
      const node = devnet.nodes[i % devnet.nodes.length]!;
      const candidateId = await submitCandidate(node, await signCandidate(devnet, c.chain, c.implementation, BigInt(i + 1)));
      say(`${c.kind} upgrade on chain ${c.chain.chainId} submitted to node ${node.index}: candidate ${candidateId.slice(0, 18)}…`);
      return { ...c, candidateId, codehash: await codehashOf(c.chain, c.implementation), started: Date.now() };
    }),
  );
  const results: CaseResult[] = [];
  for (const c of submitted) {
    const expected = c.kind === "benign" ? Outcome.Approve : Outcome.Reject;
    const subject = { chainId: c.chain.chainId, target: c.chain.protocol.proxy, codehash: c.codehash };
    const recorded = await waitForDecision(devnet, subject, expected, DECISION_TIMEOUT_MS);
    const seconds = (Date.now() - c.started) / 1000;
    say(`${c.kind} on chain ${c.chain.chainId}: ${recorded ? `${expected === Outcome.Approve ? "APPROVED" : "REJECTED"} on every chain` : "NOT recorded"} after ${seconds.toFixed(2)} s`);
    results.push({
      chainId: c.chain.chainId,
      kind: c.kind,
      candidateId: c.candidateId,
      expected: expected === Outcome.Approve ? "APPROVE" : "REJECT",
      recordedOnAllChains: recorded,
      seconds,
      upgrade: "",
      ok: recorded,
    });
  }
  // The protocol's owner now tries both upgrades: the guard consults the registry.
  for (const [i, c] of submitted.entries()) {
    const upgraded = await tryUpgrade(c.chain, c.implementation);
    const result = results[i]!;
    result.upgrade = upgraded ? "performed" : "refused by the guard";
    result.ok &&= upgraded === (c.kind === "benign");
    say(`${c.kind} upgrade on chain ${c.chain.chainId}: ${result.upgrade}`);
  }
  return results;
}

async function tryUpgrade(chain: DevnetChain, implementation: Address): Promise<boolean> {
  try {
    const { request } = await chain.client.simulateContract({
      account: chain.wallet.account,
      address: chain.protocol.proxy,
      abi: GuardedVaultV1.abi,
      functionName: "upgradeToAndCall",
      args: [implementation, "0x"],
    });
    const receipt = await chain.client.waitForTransactionReceipt({ hash: await chain.wallet.writeContract(request) });
    return receipt.status === "success";
  } catch {
    return false;
  }
}
