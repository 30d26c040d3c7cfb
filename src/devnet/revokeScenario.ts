// `sentinel devnet --scenario revoke`: an approved upgrade whose invariant is later broken on
// chain. A pausable guarded vault on the first chain enrolls a policy with one invariant
// (value() ≤ 100); the network approves its V2, the owner upgrades, and a pause-only guardian
// (contracts/examples/PauseGuardian.sol) watches it. Both chains then mine a block a second, the
// owner breaks the invariant (value becomes 101), and the scenario measures, on each chain, the
// blocks from the breach to the recorded revocation, then has a stranger call the guardian.
import { encodeFunctionData, parseEventLogs, type Abi, type Address, type Hex } from "viem";
import { PausableGuardedVaultV2, PauseGuardian, SentinelRegistry, SentinelTestERC1967Proxy } from "../../artifacts/contracts.ts";
import { connectChain } from "../chains/clients.ts";
import { deployContract } from "../chains/deploy.ts";
import { BUNDLE_SCHEMA, parseBundle } from "../codec/bundle.ts";
import { DEFAULT_POLICY, parsePolicy, policyHash } from "../codec/policy.ts";
import { Outcome } from "../codec/types.ts";
import { BuildCompiler } from "../verify/reproducibleBuild/index.ts";
import { ANVIL_DEV_KEYS } from "./accounts.ts";
import { codehashOf, DEVNET_COMPILE_CACHE, signCandidate, sleep, submitCandidate, waitForDecision, type Devnet, type DevnetChain } from "./devnet.ts";
import { indexedTargets, waitIndexed } from "./indexing.ts";
import { deployBuild, fixtureInput } from "./upgradeFixture.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SOURCE = "contracts/test/PausableGuardedVault.sol";
const SETTINGS = { evmVersion: "prague", optimizer: { enabled: true, runs: 1000 } };
const COMPILER = "0.8.37";
const DECISION_TIMEOUT_MS = 120_000;
/** Breach to revocation is expected within a few blocks; past this the scenario has failed. */
const REVOCATION_TIMEOUT_MS = 60_000;
/** The issue's bar: revocation recorded on every chain within this many blocks of the breach. */
export const REVOCATION_BLOCK_BAR = 5;

export const REVOKE_POLICY = parsePolicy({
  ...DEFAULT_POLICY,
  name: "sentinel-devnet-revoke",
  invariants: [{ name: "value-capped", function: "function value() view returns (uint256)", args: [], relation: "lte", value: "100" }],
});

export interface ChainRevocation {
  chainId: number;
  /** This chain's block number when the breach was mined (on the breached chain: the breach's block). */
  breachBlock: string;
  revokedBlock: string | null;
  blocks: number | null;
  isApproved: boolean;
}

export interface RevokeResult {
  ok: boolean;
  scenario: "revoke";
  candidateId: Hex;
  target: Address;
  codehash: Hex;
  invariant: string;
  chains: ChainRevocation[];
  /** The most blocks any chain took from breach to recorded revocation. */
  maxBlocks: number | null;
  withinBar: boolean;
  paused: boolean;
}

export async function runRevokeScenario(devnet: Devnet, say: (message: string) => void): Promise<RevokeResult> {
  const chain = devnet.chains[0]!;
  const indexedBefore = await indexedTargets(devnet, chain);
  const vault = await deployVault(devnet, chain);
  say(`pausable vault ${vault.proxy} on chain ${chain.chainId}, policy "${REVOKE_POLICY.name}" (invariant value() <= 100), guardian ${vault.guardian}`);
  await waitIndexed(devnet, chain, indexedBefore);

  const candidateId = await submitCandidate(devnet.nodes[0]!, await signCandidate(devnet, chain, vault.v2, 1n, vault.bundle, vault.proxy));
  const codehash = await codehashOf(chain, vault.v2);
  const subject = { chainId: chain.chainId, target: vault.proxy, codehash };
  if (!(await waitForDecision(devnet, subject, Outcome.Approve, DECISION_TIMEOUT_MS))) throw new Error("the V2 upgrade was not approved on every chain");
  say(`V2 approved on every chain (candidate ${candidateId.slice(0, 18)}…); the owner upgrades`);
  await mined(chain, chain.wallet.writeContract({ address: vault.proxy, abi: PausableGuardedVaultV2.abi, functionName: "upgradeToAndCall", args: [vault.v2, "0x"] }));

  // From here on, blocks come at a steady second on both chains, so "blocks to revocation" means something.
  for (const c of devnet.chains) {
    await c.client.request({ method: "evm_setAutomine" as never, params: [false] as never });
    await c.client.request({ method: "evm_setIntervalMining" as never, params: [1] as never });
  }
  await waitMonitoring(devnet);
  say("every node monitors the approved code; the owner now breaks the invariant");
  const breach = await mined(chain, chain.wallet.writeContract({ address: vault.proxy, abi: PausableGuardedVaultV2.abi, functionName: "increment" }));
  // The other chains' "breach block": theirs when the breach's receipt arrived.
  const atBreach = await Promise.all(devnet.chains.map((c) => c.client.getBlockNumber({ cacheTime: 0 })));
  const breachBlocks = devnet.chains.map((c, i) => (c === chain ? breach : atBreach[i]!));

  const revoked = await waitForDecision(devnet, subject, Outcome.Revoke, REVOCATION_TIMEOUT_MS);
  const chains: ChainRevocation[] = [];
  for (const [i, c] of devnet.chains.entries()) {
    const revokedBlock = await revocationBlock(c, vault.proxy, codehash);
    const isApproved = await c.client.readContract({ address: c.registry, abi: SentinelRegistry.abi, functionName: "isApproved", args: [BigInt(chain.chainId), vault.proxy, codehash] });
    const blocks = revokedBlock === undefined ? null : Number(revokedBlock - breachBlocks[i]!);
    chains.push({ chainId: c.chainId, breachBlock: breachBlocks[i]!.toString(), revokedBlock: revokedBlock?.toString() ?? null, blocks, isApproved });
    say(`chain ${c.chainId}: ${revokedBlock === undefined ? "NOT revoked" : `revoked in block ${revokedBlock}, ${blocks} block(s) after the breach`}; isApproved ${isApproved}`);
  }

  // A stranger (not the owner) asks the guardian to act on the recorded revocation.
  const stranger = connectChain(chain.chainId, chain.anvil.rpcUrl, ANVIL_DEV_KEYS[5]!);
  let paused = false;
  try {
    const { request } = await stranger.client.simulateContract({ account: stranger.wallet.account, address: vault.guardian, abi: PauseGuardian.abi, functionName: "pauseOnRevocation" });
    await mined(stranger, stranger.wallet.writeContract(request));
    paused = await chain.client.readContract({ address: vault.proxy, abi: PausableGuardedVaultV2.abi, functionName: "paused" });
  } catch (error) {
    say(`the guardian did not pause: ${(error as Error).message.split("\n")[0]}`);
  }
  say(paused ? "the pause-only guardian paused the vault" : "the vault is NOT paused");
  const counts = chains.map((c) => c.blocks);
  const maxBlocks = counts.some((b) => b === null) ? null : Math.max(...(counts as number[]));
  const everywhere = revoked && chains.every((c) => c.revokedBlock !== null && !c.isApproved);
  return {
    ok: everywhere && paused,
    scenario: "revoke",
    candidateId,
    target: vault.proxy,
    codehash,
    invariant: REVOKE_POLICY.invariants[0]!.name,
    chains,
    maxBlocks,
    withinBar: maxBlocks !== null && maxBlocks <= REVOCATION_BLOCK_BAR,
    paused,
  };
}

