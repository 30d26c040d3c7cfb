// The one-shot deployer of the Docker Compose network (docker-compose.yml): the devnet's chain
// side (a registry with a fresh validator set on every chain, the sample guarded vault enrolled
// with a proposer) against chains someone else runs, plus each node's keystore, keys and config
// written into that node's own directory (its volume). Unlike startDevnet it starts no process:
// compose runs the chains and the nodes, each in its own container, reached by service name.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { createPublicClient, http, keccak256, stringToHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { connectChain } from "../chains/clients.ts";
import { deployRegistry } from "../chains/registry.ts";
import { signProofOfPossession } from "../consensus/validatorSet.ts";
import { createKeystore, INSECURE_FAST_KDF, writeKeystore } from "../crypto/keystore.ts";
import { writeP2pKey } from "../node/p2pKey.ts";
import { BuildCompiler } from "../verify/reproducibleBuild/index.ts";
import { ANVIL_DEV_KEYS } from "./accounts.ts";
import { LocalCommittee } from "./committee.ts";
import { compileProtocol, deployProtocol, fund, type DevnetProtocol } from "./devnet.ts";

/** The node's ports inside its container; compose publishes the API on loopback only. */
export const COMPOSE_P2P_PORT = 9000;
export const COMPOSE_API_PORT = 8080;
const PASSWORD = "devnet-password";
/** Chains start alongside the deployer: it waits this long for each to answer. */
const CHAIN_WAIT_MS = 60_000;

export interface ComposeDeployOptions {
  /** Each chain's JSON-RPC as the nodes reach it (service name), e.g. http://chain-a:8545. */
  rpcUrls: string[];
  /** One directory per node, in order: the node's volume, its previous contents replaced. */
  nodeDirs: string[];
  /** Node i's host name on the compose network (its service name). */
  nodeHost: (index: number) => string;
  /** Where manifest.json goes (what a client needs to propose the demo upgrades). */
  outDir: string;
  /** Shared by the deployer and the nodes: the nodes recompile what the deployer compiled. */
  compileCacheDir: string;
  networkName?: string;
  log?: (message: string) => void;
}

export interface ComposeManifest {
  networkId: Hex;
  threshold: number;
  proposer: { address: Address; privateKey: Hex };
  chains: { chainId: number; rpcUrl: string; registry: Address; protocol: DevnetProtocol }[];
  nodes: { index: number; host: string; peerId: string; apiPort: number }[];
}

