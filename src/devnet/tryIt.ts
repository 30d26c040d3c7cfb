// The devnet's "try it": a fresh copy of the sample protocol that nobody has proposed for yet, the
// build-info it was compiled with (what `bundle create` reads, as a Hardhat or Foundry project
// writes it), the proposer's and the owner's key files, and the commands of the protocol journey
// with this devnet's values filled in. `sentinel devnet` prints them; test/e2e/journey.test.ts
// runs them as a user would.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Address, Hex } from "viem";
import { BuildCompiler } from "../verify/reproducibleBuild/index.ts";
import { ANVIL_DEV_KEYS } from "./accounts.ts";
import { addProtocol, compileProtocol, DEVNET_COMPILE_CACHE, type Devnet } from "./devnet.ts";

export const BENIGN_CONTRACT = "contracts/test/GuardedVault.sol:GuardedVaultV2";
export const MALICIOUS_CONTRACT = "contracts/test/DrainableVault.sol:DrainableVault";
export const REFERENCE_CONTRACT = "contracts/test/GuardedVault.sol:GuardedVaultV1";

export interface TryIt {
  buildInfo: string;
  proposerKeyFile: string;
  ownerKeyFile: string;
  networkId: Hex;
  node: string;
  /** The chain the upgrade is for. */
  chain: { chainId: number; rpcUrl: string; registry: Address; proxy: Address; benign: Address; malicious: Address };
  /** Another chain of the network: the attestation verifies there too. */
  otherChain: { chainId: number; rpcUrl: string; registry: Address };
}

/** One step of the journey: `sentinel` arguments (paths relative to where it is run) and what it shows. */
export interface TryItStep {
  args: string[];
  says: string;
}

/**
 * Deploys a fresh protocol (so the journey's upgrade is not the one the demo already made), writes
 * the build-info and key files into the devnet's directory, and adds a `tryIt` section to its manifest.
 */
export async function prepareTryIt(devnet: Devnet): Promise<TryIt> {
  const compiler = new BuildCompiler({ cacheDir: DEVNET_COMPILE_CACHE });
  let builds;
  try {
    builds = await compileProtocol(compiler);
  } finally {
    await compiler.close();
  }
  await addProtocol(devnet, { indexed: true });
  const buildInfo = join(devnet.dir, "build-info.json");
  const { spec, output } = builds.benign;
  // Hardhat's build-info layout: the exact compiler and standard-JSON input, and the output.
  writeFileSync(
    buildInfo,
    JSON.stringify({ _format: "hh-sol-build-info-1", id: "sentinel-devnet", solcVersion: spec.compiler.split("+")[0], solcLongVersion: spec.compiler, input: spec.input, output }),
  );
  const proposerKeyFile = join(devnet.dir, "proposer.key");
  const ownerKeyFile = join(devnet.dir, "owner.key");
  writeFileSync(proposerKeyFile, `${devnet.proposer.privateKey}\n`, { mode: 0o600 });
  // The devnet deploys from anvil's first development key: the sample proxy's owner.
  writeFileSync(ownerKeyFile, `${ANVIL_DEV_KEYS[0]!}\n`, { mode: 0o600 });
  const first = devnet.chains[0]!;
  const other = devnet.chains[1] ?? first;
  const tryIt: TryIt = {
    buildInfo,
    proposerKeyFile,
    ownerKeyFile,
    networkId: devnet.networkId,
    node: devnet.nodes[0]!.apiUrl,
    chain: { chainId: first.chainId, rpcUrl: first.anvil.rpcUrl, registry: first.registry, proxy: first.protocol.proxy, benign: first.protocol.benign, malicious: first.protocol.malicious },
    otherChain: { chainId: other.chainId, rpcUrl: other.anvil.rpcUrl, registry: other.registry },
  };
  const manifest = JSON.parse(readFileSync(devnet.manifestPath, "utf8")) as Record<string, unknown>;
  writeFileSync(devnet.manifestPath, JSON.stringify({ ...manifest, tryIt }, null, 2));
  return tryIt;
}

/** The protocol journey, in order: bundle, candidate, dry run, submit and wait, status, attestation, verify, upgrade. */
export function tryItSteps(t: TryIt, implementation: "benign" | "malicious" = "benign"): TryItStep[] {
  const contract = implementation === "benign" ? BENIGN_CONTRACT : MALICIOUS_CONTRACT;
  const address = t.chain[implementation];
  const suffix = implementation === "benign" ? "" : "-malicious";
  return [
    { args: ["bundle", "create", "--build-info", t.buildInfo, "--contract", contract, "--reference", REFERENCE_CONTRACT, "--out", `bundle${suffix}.json`], says: "the source bundle, from the build-info" },
    {
      args: ["candidate", "create", "--bundle", `bundle${suffix}.json`, "--rpc", t.chain.rpcUrl, "--target", t.chain.proxy, "--implementation", address, "--proposer-key-file", t.proposerKeyFile, "--network-id", t.networkId, "--out", `candidate${suffix}.json`],
      says: "the candidate, signed by the enrolled proposer",
    },
    { args: ["check", `candidate${suffix}.json`, "--rpc", t.chain.rpcUrl, "--registry", t.chain.registry, "--network-id", t.networkId], says: "the nodes' checks, locally (your CI's dry run)" },
    { args: ["submit", `candidate${suffix}.json`, "--node", t.node, "--wait"], says: "submit, and wait until the verdict is recorded on every chain" },
    { args: ["status", `candidate${suffix}.json`, "--node", t.node], says: "where it stands on the node" },
    { args: ["attestation", `candidate${suffix}.json`, "--node", t.node, "--out", `attestation${suffix}.json`], says: "the 554-byte attestation" },
    { args: ["verify-attestation", `attestation${suffix}.json`, "--rpc", t.otherChain.rpcUrl, "--registry", t.otherChain.registry, "--on-chain"], says: `verified offline and by chain ${t.otherChain.chainId}'s registry` },
    { args: ["upgrade", "--rpc", t.chain.rpcUrl, "--proxy", t.chain.proxy, "--implementation", address, "--key-file", t.ownerKeyFile], says: "the guarded upgrade" },
  ];
}

/** The "try it" section `sentinel devnet` prints: copy-paste commands. */
export function tryItText(t: TryIt): string {
  const quote = (arg: string) => (/^[A-Za-z0-9_./:@,=+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  const line = (step: TryItStep) => `  # ${step.says}\n  npm run sentinel -- ${step.args.map(quote).join(" ")}\n`;
  return [
    "",
    `Try it (from any directory in this checkout; files land where you run them). A fresh vault ${t.chain.proxy}`,
    `on chain ${t.chain.chainId}, enrolled, nobody has proposed for yet:`,
    "",
    ...tryItSteps(t).map(line),
    "  # the malicious implementation: submit --wait exits 1 (REJECTED) and the guard refuses the upgrade",
    `  npm run sentinel -- ${tryItSteps(t, "malicious")[0]!.args.map(quote).join(" ")}`,
    `  npm run sentinel -- ${tryItSteps(t, "malicious")[1]!.args.map(quote).join(" ")}`,
    `  npm run sentinel -- ${tryItSteps(t, "malicious")[3]!.args.map(quote).join(" ")}`,
    "",
    "These values are in .devnet/manifest.json under tryIt.",
    "",
  ].join("\n");
}