interface Vault {
  proxy: Address;
  v2: Address;
  guardian: Address;
  bundle: ReturnType<typeof parseBundle>;
}

/** Deploys V1 behind a proxy, V2 and the guardian, and enrolls the proposer under REVOKE_POLICY. */
async function deployVault(devnet: Devnet, chain: DevnetChain): Promise<Vault> {
  const compiler = new BuildCompiler({ cacheDir: DEVNET_COMPILE_CACHE });
  try {
    const version = await compiler.compilers.fullVersion(COMPILER);
    const input = fixtureInput(ROOT, [SOURCE], SETTINGS);
    const [v1Build, v2Build] = await Promise.all([
      compiler.build({ compiler: version, contract: `${SOURCE}:PausableGuardedVaultV1`, input }),
      compiler.build({ compiler: version, contract: `${SOURCE}:PausableGuardedVaultV2`, input }),
    ]);
    const owner = chain.wallet.account.address;
    const v1 = await deployBuild(chain, v1Build, [chain.registry]);
    const v2 = await deployBuild(chain, v2Build, [chain.registry]);
    const init = encodeFunctionData({ abi: v1Build.contract.abi as Abi, functionName: "initialize", args: [owner, 100n] });
    const proxy = await deployContract(chain.wallet, chain.client, SentinelTestERC1967Proxy, [v1, init]);
    const guardian = await deployContract(chain.wallet, chain.client, PauseGuardian, [chain.registry, proxy]);
    await mined(chain, chain.wallet.writeContract({ address: proxy, abi: PausableGuardedVaultV2.abi, functionName: "setGuardian", args: [guardian] }));
    await mined(chain, chain.wallet.writeContract({ address: chain.registry, abi: SentinelRegistry.abi, functionName: "enroll", args: [proxy, [devnet.proposer.address], policyHash(REVOKE_POLICY)] }));
    const bundle = parseBundle({ schema: BUNDLE_SCHEMA, implementation: v2Build.spec, reference: { contract: v1Build.spec.contract }, upgradeCall: "0x", policy: REVOKE_POLICY });
    return { proxy, v2, guardian, bundle };
  } finally {
    await compiler.close();
  }
}

/** Waits until every node's monitor has read the approved code's invariants at least once. */
async function waitMonitoring(devnet: Devnet): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const node of devnet.nodes) {
    while (!(((await (await fetch(`${node.apiUrl}/v1/monitoring`)).json()) as { stats: { readings: number } }).stats.readings > 0)) {
      if (Date.now() > deadline) throw new Error(`node ${node.index}'s monitor read nothing; see ${node.logPath}`);
      await sleep(100);
    }
  }
}

async function revocationBlock(chain: DevnetChain, target: Address, codehash: Hex): Promise<bigint | undefined> {
  const logs = await chain.client.getLogs({ address: chain.registry, fromBlock: 0n, toBlock: "latest" });
  const revoke = parseEventLogs({ abi: SentinelRegistry.abi, logs, eventName: "VerdictRecorded" }).find(
    (log) => log.args.target?.toLowerCase() === target.toLowerCase() && log.args.codehash === codehash && log.args.outcome === Outcome.Revoke,
  );
  return revoke?.blockNumber ?? undefined;
}

async function mined(chain: { client: DevnetChain["client"] }, hash: Promise<Hex>): Promise<bigint> {
  const receipt = await chain.client.waitForTransactionReceipt({ hash: await hash });
  if (receipt.status !== "success") throw new Error(`transaction ${receipt.transactionHash} reverted`);
  return receipt.blockNumber;
}
