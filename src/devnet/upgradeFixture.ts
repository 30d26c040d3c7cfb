// An upgrade described by a directory of Solidity and a case.json (test/fixtures/corpus/README.md):
// compiled with the real compiler, deployed behind a real OpenZeppelin proxy on a real chain, and
// turned into the candidate and source bundle a proposer would submit. The corpus, the devnet's
// demo upgrades and bench:verify all start here.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { concatHex, encodeDeployData, encodeFunctionData, numberToHex, parseAbiItem, type Abi, type Address, type Hex } from "viem";
import { SentinelTestERC1967Proxy, SentinelTestTransparentProxy } from "../../artifacts/contracts.ts";
import type { ChainClients } from "../chains/clients.ts";
import { deployContract, DeploymentError } from "../chains/deploy.ts";
import { BUNDLE_SCHEMA, bundleHash, parseBundle, type BuildSpec, type SolcInput, type SourceBundle } from "../codec/bundle.ts";
import type { Candidate } from "../codec/candidate.ts";
import type { BuildCompiler } from "../verify/reproducibleBuild/index.ts";
import { collectSources, findContract, fileResolver, type SolcOutput } from "../verify/compiler/index.ts";
import type { CompiledBuild } from "../verify/context.ts";
import { DEFAULT_POLICY, parsePolicy, policyHash } from "../codec/policy.ts";
import type { ReasonCode } from "../verify/reasons.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface CallSpec {
  function: string;
  args: string[];
}

export interface UpgradeCase {
  description: string;
  expect: "approve" | "reject";
  reasons: ReasonCode[];
  compiler?: string;
  reference: string;
  implementation: string;
  /**
   * "uups": ERC1967Proxy; "transparent": OZ v5 TransparentUpgradeableProxy and its own ProxyAdmin;
   * "transparent-v4": an OZ v4-style proxy and ProxyAdmin (upgrade / upgradeAndCall /
   * changeProxyAdmin), from the corpus's shared/ProxyV4.sol (only OZ 5.x is installed).
   */
  proxy: "uups" | "transparent" | "transparent-v4";
  initialize?: CallSpec;
  upgradeCall?: CallSpec;
  deployed?: string;
  policy?: Record<string, unknown>;
  /**
   * Users' transactions to the proxy, sent after it is deployed and before the block is pinned: the
   * history the behaviour check replays. `from` defaults to the owner and must be an account the
   * chain signs for (anvil's dev accounts); a call that reverts is mined as reverted, as on a real chain.
   */
  history?: (CallSpec & { from?: string; value?: string })[];
  /** Constructor arguments of every implementation deployed ("$registry", "$owner" substituted). */
  constructorArgs?: string[];
  /** Compiler settings other than outputSelection; default optimizer 200 runs, evmVersion cancun. */
  settings?: Record<string, unknown>;
}

/** The v4-style transparent proxy and ProxyAdmin, in the corpus root's shared/ folder. */
const V4_PROXY_SOURCE = "shared/ProxyV4.sol";

