// `sentinel devnet --scenario human-gate`: a protocol whose policy requires 2 of 3 human
// approvers (two EOAs and a real 2-of-3 Safe) after the automated checks. A fresh guarded vault
// on the first chain enrolls that policy; its benign V2 passes every automated check and waits on
// every node. Forged approvals (another key claiming an approver, an approver's approval of
// another candidate relabelled) are refused and change no node's count; with the Safe's approval
// alone every node still waits and nothing is recorded; the second approval gets the upgrade
// attested and recorded on both chains.
import { encodeFunctionData, type Abi, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { SentinelRegistry, SentinelTestERC1967Proxy } from "../../artifacts/contracts.ts";
import { deployContract } from "../chains/deploy.ts";
import { SentinelClient, type ApprovalSubmission, type HumanGateStatus } from "../client/index.ts";
import { ClientError } from "../client/errors.ts";
import { BUNDLE_SCHEMA, parseBundle } from "../codec/bundle.ts";
import { joinSafeSignatures, safeApprovalTypedData, signedApprovalToJson, type SignedHumanApproval } from "../codec/humanApproval.ts";
import { DEFAULT_POLICY, parsePolicy, policyHash, type Policy } from "../codec/policy.ts";
import { humanApprovalDigest, Outcome, sentinelDomain, SENTINEL_TYPES, type HumanApproval } from "../codec/types.ts";
import { BuildCompiler } from "../verify/reproducibleBuild/index.ts";
import { codehashOf, compileProtocol, DEVNET_COMPILE_CACHE, decisionOn, signCandidate, sleep, submitCandidate, waitForDecision, type Devnet, type DevnetChain } from "./devnet.ts";
import { createSafe, deploySafeContracts } from "./safe.ts";
import { indexedTargets, waitIndexed } from "./indexing.ts";
import { deployBuild } from "./upgradeFixture.ts";

const submission = (approval: SignedHumanApproval) => signedApprovalToJson(approval) as ApprovalSubmission;

const DECISION_TIMEOUT_MS = 120_000;
/** Every node verifies the candidate (compiles, forks) before it can count approvals. */
const AWAIT_TIMEOUT_MS = 120_000;
/** With one approval, how long nothing may be recorded and every node must still be waiting. */
const PENDING_HOLD_MS = 5_000;

export interface HumanGateResult {
  ok: boolean;
  scenario: "human-gate";
  candidateId: Hex;
  target: Address;
  approvers: { address: Address; kind: "eoa" | "safe" }[];
  threshold: number;
  /** Each forged approval and the node's refusal code. */
  forged: { what: string; refused: string | null }[];
  /** Every node's count after the forged ones (all 0 when nothing changed). */
  countsAfterForged: number[];
  /** With one approval (the Safe's): every node's state, and what the registries recorded. */
  withOne: { states: string[]; counts: number[]; recorded: number[] };
  /** With `restartWhilePending`: the restarted node's count once it verified the candidate again (1: its stored approval kept). */
  afterRestart?: { node: number; count: number; state: string };
  /** After the second approval: APPROVE recorded on both chains. */
  approvedOnAllChains: boolean;
  seconds: { verified: number; attestedAfterSecond: number };
}

export async function runHumanGateScenario(devnet: Devnet, say: (message: string) => void, options: { restartWhilePending?: boolean } = {}): Promise<HumanGateResult> {
  const chain = devnet.chains[0]!;
  const eoas = [generatePrivateKey(), generatePrivateKey()].map((key) => privateKeyToAccount(key));
  const owners = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()].map((key) => privateKeyToAccount(key));
  const safe = await createSafe(chain.wallet, chain.client, await deploySafeContracts(chain.wallet, chain.client), owners.map((o) => o.address), 2);
  const policy = parsePolicy({ ...DEFAULT_POLICY, name: "sentinel-devnet-human-gate", requireHumanApproval: true, humanGate: { threshold: 2, approvers: [eoas[0]!.address, eoas[1]!.address, safe] } });
  say(`policy "${policy.name}": 2 of ${eoas[0]!.address}, ${eoas[1]!.address} and Safe ${safe} (2 of 3 owners)`);
  const indexedBefore = await indexedTargets(devnet, chain);
  const vault = await deployVault(devnet, chain, policy);
  await waitIndexed(devnet, chain, indexedBefore);

  const started = Date.now();
  const candidateId = await submitCandidate(devnet.nodes[0]!, await signCandidate(devnet, chain, vault.v2, 1n, vault.bundle, vault.proxy));
  const subject = { chainId: chain.chainId, target: vault.proxy, codehash: await codehashOf(chain, vault.v2) };
  say(`V2 submitted: candidate ${candidateId.slice(0, 18)}…; waiting until every node has verified it`);
  const clients = devnet.nodes.map((node) => new SentinelClient({ url: node.apiUrl }));
  const gates = await waitGates(clients, candidateId, (gate) => gate.state === "awaiting-approvals", AWAIT_TIMEOUT_MS);
  const findingsDigest = gates[0]!.findingsDigest;
  if (gates.some((gate) => gate.findingsDigest !== findingsDigest)) throw new Error("the nodes' automated findings digests differ");
  const verified = (Date.now() - started) / 1000;
  say(`every node awaits approvals (findings ${findingsDigest.slice(0, 18)}…), ${verified.toFixed(1)} s after submission`);

  const expiresAt = BigInt(Math.floor(Date.now() / 1000) + 3600);
  const approval: HumanApproval = { candidateId, findingsDigest, expiresAt };
  const signEoa = async (account: (typeof eoas)[number], message: HumanApproval) =>
    account.signTypedData({ domain: sentinelDomain(devnet.networkId), types: SENTINEL_TYPES, primaryType: "HumanApproval", message });

  // Forged: a stranger's signature claiming approver 0; approver 0's approval of another candidate, relabelled.
  const stranger = privateKeyToAccount(generatePrivateKey());
  const otherCandidate = { ...approval, candidateId: `0x${"5a".repeat(32)}` as Hex };
  const forgeries = [
    { what: "another key signing as an approver", body: { ...approval, approver: eoas[0]!.address, signature: await signEoa(stranger, approval) } },
    { what: "an approval of another candidate, relabelled", body: { ...approval, approver: eoas[0]!.address, signature: await signEoa(eoas[0]!, otherCandidate) } },
  ];
  const forged: HumanGateResult["forged"] = [];
  for (const { what, body } of forgeries) {
    let refused: string | null = null;
    try {
      await clients[1 % clients.length]!.approve(submission(body));
    } catch (error) {
      refused = error instanceof ClientError ? String(error.meta["apiCode"] ?? error.code) : String(error);
    }
    forged.push({ what, refused });
    say(`forged (${what}): ${refused ? `refused, ${refused}` : "ACCEPTED"}`);
  }
  const countsAfterForged = (await Promise.all(clients.map((c) => c.status(candidateId)))).map((s) => s?.humanGate?.count ?? -1);

  // The Safe's approval: two of its owners sign the SafeMessage wrapping the approval digest.
  const typed = safeApprovalTypedData(chain.chainId, safe, humanApprovalDigest(devnet.networkId, approval));
  const safeSignature = joinSafeSignatures(await Promise.all(owners.slice(1).map(async (o) => ({ owner: o.address, signature: await o.signTypedData(typed) }))));
  await clients[1 % clients.length]!.approve(submission({ ...approval, approver: safe, signature: safeSignature }));
  say("the Safe's approval (2 of its 3 owners) submitted to one node; it spreads to every node");
  await waitGates(clients, candidateId, (gate) => gate.count === 1, 30_000);
  await sleep(PENDING_HOLD_MS);
  const held = await Promise.all(clients.map((c) => c.status(candidateId)));
  const withOne = {
    states: held.map((s) => s?.humanGate?.state ?? "unknown"),
    counts: held.map((s) => s?.humanGate?.count ?? -1),
    recorded: await Promise.all(devnet.chains.map((c) => decisionOn(c, subject.chainId, subject.target, subject.codehash))),
  };
  say(`with one approval: states ${withOne.states.join(", ")}; recorded outcomes ${withOne.recorded.join(", ")} (0: none)`);

  let afterRestart: HumanGateResult["afterRestart"];
  if (options.restartWhilePending) {
    // A node restarted with one approval stored verifies the candidate again and still counts it.
    const node = devnet.nodes.at(-1)!;
    await node.stop();
    node.start();
    await node.waitReady();
    const [gate] = await waitGates([clients.at(-1)!], candidateId, (g) => g.state === "awaiting-approvals", AWAIT_TIMEOUT_MS);
    afterRestart = { node: node.index, count: gate!.count, state: gate!.state };
    say(`node ${node.index} restarted: ${gate!.state} with ${gate!.count} approval(s) from its store`);
  }

  const second = Date.now();
  await clients[2 % clients.length]!.approve(submission({ ...approval, approver: eoas[1]!.address, signature: await signEoa(eoas[1]!, approval) }));
  say("the second approval (an EOA) submitted to another node");
  const approvedOnAllChains = await waitForDecision(devnet, subject, Outcome.Approve, DECISION_TIMEOUT_MS);
  const attestedAfterSecond = (Date.now() - second) / 1000;
  say(approvedOnAllChains ? `APPROVED on every chain ${attestedAfterSecond.toFixed(2)} s after the second approval` : "NOT approved on every chain");

  const ok =
    forged.every((f) => f.refused !== null) &&
    countsAfterForged.every((c) => c === 0) &&
    withOne.states.every((s) => s === "awaiting-approvals") &&
    withOne.counts.every((c) => c === 1) &&
    withOne.recorded.every((o) => o === 0) &&
    (afterRestart === undefined || afterRestart.count === 1) &&
    approvedOnAllChains;
  return {
    ok,
    scenario: "human-gate",
    candidateId,
    target: vault.proxy,
    approvers: [...eoas.map((e) => ({ address: e.address, kind: "eoa" as const })), { address: safe, kind: "safe" as const }],
    threshold: 2,
    forged,
    countsAfterForged,
    withOne,
    ...(afterRestart !== undefined && { afterRestart }),
    approvedOnAllChains,
    seconds: { verified, attestedAfterSecond },
  };
}

