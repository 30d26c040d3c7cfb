// Parses the untrusted JSON of a config file into a NodeConfig. Every field is checked, every
// problem is collected (not just the first), and each message names the field, what is wrong
// and how to fix it. Unknown fields are errors: a typo such as "confirmation" must not
// silently fall back to a default.
import { isNetworkId } from "../codec/types.ts";
import { isIP } from "node:net";
import { basename, isAbsolute, resolve } from "node:path";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import type { Hex } from "viem";
import { ConfigError } from "./errors.ts";
import { EXAMPLE_ADDRESS, NAME, readChainId, readEnvName, readName, readRegistry } from "./fields.ts";
import { readNotifications } from "./notifications.ts";
import { at, got, Issues, isObject, optional, readArray, readBoolean, readObject, readString, required, truncate, type Reader, type UncheckedObject } from "./readers.ts";
import {
  DEFAULT_API_HOST,
  DEFAULT_API_PORT,
  DEFAULT_REFUSAL_BUDGET,
  DEFAULT_BOOTSTRAP,
  DEFAULT_CONFIRMATIONS,
  DEFAULT_LISTEN,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MONITORING,
  DEFAULT_RELAYER_ENABLED,
  LOG_LEVELS,
  MAX_CHAINS,
  MAX_RPC_URLS,
  majority,
  MAX_CONFIRMATIONS,
  MAX_MULTIADDRS,
  type ApiConfig,
  type ChainConfig,
  type LogLevel,
  type MonitoringConfig,
  type NodeConfig,
  type P2pConfig,
  type RelayerConfig,
  type ValidatorConfig,
  type VerificationConfig,
} from "./schema.ts";

const EXAMPLE_NETWORK_ID = "0x57c3b95c796f614aa8ea8dc857a7dd3bd95c8ba2f01517bba39bb99bf1ec2474";
const EXAMPLE_PEER = "/ip4/192.0.2.10/tcp/9000/p2p/12D3KooWJC22H1XcLfQTtTzftF9Jy28vgdH5TDaRYyNSitbtSUxd";
const NETWORK_ID_PATTERN = /^0x[0-9a-fA-F]{64}$/;
const HOSTNAME_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A Sentinel network id: 0x and 32 bytes of hex, not all zero. */

/**
 * Validates a parsed config document. Relative paths are resolved against `baseDir` (the
 * config file's directory). Throws ConfigError INVALID_CONFIG listing every problem.
 *
 * @example
 * const config = parseConfig(JSON.parse(text), dirname(file));
 */
export function parseConfig(input: unknown, baseDir: string): NodeConfig {
  const issues = new Issues();
  const config = readRoot(input, baseDir, issues);
  if (config === undefined || issues.list.length > 0) {
    if (issues.list.length === 0) issues.add("", "could not be read (internal error: no issue recorded)");
    throw new ConfigError("INVALID_CONFIG", issues.list);
  }
  return config;
}

function readRoot(input: unknown, baseDir: string, issues: Issues): NodeConfig | undefined {
  const root = readObject(input, "", issues, ROOT_FIELDS);
  if (root === undefined) return undefined;
  const readFile = readPath(baseDir);
  const networkId = required(root, "networkId", "", issues, readNetworkId, `add "networkId": "${EXAMPLE_NETWORK_ID}" (the id every node of your Sentinel network shares)`);
  const dataDir = required(root, "dataDir", "", issues, readFile, `add "dataDir": "./data" (where the node keeps its database; relative to the config file)`);
  const p2p = optional(root, "p2p", "", issues, readP2p, { listen: [...DEFAULT_LISTEN], bootstrap: [...DEFAULT_BOOTSTRAP] });
  const api = optional(root, "api", "", issues, readApi, { host: DEFAULT_API_HOST, port: DEFAULT_API_PORT, refusalBudget: DEFAULT_REFUSAL_BUDGET });
  const validator = required(root, "validator", "", issues, (v, p, i) => readValidator(v, p, i, readFile), `add "validator": { "keystore": "./keys/validator.json" } (create one with "sentinel keys generate")`);
  const relayer = required(root, "relayer", "", issues, (v, p, i) => readRelayer(v, p, i, readFile), `add "relayer": { "privateKeyFile": "./keys/relayer.key" }, or "relayer": { "enabled": false } for a node that does not relay`);
  const chains = required(root, "chains", "", issues, readChains, `add "chains": [{ "chainId": 31337, "rpcUrl": "http://127.0.0.1:8545", "registry": "${EXAMPLE_ADDRESS}" }]`);
  const logLevel = optional(root, "logLevel", "", issues, readLogLevel, DEFAULT_LOG_LEVEL);
  const name = optional(root, "name", "", issues, readName, nameOf(baseDir));
  const verification = optional(root, "verification", "", issues, (v, p, i) => readVerification(v, p, i, readFile, dataDir), undefined);
  const monitoring = optional(root, "monitoring", "", issues, readMonitoring, { ...DEFAULT_MONITORING });
  const notifications = optional(root, "notifications", "", issues, (v, p, i) => readNotifications(v, p, i, readFile), { webhooks: [] });
  if (
    networkId === undefined ||
    dataDir === undefined ||
    p2p === undefined ||
    api === undefined ||
    validator === undefined ||
    relayer === undefined ||
    chains === undefined ||
    logLevel === undefined ||
    name === undefined ||
    monitoring === undefined ||
    notifications === undefined
  ) {
    return undefined;
  }
  return {
    name,
    networkId,
    dataDir,
    p2p,
    api,
    validator,
    relayer,
    chains,
    logLevel,
    verification: verification ?? { compileCacheDir: resolve(dataDir, "compile-cache") },
    monitoring,
    notifications,
  };
}