export const DEFAULT_FIXTURE_SETTINGS = { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" };

export function readUpgradeCase(dir: string): UpgradeCase {
  return JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as UpgradeCase;
}

export interface PreparedUpgrade {
  proxy: Address;
  implementation: Address;
  bundle: SourceBundle;
  /** Unsigned: sign it with the proposer's key (or run it as a dry run). */
  candidate: Candidate;
}

export interface PrepareOptions {
  /** The case directory; source names not found in it are looked up in its parent (the corpus root). */
  dir: string;
  upgrade: UpgradeCase;
  chain: ChainClients;
  compiler: BuildCompiler;
  /** The account that owns the proxy (its upgrade authority); default the chain wallet's. */
  owner?: Address;
  registry?: Address;
  nonce?: bigint;
}

/** Deploys the reference behind its proxy and the new implementation; returns what a proposer submits. */
export async function prepareUpgrade(options: PrepareOptions): Promise<PreparedUpgrade> {
  const { dir, upgrade, chain, compiler } = options;
  const owner = options.owner ?? chain.wallet.account.address;
  const vars: Record<string, string> = { $owner: owner, ...(options.registry ? { $registry: options.registry } : {}) };
  const version = await compiler.compilers.fullVersion(upgrade.compiler ?? "0.8.28");
  const settings = upgrade.settings ?? DEFAULT_FIXTURE_SETTINGS;
  const spec = (entries: string[], contract: string): BuildSpec => ({ compiler: version, contract, input: fixtureInput(dir, entries, settings, dirname(dir)) });

  const published = spec([fileOf(upgrade.reference), fileOf(upgrade.implementation)], upgrade.implementation);
  const reference = await compiler.build({ ...published, contract: upgrade.reference });
  const deployedSpec = upgrade.deployed ? spec([fileOf(upgrade.deployed)], upgrade.deployed) : published;
  const deployed = await compiler.build(deployedSpec);

  const constructorArgs = (upgrade.constructorArgs ?? []).map((arg) => vars[arg] ?? arg);
  const referenceAddress = await deployBuild(chain, reference, constructorArgs);
  const initData = upgrade.initialize ? encodeCall(upgrade.initialize, vars) : "0x";
  let proxy: Address;
  if (upgrade.proxy === "uups") proxy = await deployContract(chain.wallet, chain.client, SentinelTestERC1967Proxy, [referenceAddress, initData]);
  else if (upgrade.proxy === "transparent") proxy = await deployContract(chain.wallet, chain.client, SentinelTestTransparentProxy, [referenceAddress, owner, initData]);
  else {
    const v4 = (contract: string) => compiler.build({ ...spec([V4_PROXY_SOURCE], `${V4_PROXY_SOURCE}:${contract}`) });
    const admin = await deployBuild(chain, await v4("ProxyAdminV4"), [owner]);
    proxy = await deployBuild(chain, await v4("TransparentUpgradeableProxyV4"), [referenceAddress, admin, initData]);
  }
  for (const call of upgrade.history ?? []) await sendHistory(chain, proxy, call, vars);
  const implementation = await deployBuild(chain, deployed, constructorArgs);

  const policy = parsePolicy({ ...DEFAULT_POLICY, ...(upgrade.policy ?? {}) });
  const bundle = parseBundle({
    schema: BUNDLE_SCHEMA,
    implementation: published,
    reference: { contract: upgrade.reference },
    upgradeCall: upgrade.upgradeCall ? encodeCall(upgrade.upgradeCall, vars) : "0x",
    policy,
  });
  const now = BigInt(Math.floor(Date.now() / 1000));
  const candidate: Candidate = {
    chainId: BigInt(chain.chain.id),
    target: proxy,
    implementation,
    sourceHash: bundleHash(bundle),
    policyHash: policyHash(policy),
    blockNumber: await chain.client.getBlockNumber({ cacheTime: 0 }),
    nonce: options.nonce ?? 1n,
    createdAt: now,
    expiresAt: now + 86_400n,
  };
  return { proxy, implementation, bundle, candidate };
}

/**
 * A standard-JSON input of the entries and everything they import. Source names are looked up in
 * `dir`, then in `sharedRoot` if given (the corpus root, whose `shared/` holds the reference
 * implementations several cases have in common), then in the repo and its node_modules.
 */
export function fixtureInput(dir: string, entries: string[], settings: Record<string, unknown>, sharedRoot?: string): SolcInput {
  const local = fileResolver(dir);
  const shared = sharedRoot === undefined ? () => undefined : fileResolver(sharedRoot);
  const repo = fileResolver(REPO_ROOT);
  return { language: "Solidity", sources: collectSources(entries, (name) => local(name) ?? shared(name) ?? repo(name)), settings };
}

function fileOf(qualified: string): string {
  return qualified.slice(0, qualified.lastIndexOf(":"));
}

function encodeCall(call: CallSpec, vars: Record<string, string>): Hex {
  const item = parseAbiItem(call.function);
  if (item.type !== "function") throw new Error(`not a function: ${call.function}`);
  return encodeFunctionData({ abi: [item], functionName: item.name, args: call.args.map((arg) => vars[arg] ?? arg) });
}

/** Gas of a history transaction: explicit, so that one that reverts is mined (as a user's would be) instead of failing its estimate. */
const HISTORY_GAS = 1_000_000n;

async function sendHistory(chain: ChainClients, proxy: Address, call: CallSpec & { from?: string; value?: string }, vars: Record<string, string>): Promise<void> {
  const from = (call.from === undefined ? vars["$owner"] : (vars[call.from] ?? call.from)) as Address;
  const request = { from, to: proxy, data: encodeCall(call, vars), gas: numberToHex(HISTORY_GAS), value: numberToHex(BigInt(call.value ?? "0")) };
  // eth_sendTransaction: the chain (anvil) signs for its unlocked dev accounts, not only the wallet's.
  const hash = (await chain.client.request({ method: "eth_sendTransaction" as never, params: [request] as never })) as Hex;
  await chain.client.waitForTransactionReceipt({ hash });
}

/** Deploys a compiled contract, deploying and linking the external libraries it needs first. */
export async function deployBuild(chain: ChainClients, build: CompiledBuild, args: readonly unknown[]): Promise<Address> {
  const bytecode = await linkLibraries(chain, build.output, build.contract.evm?.bytecode?.object ?? "", build.contract.evm?.bytecode?.linkReferences ?? {});
  const abi = (build.contract.abi ?? []) as Abi;
  const hash = await chain.wallet.sendTransaction({ data: encodeDeployData({ abi, bytecode, args }) });
  const receipt = await chain.client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !receipt.contractAddress) throw new DeploymentError("DEPLOYMENT_REVERTED", `deploying ${build.spec.contract} reverted (tx ${hash})`, { txHash: hash });
  return receipt.contractAddress;
}

async function linkLibraries(chain: ChainClients, output: SolcOutput, object: string, references: Record<string, Record<string, { start: number; length: number }[]>>): Promise<Hex> {
  let code = object;
  for (const [source, libraries] of Object.entries(references)) {
    for (const [name, ranges] of Object.entries(libraries)) {
      const library = findContract(output, `${source}:${name}`);
      const address = await deployContract(chain.wallet, chain.client, { abi: [], bytecode: concatHex([`0x${library?.evm?.bytecode?.object ?? ""}`]) });
      for (const { start, length } of ranges) {
        code = code.slice(0, start * 2) + address.slice(2).toLowerCase() + code.slice((start + length) * 2);
      }
    }
  }
  return `0x${code}`;
}
