// `sentinel devnet deploy`: the one-shot deployer of the Docker Compose network. It sets up
// registries, the validator set and the sample vault on chains that already run, and writes
// each node's keystore, keys and config into that node's directory (a volume in compose).
import { deployComposeNetwork } from "../devnet/composeDeploy.ts";
import { UsageError } from "./errors.ts";
import { EXIT, EXIT_CODES_HELP, callerPath, parseCommand, requireFlag, runCommand } from "./common.ts";
import type { CommandIo } from "./keys.ts";

export const DEVNET_DEPLOY_USAGE = `Usage:
  sentinel devnet deploy --rpc <url> [--rpc <url> …] --node-dir <dir> [--node-dir <dir> …]
                         --out <dir> --compile-cache <dir> [--node-host <pattern>]

For docker-compose.yml: on every chain (anvil, its dev accounts funded), deploys a registry with a
fresh validator set of one key per --node-dir, and the sample guarded vault with its benign and
malicious upgrades, enrolled with a fresh proposer. Writes into each --node-dir (emptied first)
the node's keystore, password, relayer key (funded), libp2p key and config.json, whose peers and
chains are addressed by host name. Writes <out>/manifest.json: the network id, the proposer's
key, and each chain's registry and vault. Every run starts a new network: the chains are fresh.

Options:
  --rpc <url>            a chain's JSON-RPC as the nodes reach it (e.g. http://chain-a:8545); repeatable
  --node-dir <dir>       node i's directory (its volume); repeatable, one per node
  --out <dir>            where manifest.json goes
  --compile-cache <dir>  the compile cache the deployer and the nodes share
  --node-host <pattern>  node i's host name, {i} replaced by i (default node{i})

${EXIT_CODES_HELP}
`;

export async function runDevnetDeployCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand("devnet deploy", DEVNET_DEPLOY_USAGE, io, async () => {
    const { values, help } = parseCommand(argv, {
      rpc: { type: "string", multiple: true },
      "node-dir": { type: "string", multiple: true },
      out: { type: "string" },
      "compile-cache": { type: "string" },
      "node-host": { type: "string" },
    });
    if (help) {
      io.stdout(DEVNET_DEPLOY_USAGE);
      return EXIT.OK;
    }
    const rpcUrls = (values.rpc ?? []) as unknown as string[];
    const nodeDirs = ((values["node-dir"] ?? []) as unknown as string[]).map(callerPath);
    if (rpcUrls.length === 0) throw new UsageError("--rpc is required: at least one chain");
    if (nodeDirs.length === 0) throw new UsageError("--node-dir is required: one per node");
    const pattern = values["node-host"] ?? "node{i}";
    await deployComposeNetwork({
      rpcUrls,
      nodeDirs,
      nodeHost: (i) => pattern.replaceAll("{i}", String(i)),
      outDir: callerPath(requireFlag(values.out, "--out", "where manifest.json goes")),
      compileCacheDir: callerPath(requireFlag(values["compile-cache"], "--compile-cache", "the compile cache the nodes share")),
      log: (message) => io.stdout(`[deploy] ${message}\n`),
    });
    return EXIT.OK;
  });
}
