// A local Sentinel network for demos, end-to-end tests and benchmarks: anvil chains with a
// registry each, a sample upgradeable protocol enrolled with a proposer, and N nodes running as
// separate processes with their own keystores, configs, data directories and libp2p identities.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { freePorts, sleep } from "./ports.ts";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { tmpdir } from "node:os";
import { encodeFunctionData, keccak256, stringToHex, type Abi, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { SentinelRegistry, SentinelTestERC1967Proxy } from "../../artifacts/contracts.ts";
import { connectChain, type ChainClients } from "../chains/clients.ts";
import { deployContract } from "../chains/deploy.ts";
import { BUNDLE_SCHEMA, bundleHash, parseBundle, type BuildSpec, type SourceBundle } from "../codec/bundle.ts";
import { BuildCompiler } from "../verify/reproducibleBuild/index.ts";
import type { CompiledBuild } from "../verify/context.ts";
import { DEFAULT_POLICY, policyHash } from "../codec/policy.ts";
import { deployBuild, fixtureInput } from "./upgradeFixture.ts";
import { deployRegistry } from "../chains/registry.ts";
import { candidateTypedData, signedCandidateToJson, type Candidate } from "../codec/candidate.ts";
import { sentinelDomain } from "../codec/types.ts";
import { signProofOfPossession } from "../consensus/validatorSet.ts";
import { createKeystore, INSECURE_FAST_KDF, writeKeystore } from "../crypto/keystore.ts";
import { writeP2pKey } from "../node/p2pKey.ts";
import { ANVIL_DEV_KEYS } from "./accounts.ts";
import { AnvilProcesses, type AnvilInstance } from "../verify/shadow/anvil.ts";
import { LocalCommittee } from "./committee.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "src/cli/sentinel.ts");
export { freePorts, sleep } from "./ports.ts";
export const PASSWORD = "devnet-password";
/**
 * Compiled outputs are shared by every devnet and its nodes on this machine: the nodes recompile
 * what the devnet compiled to deploy, and solc-js takes seconds per contract.
 */
export const DEVNET_COMPILE_CACHE = join(tmpdir(), "sentinel-compile-cache");
/** The demo protocol: a Sentinel-guarded UUPS vault, a benign V2 and a malicious one. */
const PROTOCOL_SOURCES = ["contracts/test/GuardedVault.sol", "contracts/test/DrainableVault.sol"];
const PROTOCOL_SETTINGS = { evmVersion: "prague", optimizer: { enabled: true, runs: 1000 } };
const PROTOCOL_COMPILER = "0.8.37";
/** How long a node process may take to answer /ready. */
const NODE_READY_TIMEOUT_MS = 60_000;
/** A node polls its chains for new enrollments every second: a new protocol is indexed well within this. */
const INDEXED_TIMEOUT_MS = 30_000;

export interface DevnetOptions {
  nodes: number;
  /** Working directory: keystores, configs, data, logs, manifest. Wiped at start. */
  dir: string;
  chainIds?: number[];
  networkName?: string;
  nodeLogLevel?: string;
  /** Each chain's `confirmations` in the nodes' configs (default: the config's default). */
  confirmations?: number;
  log?: (message: string) => void;
  /** Node `index`'s `notifications` config section (webhooks), if any. */
  notifications?: (index: number) => unknown;
}

export interface DevnetChain extends ChainClients {
  chainId: number;
  anvil: AnvilInstance;
  registry: Address;
  protocol: DevnetProtocol;
}

export interface DevnetProtocol {
  proxy: Address;
  benign: Address;
  malicious: Address;
  /** The source bundles a proposer submits with each candidate implementation. */
  bundles: { benign: SourceBundle; malicious: SourceBundle };
}

export class DevnetNode {
  readonly index: number;
  readonly configPath: string;
  readonly dataDir: string;
  readonly apiUrl: string;
  readonly peerId: string;
  /** The full libp2p address other peers dial, ending in /p2p/<peerId>. */
  readonly p2pAddress: string;
  readonly logPath: string;
  private child: ChildProcess | undefined;

  constructor(fields: { index: number; configPath: string; dataDir: string; apiUrl: string; peerId: string; p2pAddress: string; logPath: string }) {
    this.index = fields.index;
    this.p2pAddress = fields.p2pAddress;
    this.configPath = fields.configPath;
    this.dataDir = fields.dataDir;
    this.apiUrl = fields.apiUrl;
    this.peerId = fields.peerId;
    this.logPath = fields.logPath;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How the last process ended: its signal ("SIGKILL") or exit code; undefined while it runs. */
  get exit(): string | number | undefined {
    return this.running ? undefined : (this.child?.signalCode ?? this.child?.exitCode ?? undefined);
  }

  /** Spawns the node process, `env` added to ours (how the crash campaign arms fault points); its output goes to its log file. */
  start(env: Record<string, string> = {}): void {
    if (this.running) return;
    const log = createWriteStream(this.logPath, { flags: "a" });
    const child = spawn(process.execPath, [CLI, "node", "start", "--config", this.configPath], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    // A failed spawn (the runtime's binary gone) is the log's to say; waitReady then times out.
    child.once("error", (error) => log.write(`cannot spawn the node: ${error.message}\n`));
    this.child = child;
  }

  async waitReady(timeoutMs = NODE_READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child && !this.running) throw new Error(`node ${this.index} exited (${this.child.exitCode ?? this.child.signalCode}); see ${this.logPath}`);
      try {
        const response = await fetch(`${this.apiUrl}/ready`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`node ${this.index} not ready after ${timeoutMs} ms; see ${this.logPath}`);
  }

  async health(): Promise<{ peers: number } & Record<string, unknown>> {
    return (await (await fetch(`${this.apiUrl}/health`)).json()) as { peers: number };
  }

  /** One sample of the node's /metrics: `series` is the name with its labels, as printed. */
  async metric(series: string): Promise<number | undefined> {
    const text = await (await fetch(`${this.apiUrl}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  }

  /** SIGKILL: a crash, nothing flushed beyond what the node already fsync'd. */
  kill(): Promise<void> {
    return this.signal("SIGKILL");
  }

  stop(): Promise<void> {
    return this.signal("SIGTERM");
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      child.kill(signal);
    });
  }
}

export interface Devnet {
  networkId: Hex;
  dir: string;
  committee: LocalCommittee;
  chains: DevnetChain[];
  nodes: DevnetNode[];
  proposer: { address: Address; privateKey: Hex };
  manifestPath: string;
  stop(): Promise<void>;
}

export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  const log = options.log ?? (() => {});
  const dir = resolve(options.dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const networkId = keccak256(stringToHex(options.networkName ?? `sentinel-devnet-${Date.now()}`));
  const committee = LocalCommittee.generate(options.nodes, networkId);
  const proposerKey = generatePrivateKey();
  const proposer = { address: privateKeyToAccount(proposerKey).address, privateKey: proposerKey };
  const anvils: AnvilInstance[] = [];
  const nodes: DevnetNode[] = [];
  // The devnet owns its chains: stop() ends them, and a process that exits without it kills them.
  const chainProcesses = new AnvilProcesses();
  // A manifest outliving its network would hand tools a dead network's addresses.
  const manifestPath = join(dir, "manifest.json");
  const killChains = () => {
    rmSync(manifestPath, { force: true });
    chainProcesses.killAll();
  };
  process.once("exit", killChains);
  const stop = async () => {
    rmSync(manifestPath, { force: true });
    await Promise.all(nodes.map((node) => node.stop()));
    await Promise.all(anvils.map((anvil) => anvil.stop()));
    process.off("exit", killChains);
  };

  const compiler = new BuildCompiler({ cacheDir: DEVNET_COMPILE_CACHE });
  try {
    const builds = await compileProtocol(compiler);
    const chains: DevnetChain[] = [];
    for (const chainId of options.chainIds ?? [31337, 31338]) {
      const anvil = await chainProcesses.start({ chainId });
      anvils.push(anvil);
      chains.push(await deployChain(anvil, chainId, networkId, committee, proposer.address, builds));
      log(`chain ${chainId} at ${anvil.rpcUrl}: registry ${chains.at(-1)!.registry}, protocol proxy ${chains.at(-1)!.protocol.proxy}`);
    }

    const ports = await freePorts(options.nodes * 2);
    const identities = await Promise.all(committee.secretKeys.map(() => generateKeyPair("Ed25519")));
    const peerIds = identities.map((key) => peerIdFromPrivateKey(key).toString());
    const p2pAddress = (i: number) => `/ip4/127.0.0.1/tcp/${ports[2 * i]}/p2p/${peerIds[i]}`;
    for (let i = 0; i < options.nodes; i++) {
      const nodeDir = join(dir, `node${i}`);
      const dataDir = join(nodeDir, "data");
      mkdirSync(dataDir, { recursive: true });
      writeP2pKey(dataDir, identities[i]!);
      writeFileSync(join(nodeDir, "password"), PASSWORD, { mode: 0o600 });
      writeKeystore(join(nodeDir, "keystore.json"), await createKeystore(committee.secretKeys[i]!, PASSWORD, { kdf: INSECURE_FAST_KDF }));
      const relayerKey = generatePrivateKey();
      writeFileSync(join(nodeDir, "relayer.key"), relayerKey, { mode: 0o600 });
      for (const chain of chains) await fund(chain, privateKeyToAccount(relayerKey).address);
      const config = {
        networkId,
        dataDir: "./data",
        p2p: {
          listen: [`/ip4/127.0.0.1/tcp/${ports[2 * i]}`],
          bootstrap: peerIds.flatMap((_, j) => (j === i ? [] : [p2pAddress(j)])),
        },
        api: { host: "127.0.0.1", port: ports[2 * i + 1] },
        validator: { keystore: "./keystore.json", passwordFile: "./password", rotationApprovals: "./rotation-approvals.json" },
        relayer: { enabled: true, privateKeyFile: "./relayer.key" },
        chains: chains.map((c) => ({ chainId: c.chainId, rpcUrl: c.anvil.rpcUrl, registry: c.registry, ...(options.confirmations !== undefined && { confirmations: options.confirmations }) })),
        logLevel: options.nodeLogLevel ?? "info",
        verification: { compileCacheDir: DEVNET_COMPILE_CACHE },
        ...(options.notifications?.(i) !== undefined && { notifications: options.notifications(i) }),
      };
      const configPath = join(nodeDir, "config.json");
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      nodes.push(
        new DevnetNode({
          index: i,
          configPath,
          dataDir,
          apiUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
          peerId: peerIds[i]!,
          p2pAddress: p2pAddress(i),
          logPath: join(nodeDir, "node.log"),
        }),
      );
    }
    for (const node of nodes) node.start();
    await Promise.all(nodes.map((node) => node.waitReady()));
    await waitForPeers(nodes, Math.min(options.nodes - 1, 6));
    log(`${options.nodes} nodes ready (separate processes), threshold ${committee.threshold} of ${committee.size}`);

    writeFileSync(
      manifestPath,
      JSON.stringify(
        {
          networkId,
          chains: chains.map((c) => ({
            chainId: c.chainId,
            rpcUrl: c.anvil.rpcUrl,
            registry: c.registry,
            protocol: { proxy: c.protocol.proxy, benign: c.protocol.benign, malicious: c.protocol.malicious },
          })),
          nodes: nodes.map((n) => ({ index: n.index, apiUrl: n.apiUrl, peerId: n.peerId, config: n.configPath, log: n.logPath })),
          proposer,
          threshold: committee.threshold,
        },
        null,
        2,
      ),
    );
    return { networkId, dir, committee, chains, nodes, proposer, manifestPath, stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    await compiler.close();
  }
}

export interface ProtocolBuilds {
  v1: CompiledBuild;
  benign: CompiledBuild;
  malicious: CompiledBuild;
}

/** The demo protocol compiled from its sources, exactly as the nodes will recompile it. */
export async function compileProtocol(compiler: BuildCompiler): Promise<ProtocolBuilds> {
  const version = await compiler.compilers.fullVersion(PROTOCOL_COMPILER);
  const input = fixtureInput(ROOT, PROTOCOL_SOURCES, PROTOCOL_SETTINGS);
  const spec = (contract: string): BuildSpec => ({ compiler: version, contract, input });
  const [v1, benign, malicious] = await Promise.all([
    compiler.build(spec("contracts/test/GuardedVault.sol:GuardedVaultV1")),
    compiler.build(spec("contracts/test/GuardedVault.sol:GuardedVaultV2")),
    compiler.build(spec("contracts/test/DrainableVault.sol:DrainableVault")),
  ]);
  return { v1, benign, malicious };
}

function protocolBundle(implementation: CompiledBuild, reference: CompiledBuild): SourceBundle {
  return parseBundle({
    schema: BUNDLE_SCHEMA,
    implementation: implementation.spec,
    reference: { contract: reference.spec.contract },
    upgradeCall: "0x",
    policy: DEFAULT_POLICY,
  });
}

/**
 * A fresh proxy (and candidate implementations) on every chain, its proposer enrolled: a new
 * subject for each test. With `indexed`, returns once every running node's enrollment index
 * holds it, as it would for a protocol that enrolled well before proposing.
 */
export async function addProtocol(devnet: Devnet, options: { indexed?: boolean } = {}): Promise<void> {
  const running = devnet.nodes.filter((node) => node.running);
  const indexedTargets = (node: DevnetNode, chain: DevnetChain) => node.metric(`sentinel_enrollment_index_targets{chain="${chain.chainId}"}`);
  const before = options.indexed ? await Promise.all(running.map((node) => Promise.all(devnet.chains.map((chain) => indexedTargets(node, chain))))) : [];
  const compiler = new BuildCompiler({ cacheDir: DEVNET_COMPILE_CACHE });
  try {
    const builds = await compileProtocol(compiler);
    for (const chain of devnet.chains) chain.protocol = await deployProtocol(chain, chain.registry, devnet.proposer.address, builds);
  } finally {
    await compiler.close();
  }
  if (!options.indexed) return;
  const deadline = Date.now() + INDEXED_TIMEOUT_MS;
  for (const [i, node] of running.entries()) {
    for (const [j, chain] of devnet.chains.entries()) {
      while (((await indexedTargets(node, chain)) ?? 0) <= (before[i]![j] ?? 0)) {
        if (Date.now() > deadline) throw new Error(`node ${node.index} did not index the new protocol on chain ${chain.chainId}; see ${node.logPath}`);
        await sleep(50);
      }
    }
  }
}

export async function deployProtocol(clients: ChainClients, registry: Address, proposer: Address, builds: ProtocolBuilds): Promise<DevnetProtocol> {
  const deploy = (build: CompiledBuild, args: readonly unknown[]) => deployBuild(clients, build, args);
  const owner = clients.wallet.account.address;
  const v1 = await deploy(builds.v1, [registry]);
  const proxy = await deployContract(clients.wallet, clients.client, SentinelTestERC1967Proxy, [
    v1,
    encodeFunctionData({ abi: builds.v1.contract.abi as Abi, functionName: "initialize", args: [owner, 100n] }),
  ]);
  const benign = await deploy(builds.benign, [registry]);
  const malicious = await deploy(builds.malicious, [registry]);
  // The proxy's owner() is its upgrade authority: it enrolls the proposer.
  const hash = await clients.wallet.writeContract({
    address: registry,
    abi: SentinelRegistry.abi,
    functionName: "enroll",
    args: [proxy, [proposer], policyHash(DEFAULT_POLICY)],
  });
  await clients.client.waitForTransactionReceipt({ hash });
  return {
    proxy,
    benign,
    malicious,
    bundles: { benign: protocolBundle(builds.benign, builds.v1), malicious: protocolBundle(builds.malicious, builds.v1) },
  };
}

async function deployChain(
  anvil: AnvilInstance,
  chainId: number,
  networkId: Hex,
  committee: LocalCommittee,
  proposer: Address,
  builds: ProtocolBuilds,
): Promise<DevnetChain> {
  const clients = connectChain(chainId, anvil.rpcUrl, ANVIL_DEV_KEYS[0]!);
  const { address: registry } = await deployRegistry(clients, {
    networkId,
    rotationGracePeriodSeconds: 3600n,
    genesis: { keys: committee.publicKeys, proofs: committee.secretKeys.map((sk) => signProofOfPossession(sk, networkId)), threshold: committee.threshold },
  });
  return { ...clients, chainId, anvil, registry, protocol: await deployProtocol(clients, registry, proposer, builds) };
}

export async function fund(chain: ChainClients, address: Address): Promise<void> {
  await chain.client.request({ method: "anvil_setBalance" as never, params: [address, "0x56bc75e2d63100000"] as never });
}

/** A candidate for `implementation` on `chain`, signed by the devnet's proposer, with its bundle: the body to POST. */
/** `binding`: the operation (timelock operation id, Safe transaction hash) the approval is limited to. */
export async function signCandidate(devnet: Devnet, chain: DevnetChain, implementation: Address, nonce: bigint, bundleOverride?: SourceBundle, target = chain.protocol.proxy, binding?: Hex) {
  const bundle = bundleOverride ?? (implementation === chain.protocol.malicious ? chain.protocol.bundles.malicious : chain.protocol.bundles.benign);
  const now = BigInt(Math.floor(Date.now() / 1000));
  const candidate: Candidate = {
    chainId: BigInt(chain.chainId),
    target,
    implementation,
    sourceHash: bundleHash(bundle),
    policyHash: policyHash(bundle.policy),
    blockNumber: await chain.client.getBlockNumber({ cacheTime: 0 }),
    nonce,
    createdAt: now,
    expiresAt: now + 86_400n,
    ...(binding !== undefined ? { binding } : {}),
  };
  const signature = await privateKeyToAccount(devnet.proposer.privateKey).signTypedData({
    domain: sentinelDomain(devnet.networkId),
    ...candidateTypedData(candidate),
  });
  return { ...signedCandidateToJson({ candidate, signature }), bundle };
}

/** POSTs a candidate to a node's API; returns its id. */
export async function submitCandidate(node: DevnetNode, body: unknown): Promise<Hex> {
  const response = await fetch(`${node.apiUrl}/v1/candidates`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { candidateId?: Hex; error?: string; message?: string };
  if (!response.ok || !json.candidateId) throw new Error(`candidate refused: ${response.status} ${json.error}: ${json.message}`);
  return json.candidateId;
}

/** The registry's decision for (chain, target, codehash) on `registryChain`: 0 none, 1 approve, 2 reject, 3 revoke. */
export async function decisionOn(registryChain: DevnetChain, chainId: number, target: Address, codehash: Hex): Promise<number> {
  const decision = await registryChain.client.readContract({
    address: registryChain.registry,
    abi: SentinelRegistry.abi,
    functionName: "decisionOf",
    args: [BigInt(chainId), target, codehash],
  });
  return decision.outcome;
}

export async function codehashOf(chain: DevnetChain, address: Address): Promise<Hex> {
  return keccak256((await chain.client.getCode({ address }))!);
}

/** Waits until every chain's registry records `outcome` for the subject; false on timeout. */
export async function waitForDecision(
  devnet: Devnet,
  subject: { chainId: number; target: Address; codehash: Hex },
  outcome: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const outcomes = await Promise.all(devnet.chains.map((c) => decisionOn(c, subject.chainId, subject.target, subject.codehash)));
    if (outcomes.every((o) => o === outcome)) return true;
    await sleep(50);
  }
  return false;
}

async function waitForPeers(nodes: DevnetNode[], minimum: number): Promise<void> {
  const deadline = Date.now() + NODE_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const peers = await Promise.all(nodes.map(async (node) => (await node.health()).peers));
    if (peers.every((count) => count >= minimum)) {
      // Gossipsub grafts meshes on its heartbeat (1 s): give it two before publishing.
      await sleep(2_000);
      return;
    }
    await sleep(200);
  }
  throw new Error(`nodes did not connect to ${minimum} peers each within ${NODE_READY_TIMEOUT_MS} ms`);
}