export async function deployComposeNetwork(options: ComposeDeployOptions): Promise<ComposeManifest> {
  const log = options.log ?? (() => {});
  const existing = await deployedAlready(options);
  if (existing) {
    log(`already deployed on these chains (registries ${existing.chains.map((c) => c.registry).join(", ")}): nothing to do`);
    return existing;
  }
  // anvil keeps no state: chains that start afresh get a new network, keys and all.
  const networkId = keccak256(stringToHex(options.networkName ?? `sentinel-compose-${Date.now()}`));
  const committee = LocalCommittee.generate(options.nodeDirs.length, networkId);
  const proposerKey = generatePrivateKey();
  const proposer = { address: privateKeyToAccount(proposerKey).address, privateKey: proposerKey };

  const compiler = new BuildCompiler({ cacheDir: options.compileCacheDir });
  const chains: ComposeManifest["chains"] = [];
  try {
    const builds = await compileProtocol(compiler);
    for (const rpcUrl of options.rpcUrls) {
      const chainId = await waitForChain(rpcUrl);
      const clients = connectChain(chainId, rpcUrl, ANVIL_DEV_KEYS[0]!);
      const { address: registry } = await deployRegistry(clients, {
        networkId,
        rotationGracePeriodSeconds: 3600n,
        genesis: { keys: committee.publicKeys, proofs: committee.secretKeys.map((sk) => signProofOfPossession(sk, networkId)), threshold: committee.threshold },
      });
      const protocol = await deployProtocol(clients, registry, proposer.address, builds);
      chains.push({ chainId, rpcUrl, registry, protocol });
      log(`chain ${chainId} at ${rpcUrl}: registry ${registry}, protocol proxy ${protocol.proxy}`);
    }
  } finally {
    await compiler.close();
  }

  const identities = await Promise.all(options.nodeDirs.map(() => generateKeyPair("Ed25519")));
  const peerIds = identities.map((key) => peerIdFromPrivateKey(key).toString());
  const p2pAddress = (i: number) => `/dns4/${options.nodeHost(i)}/tcp/${COMPOSE_P2P_PORT}/p2p/${peerIds[i]}`;
  for (const [i, nodeDir] of options.nodeDirs.entries()) {
    // The directory is a volume's mount point: empty it, keep it.
    mkdirSync(nodeDir, { recursive: true });
    for (const entry of readdirSync(nodeDir)) rmSync(join(nodeDir, entry), { recursive: true, force: true });
    const dataDir = join(nodeDir, "data");
    mkdirSync(dataDir);
    writeP2pKey(dataDir, identities[i]!);
    writeFileSync(join(nodeDir, "password"), PASSWORD, { mode: 0o600 });
    writeKeystore(join(nodeDir, "keystore.json"), await createKeystore(committee.secretKeys[i]!, PASSWORD, { kdf: INSECURE_FAST_KDF }));
    const relayerKey = generatePrivateKey();
    writeFileSync(join(nodeDir, "relayer.key"), relayerKey, { mode: 0o600 });
    for (const chain of chains) await fund(connectChain(chain.chainId, chain.rpcUrl, ANVIL_DEV_KEYS[0]!), privateKeyToAccount(relayerKey).address);
    const config = {
      networkId,
      name: options.nodeHost(i),
      dataDir: "./data",
      p2p: {
        listen: [`/ip4/0.0.0.0/tcp/${COMPOSE_P2P_PORT}`],
        bootstrap: peerIds.flatMap((_, j) => (j === i ? [] : [p2pAddress(j)])),
      },
      // All interfaces of the container: compose publishes the port on the host's loopback only.
      api: { host: "0.0.0.0", port: COMPOSE_API_PORT },
      validator: { keystore: "./keystore.json", passwordFile: "./password" },
      relayer: { enabled: true, privateKeyFile: "./relayer.key" },
      chains: chains.map((chain) => ({ chainId: chain.chainId, rpcUrl: chain.rpcUrl, registry: chain.registry })),
      logLevel: "info",
      verification: { compileCacheDir: options.compileCacheDir },
    };
    writeFileSync(join(nodeDir, "config.json"), JSON.stringify(config, null, 2));
  }

  const manifest: ComposeManifest = {
    networkId,
    threshold: committee.threshold,
    proposer,
    chains,
    nodes: peerIds.map((peerId, index) => ({ index, host: options.nodeHost(index), peerId, apiPort: COMPOSE_API_PORT })),
  };
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, "manifest.json"), JSON.stringify(manifest, null, 2));
  log(`${options.nodeDirs.length} nodes configured, threshold ${committee.threshold}; manifest in ${join(options.outDir, "manifest.json")}`);
  return manifest;
}

/**
 * The manifest of an earlier run whose registries are still on these chains: a second `up`
 * while the chains run must not replace the keys and configs of nodes that use them.
 */
async function deployedAlready(options: ComposeDeployOptions): Promise<ComposeManifest | undefined> {
  let manifest: ComposeManifest;
  try {
    manifest = JSON.parse(readFileSync(join(options.outDir, "manifest.json"), "utf8")) as ComposeManifest;
  } catch {
    return undefined;
  }
  if (manifest.chains.map((c) => c.rpcUrl).join() !== options.rpcUrls.join() || manifest.nodes.length !== options.nodeDirs.length) return undefined;
  for (const chain of manifest.chains) {
    await waitForChain(chain.rpcUrl);
    const code = await createPublicClient({ transport: http(chain.rpcUrl, { retryCount: 0 }) }).getCode({ address: chain.registry });
    if (code === undefined || code === "0x") return undefined;
  }
  return manifest;
}

/** The chain's id, once its RPC answers. */
async function waitForChain(rpcUrl: string): Promise<number> {
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: 2_000 }) });
  const deadline = Date.now() + CHAIN_WAIT_MS;
  for (;;) {
    try {
      return await client.getChainId();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`chain at ${rpcUrl} did not answer within ${CHAIN_WAIT_MS} ms`, { cause: error });
      await sleep(500);
    }
  }
}