/** Every node's gate for the candidate, once `ready` holds on all of them. */
async function waitGates(clients: SentinelClient[], candidateId: Hex, ready: (gate: HumanGateStatus) => boolean, timeoutMs: number): Promise<HumanGateStatus[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gates = (await Promise.all(clients.map((c) => c.status(candidateId)))).map((s) => s?.humanGate ?? null);
    if (gates.every((gate) => gate !== null && ready(gate))) return gates as HumanGateStatus[];
    if (Date.now() > deadline) throw new Error(`the nodes' gates did not get there in time: ${JSON.stringify(gates.map((g) => g && { state: g.state, count: g.count }))}`);
    await sleep(200);
  }
}

/** A fresh guarded vault (V1 behind a proxy) and its benign V2, the proposer enrolled under `policy`. */
async function deployVault(devnet: Devnet, chain: DevnetChain, policy: Policy): Promise<{ proxy: Address; v2: Address; bundle: ReturnType<typeof parseBundle> }> {
  const compiler = new BuildCompiler({ cacheDir: DEVNET_COMPILE_CACHE });
  try {
    const builds = await compileProtocol(compiler);
    const v1 = await deployBuild(chain, builds.v1, [chain.registry]);
    const v2 = await deployBuild(chain, builds.benign, [chain.registry]);
    const init = encodeFunctionData({ abi: builds.v1.contract.abi as Abi, functionName: "initialize", args: [chain.wallet.account.address, 100n] });
    const proxy = await deployContract(chain.wallet, chain.client, SentinelTestERC1967Proxy, [v1, init]);
    const hash = await chain.wallet.writeContract({ address: chain.registry, abi: SentinelRegistry.abi, functionName: "enroll", args: [proxy, [devnet.proposer.address], policyHash(policy)] });
    await chain.client.waitForTransactionReceipt({ hash });
    const bundle = parseBundle({ schema: BUNDLE_SCHEMA, implementation: builds.benign.spec, reference: { contract: builds.v1.spec.contract }, upgradeCall: "0x", policy });
    return { proxy, v2, bundle };
  } finally {
    await compiler.close();
  }
}