const ROOT_FIELDS = ["name", "networkId", "dataDir", "p2p", "api", "validator", "relayer", "chains", "logLevel", "verification", "monitoring", "notifications"] as const;


/** The default name: the config file's directory ("node3" for node3/config.json), if it is a valid name. */
function nameOf(baseDir: string): string {
  const dir = basename(resolve(baseDir)).replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64);
  return NAME.test(dir) ? dir : "sentinel";
}
const VERIFICATION_FIELDS = ["compileCacheDir"] as const;

function readVerification(value: unknown, path: string, issues: Issues, readFile: Reader<string>, dataDir: string | undefined): VerificationConfig | undefined {
  const verification = readObject(value, path, issues, VERIFICATION_FIELDS);
  if (verification === undefined) return undefined;
  const compileCacheDir = optional(verification, "compileCacheDir", path, issues, readFile, undefined);
  if (compileCacheDir === undefined && dataDir === undefined) return undefined;
  return { compileCacheDir: compileCacheDir ?? resolve(dataDir!, "compile-cache") };
}
const MONITORING_FIELDS = ["pollMs", "cooldownBlocks"] as const;

function readMonitoring(value: unknown, path: string, issues: Issues): MonitoringConfig | undefined {
  const monitoring = readObject(value, path, issues, MONITORING_FIELDS);
  if (monitoring === undefined) return undefined;
  const pollMs = optional(monitoring, "pollMs", path, issues, readIntegerIn(50, 60_000, "ms between polls of each chain for a new block"), DEFAULT_MONITORING.pollMs);
  const cooldownBlocks = optional(monitoring, "cooldownBlocks", path, issues, readIntegerIn(1, 100_000, "blocks an invariant must hold before a new break is a new alert"), DEFAULT_MONITORING.cooldownBlocks);
  return pollMs === undefined || cooldownBlocks === undefined ? undefined : { pollMs, cooldownBlocks };
}

const readIntegerIn = (min: number, max: number, what: string): Reader<number> => (value, path, issues) => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) return issues.add(path, `must be an integer in ${min}..${max} (${what}); ${got(value)}`);
  return value;
};

const P2P_FIELDS = ["listen", "bootstrap"] as const;
const API_FIELDS = ["host", "port", "refusalBudget"] as const;
const REFUSAL_BUDGET_FIELDS = ["refusals", "perSeconds"] as const;
const VALIDATOR_FIELDS = ["keystore", "passwordFile", "passwordEnv", "rotationApprovals"] as const;
const RELAYER_FIELDS = ["enabled", "privateKeyFile"] as const;
const CHAIN_FIELDS = ["chainId", "rpcUrl", "rpcUrls", "rpcQuorum", "registry", "confirmations"] as const;

const readNetworkId: Reader<Hex> = (value, path, issues) => {
  const text = readString(value, path, issues);
  if (text === undefined) return undefined;
  if (!NETWORK_ID_PATTERN.test(text)) {
    return issues.add(path, `must be 0x followed by 64 hex digits (32 bytes), e.g. ${EXAMPLE_NETWORK_ID}; ${got(value)}`);
  }
  if (!isNetworkId(text)) {
    return issues.add(path, "must not be all zeros (a placeholder would collide with every other unconfigured network); use your network's id");
  }
  return text.toLowerCase() as Hex;
};

