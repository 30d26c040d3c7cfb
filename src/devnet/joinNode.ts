// A node for a validator that is not in the set yet: its own directory, keystore, funded relayer
// and config beside the devnet's nodes, bootstrapping from all of them. It starts as an observer
// and signs once a rotation admits its key (the node restarts itself with the new set).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { bytesToHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { signProofOfPossession } from "../consensus/validatorSet.ts";
import { publicKeyRaw, signatureToEip2537, type SecretKey } from "../crypto/bls.ts";
import { createKeystore, INSECURE_FAST_KDF, writeKeystore } from "../crypto/keystore.ts";
import { writeP2pKey } from "../node/p2pKey.ts";
import { DEVNET_COMPILE_CACHE, DevnetNode, PASSWORD, freePorts, fund, type Devnet } from "./devnet.ts";

export interface JoiningNode {
  node: DevnetNode;
  /** What `sentinel keys show` prints for its key: the file `validator propose --add` reads. */
  keyFile: string;
}

export async function prepareJoiningNode(devnet: Devnet, secretKey: SecretKey, index: number): Promise<JoiningNode> {
  const nodeDir = join(devnet.dir, `node${index}`);
  const dataDir = join(nodeDir, "data");
  mkdirSync(dataDir, { recursive: true });
  const identity = await generateKeyPair("Ed25519");
  writeP2pKey(dataDir, identity);
  const peerId = peerIdFromPrivateKey(identity).toString();
  const [p2pPort, apiPort] = await freePorts(2);
  writeFileSync(join(nodeDir, "password"), PASSWORD, { mode: 0o600 });
  writeKeystore(join(nodeDir, "keystore.json"), await createKeystore(secretKey, PASSWORD, { kdf: INSECURE_FAST_KDF }));
  const relayerKey = generatePrivateKey();
  writeFileSync(join(nodeDir, "relayer.key"), relayerKey, { mode: 0o600 });
  for (const chain of devnet.chains) await fund(chain, privateKeyToAccount(relayerKey).address);
  const config = {
    networkId: devnet.networkId,
    dataDir: "./data",
    p2p: { listen: [`/ip4/127.0.0.1/tcp/${p2pPort}`], bootstrap: devnet.nodes.map((node) => node.p2pAddress) },
    api: { host: "127.0.0.1", port: apiPort },
    validator: { keystore: "./keystore.json", passwordFile: "./password", rotationApprovals: "./rotation-approvals.json" },
    relayer: { enabled: true, privateKeyFile: "./relayer.key" },
    chains: devnet.chains.map((chain) => ({ chainId: chain.chainId, rpcUrl: chain.anvil.rpcUrl, registry: chain.registry })),
    logLevel: "info",
    verification: { compileCacheDir: DEVNET_COMPILE_CACHE },
  };
  const configPath = join(nodeDir, "config.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const keyFile = join(nodeDir, "key.json");
  writeFileSync(
    keyFile,
    JSON.stringify({
      networkId: devnet.networkId,
      publicKey: bytesToHex(publicKeyRaw(secretKey.toPublicKey())),
      proofOfPossession: signatureToEip2537(signProofOfPossession(secretKey, devnet.networkId)),
    }),
  );
  const node = new DevnetNode({
    index,
    configPath,
    dataDir,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    peerId,
    p2pAddress: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerId}`,
    logPath: join(nodeDir, "node.log"),
  });
  return { node, keyFile };
}