function readP2p(value: unknown, path: string, issues: Issues): P2pConfig | undefined {
  const p2p = readObject(value, path, issues, P2P_FIELDS);
  if (p2p === undefined) return undefined;
  const listen = optional(p2p, "listen", path, issues, readListen, [...DEFAULT_LISTEN]);
  const bootstrap = optional(p2p, "bootstrap", path, issues, (v, p, i) => readArray(v, p, i, readBootstrapAddr, { max: MAX_MULTIADDRS }), [...DEFAULT_BOOTSTRAP]);
  if (listen === undefined || bootstrap === undefined) return undefined;
  return { listen, bootstrap };
}

const readListen: Reader<string[]> = (value, path, issues) => {
  const listen = readArray(value, path, issues, readListenAddr, { max: MAX_MULTIADDRS });
  if (Array.isArray(value) && value.length === 0) {
    return issues.add(path, `must list at least one multiaddr to listen on, e.g. ["/ip4/0.0.0.0/tcp/9000"], or leave it out for that default`);
  }
  return listen;
};

const readListenAddr: Reader<string> = (value, path, issues) => {
  const text = readString(value, path, issues);
  if (text === undefined) return undefined;
  const reason = multiaddrProblem(text);
  if (reason !== undefined) return issues.add(path, `must be a multiaddr such as "/ip4/0.0.0.0/tcp/9000": ${reason}`);
  return text;
};

const readBootstrapAddr: Reader<string> = (value, path, issues) => {
  const text = readString(value, path, issues);
  if (text === undefined) return undefined;
  const fix = `e.g. "${EXAMPLE_PEER}" (the bootstrap node's libp2p peer id)`;
  const reason = multiaddrProblem(text);
  if (reason !== undefined) return issues.add(path, `must be a multiaddr ending in /p2p/<peerId>, ${fix}: ${reason}`);
  const last = multiaddr(text).getComponents().at(-1);
  if (last?.name !== "p2p" || last.value === undefined) {
    return issues.add(path, `must end in /p2p/<peerId> so the connection to the bootstrap peer is authenticated, ${fix}`);
  }
  try {
    peerIdFromString(last.value);
  } catch {
    return issues.add(path, `"${truncate(last.value)}" is not a valid libp2p peer id; ${fix}`);
  }
  return text;
};

function multiaddrProblem(text: string): string | undefined {
  if (!text.startsWith("/")) return "must start with /";
  try {
    void multiaddr(text).bytes; // encoding checks every component's value
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function readApi(value: unknown, path: string, issues: Issues): ApiConfig | undefined {
  const api = readObject(value, path, issues, API_FIELDS);
  if (api === undefined) return undefined;
  const host = optional(api, "host", path, issues, readHost, DEFAULT_API_HOST);
  const port = optional(api, "port", path, issues, readPort, DEFAULT_API_PORT);
  const refusalBudget = optional(api, "refusalBudget", path, issues, readRefusalBudget, DEFAULT_REFUSAL_BUDGET);
  if (host === undefined || port === undefined || refusalBudget === undefined) return undefined;
  return { host, port, refusalBudget };
}

const readRefusalBudget: Reader<ApiConfig["refusalBudget"]> = (value, path, issues) => {
  if (value === false) return false;
  if (!isObject(value)) return issues.add(path, `must be {"refusals": n, "perSeconds": s} or false (no budget: only behind a proxy that limits each client itself); ${got(value)}`);
  const budget = readObject(value, path, issues, REFUSAL_BUDGET_FIELDS);
  if (budget === undefined) return undefined;
  const refusals = optional(budget, "refusals", path, issues, readIntegerIn(1, 1_000_000, "refused requests an address may send before it is answered 429"), DEFAULT_REFUSAL_BUDGET.refusals);
  const perSeconds = optional(budget, "perSeconds", path, issues, readIntegerIn(1, 86_400, "seconds over which a spent budget refills"), DEFAULT_REFUSAL_BUDGET.perSeconds);
  return refusals === undefined || perSeconds === undefined ? undefined : { refusals, perSeconds };
};

const readHost: Reader<string> = (value, path, issues) => {
  const text = readString(value, path, issues);
  if (text === undefined) return undefined;
  if (isIP(text) === 0 && !HOSTNAME_PATTERN.test(text)) {
    return issues.add(path, `must be an IP address or host name without scheme or port, e.g. "127.0.0.1" (local only) or "0.0.0.0" (all interfaces); ${got(value)}`);
  }
  return text;
};

const readPort: Reader<number> = (value, path, issues) => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 65535) {
    return issues.add(path, `must be an integer port in 0..65535 (0 lets the OS pick), e.g. ${DEFAULT_API_PORT}; ${got(value)}`);
  }
  return value;
};

function readValidator(value: unknown, path: string, issues: Issues, readFile: Reader<string>): ValidatorConfig | undefined {
  const validator = readObject(value, path, issues, VALIDATOR_FIELDS);
  if (validator === undefined) return undefined;
  const keystore = required(validator, "keystore", path, issues, readFile, `add "keystore": "./keys/validator.json" (an EIP-2335 keystore; "sentinel keys generate" creates one)`);
  const passwordFile = optional(validator, "passwordFile", path, issues, readFile, undefined);
  const passwordEnv = optional(validator, "passwordEnv", path, issues, readEnvName, undefined);
  const rotationApprovals = optional(validator, "rotationApprovals", path, issues, readFile, undefined);
  if (validator["passwordFile"] !== undefined && validator["passwordEnv"] !== undefined) {
    issues.add(at(path, "passwordEnv"), "give passwordFile or passwordEnv, not both; remove one of them");
    return undefined;
  }
  if (keystore === undefined) return undefined;
  return {
    keystore,
    ...(passwordFile === undefined ? {} : { passwordFile }),
    ...(passwordEnv === undefined ? {} : { passwordEnv }),
    ...(rotationApprovals === undefined ? {} : { rotationApprovals }),
  };
}


function readRelayer(value: unknown, path: string, issues: Issues, readFile: Reader<string>): RelayerConfig | undefined {
  const relayer = readObject(value, path, issues, RELAYER_FIELDS);
  if (relayer === undefined) return undefined;
  const enabled = optional(relayer, "enabled", path, issues, readBoolean, DEFAULT_RELAYER_ENABLED);
  if (enabled === false) {
    const privateKeyFile = optional(relayer, "privateKeyFile", path, issues, readFile, undefined);
    return privateKeyFile === undefined ? { enabled } : { enabled, privateKeyFile };
  }
  const privateKeyFile = required(relayer, "privateKeyFile", path, issues, readFile, `add "privateKeyFile": "./keys/relayer.key" (a file holding the 0x-prefixed 32-byte secp256k1 key that pays relay gas), or set "enabled": false`);
  if (enabled === undefined || privateKeyFile === undefined) return undefined;
  return { enabled, privateKeyFile };
}

function readChains(value: unknown, path: string, issues: Issues): ChainConfig[] | undefined {
  const chains = readArray(value, path, issues, readChain, { max: MAX_CHAINS });
  if (!Array.isArray(value)) return undefined;
  if (value.length === 0) {
    return issues.add(path, `must list at least one chain, e.g. [{ "chainId": 31337, "rpcUrl": "http://127.0.0.1:8545", "registry": "${EXAMPLE_ADDRESS}" }]`);
  }
  // On the raw entries, so a clash is reported even when another field of an entry is wrong.
  const firstIndex = new Map<number, number>();
  let duplicate = false;
  value.forEach((entry: unknown, index) => {
    const chainId = isObject(entry) ? entry["chainId"] : undefined;
    if (typeof chainId !== "number") return;
    const first = firstIndex.get(chainId);
    if (first === undefined) {
      firstIndex.set(chainId, index);
      return;
    }
    duplicate = true;
    issues.add(`${path}[${index}].chainId`, `duplicate chain id ${chainId} (also ${path}[${first}]); list each chain once`);
  });
  return duplicate ? undefined : chains;
}

function readChain(value: unknown, path: string, issues: Issues): ChainConfig | undefined {
  const chain = readObject(value, path, issues, CHAIN_FIELDS);
  if (chain === undefined) return undefined;
  const chainId = required(chain, "chainId", path, issues, readChainId, `add "chainId": 31337 (the EIP-155 id the RPC endpoint reports)`);
  const endpoints = readEndpoints(chain, path, issues);
  const registry = required(chain, "registry", path, issues, readRegistry, `add "registry": "${EXAMPLE_ADDRESS}" (the SentinelRegistry deployed on this chain)`);
  const confirmations = optional(chain, "confirmations", path, issues, readConfirmations, DEFAULT_CONFIRMATIONS);
  if (chainId === undefined || endpoints === undefined || registry === undefined || confirmations === undefined) return undefined;
  return { chainId, ...endpoints, registry, confirmations };
}

/** `rpcUrl` (one endpoint) or `rpcUrls` (several, read through a quorum), and `rpcQuorum`. */
function readEndpoints(chain: UncheckedObject, path: string, issues: Issues): { rpcUrls: string[]; rpcQuorum: number } | undefined {
  if (chain["rpcUrl"] !== undefined && chain["rpcUrls"] !== undefined) {
    return issues.add(at(path, "rpcUrls"), `give either "rpcUrl" (one endpoint) or "rpcUrls" (several, read through a quorum), not both`);
  }
  const rpcUrls =
    chain["rpcUrls"] !== undefined
      ? readDistinctUrls(chain["rpcUrls"], at(path, "rpcUrls"), issues)
      : required(chain, "rpcUrl", path, issues, (v, p, i) => {
          const url = readRpcUrl(v, p, i);
          return url === undefined ? undefined : [url];
        }, `add "rpcUrl": "http://127.0.0.1:8545", or "rpcUrls": [...] with endpoints of several providers`);
  if (rpcUrls === undefined) {
    optional(chain, "rpcQuorum", path, issues, readPositiveInt, undefined); // its own issue, if any, is reported too
    return undefined;
  }
  const rpcQuorum = optional(chain, "rpcQuorum", path, issues, (v, p, i) => {
    const quorum = readPositiveInt(v, p, i);
    if (quorum !== undefined && quorum > rpcUrls.length) {
      return i.add(p, `must be at most the number of endpoints (${rpcUrls.length}); a majority, ${majority(rpcUrls.length)}, is the default`);
    }
    return quorum;
  }, majority(rpcUrls.length));
  return rpcQuorum === undefined ? undefined : { rpcUrls, rpcQuorum };
}

function readDistinctUrls(value: unknown, path: string, issues: Issues): string[] | undefined {
  const urls = readArray(value, path, issues, readRpcUrl, { max: MAX_RPC_URLS });
  if (urls === undefined) return undefined;
  if (urls.length === 0) return issues.add(path, `must list at least one endpoint, e.g. ["http://127.0.0.1:8545"]`);
  const first = urls.findIndex((url, index) => urls.indexOf(url) !== index);
  if (first !== -1) return issues.add(`${path}[${first}]`, "lists the same endpoint twice; a quorum counts distinct endpoints (providers)");
  return urls;
}

const readPositiveInt: Reader<number> = (value, path, issues) => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) return issues.add(path, `must be a positive integer; ${got(value)}`);
  return value;
};


const readRpcUrl: Reader<string> = (value, path, issues) => {
  // The value is not echoed: RPC URLs often embed a provider API key.
  if (typeof value !== "string") return issues.add(path, `must be an http(s) URL string, e.g. "http://127.0.0.1:8545"; ${got(value, { hideValue: true })}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return issues.add(path, `is not a valid URL; write it in full, e.g. "http://127.0.0.1:8545" or "https://rpc.example.org"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return issues.add(path, `must use http:// or https://, not ${url.protocol}//, e.g. "http://127.0.0.1:8545"`);
  }
  return value;
};


const readConfirmations: Reader<number> = (value, path, issues) => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_CONFIRMATIONS) {
    return issues.add(path, `must be an integer in 0..${MAX_CONFIRMATIONS} (blocks to wait for finality), e.g. 0 for a local chain or 64 for Ethereum mainnet; ${got(value)}`);
  }
  return value;
};

const readLogLevel: Reader<LogLevel> = (value, path, issues) => {
  const text = readString(value, path, issues);
  if (text === undefined) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(text)) {
    return issues.add(path, `must be one of ${LOG_LEVELS.map((level) => `"${level}"`).join(", ")}; ${got(value)}`);
  }
  return text as LogLevel;
};

/** A file or directory path, resolved against the config file's directory. */
function readPath(baseDir: string): Reader<string> {
  return (value, path, issues) => {
    const text = readString(value, path, issues);
    if (text === undefined) return undefined;
    if (text.trim() === "") return issues.add(path, "must not be empty; give a path (relative paths are relative to the config file)");
    if (text.includes("\0")) return issues.add(path, "must not contain a NUL character");
    if (text.startsWith("~")) {
      return issues.add(path, `"~" is not expanded; use an absolute path or one relative to the config file; ${got(value)}`);
    }
    return isAbsolute(text) ? resolve(text) : resolve(baseDir, text);
  };
}
