// npm start — the on-chain half of Sentinel, end to end, on two local chains:
//   1. two anvil chains with different chain ids;
//   2. a SentinelRegistry on each, with a 4-key genesis validator set admitted by proofs of
//      possession verified on chain;
//   3. a sample protocol (a UUPS vault behind SentinelGuardedUUPS) on each chain;
//   4. two upgrade candidates per chain: a benign V2 and a DrainableVault with SELFDESTRUCT;
//   5. the committee checks each candidate's deployed code for forbidden opcodes, signs an
//      APPROVE or REJECT verdict with BLS, and the aggregate attestation is recorded on BOTH
//      chains' registries (every verdict goes to every chain);
//   6. the protocol owner tries both upgrades: the benign one goes through, the malicious one
//      is refused by the guard.
// The committee signs in this process here; separate node processes that gossip, verify and
// relay are the node's job (issue #3). The last line is a JSON summary; exit code 0 only if the
// benign upgrade was approved on both chains and the malicious one refused everywhere.
import { mkdirSync, writeFileSync } from "node:fs";
import { bytesToHex, encodeAbiParameters, encodeFunctionData, keccak256, stringToHex, type Hex } from "viem";
import {
  DrainableVault,
  GuardedVaultV1,
  GuardedVaultV2,
  SentinelRegistry,
  SentinelTestERC1967Proxy,
} from "../artifacts/contracts.ts";
import { connectChain, type ChainClients } from "../src/chains/clients.ts";
import { deployContract, type Artifact } from "../src/chains/deploy.ts";
import { deployRegistry } from "../src/chains/registry.ts";
import { encodeAttestation } from "../src/codec/attestation.ts";
import { Outcome, type Verdict } from "../src/codec/types.ts";
import { ANVIL_DEV_KEYS } from "../src/devnet/accounts.ts";
import { startAnvil, type AnvilInstance } from "../src/devnet/anvil.ts";
import { LocalCommittee } from "../src/devnet/committee.ts";
import { findForbiddenOpcodes } from "../src/verify/opcodes.ts";

const CHAIN_IDS = [31337, 31338];
const NETWORK_ID = keccak256(stringToHex("sentinel-devnet"));
const COMMITTEE_SIZE = 4;
const MANIFEST_PATH = ".devnet/manifest.json";

interface DemoChain extends ChainClients {
  anvil: AnvilInstance;
  registry: Hex;
  proxy: Hex;
  candidates: { name: string; implementation: Hex; codehash: Hex }[];
}

const log = (message: string) => console.log(`[demo] ${message}`);
const anvils: AnvilInstance[] = [];
let stopping = false;
async function stopAll(): Promise<void> {
  stopping = true;
  await Promise.all(anvils.map((anvil) => anvil.stop()));
}
process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));
process.on("SIGTERM", () => void stopAll().then(() => process.exit(143)));

async function main(): Promise<boolean> {
  const committee = LocalCommittee.generate(COMMITTEE_SIZE, NETWORK_ID);
  log(`committee: ${committee.size} BLS keys, threshold ${committee.threshold}`);

  const chains: DemoChain[] = [];
  for (const chainId of CHAIN_IDS) {
    const anvil = await startAnvil({ chainId });
    anvils.push(anvil);
    const clients = connectChain(chainId, anvil.rpcUrl, ANVIL_DEV_KEYS[0]!);
    const deploy = (artifact: Artifact, args: readonly unknown[] = []) =>
      deployContract(clients.wallet, clients.client, artifact, args);
    const { address: registry, admissionGasUsed } = await deployRegistry(clients, {
      networkId: NETWORK_ID,
      rotationGracePeriodSeconds: 3600n,
      genesis: committee.genesis(),
    });
    log(`chain ${chainId} at ${anvil.rpcUrl}: registry ${registry} (proofs of possession admitted, ${admissionGasUsed[0]} gas)`);

    const owner = clients.wallet.account.address;
    const v1 = await deploy(GuardedVaultV1, [registry]);
    const init = encodeFunctionData({ abi: GuardedVaultV1.abi, functionName: "initialize", args: [owner, 100n] });
    const proxy = await deploy(SentinelTestERC1967Proxy, [v1, init]);
    const candidates = [];
    for (const [name, artifact] of [
      ["benign V2", GuardedVaultV2],
      ["malicious DrainableVault", DrainableVault],
    ] as const) {
      const implementation = await deploy(artifact, [registry]);
      const code = await clients.client.getCode({ address: implementation });
      candidates.push({ name, implementation, codehash: keccak256(code!) });
    }
    log(`chain ${chainId}: protocol proxy ${proxy}, candidates deployed (not yet activated)`);
    chains.push({ ...clients, anvil, registry, proxy, candidates });
  }

  const outcomes: Record<string, { verdict: string; findings: string[]; recordedOn: number[] }> = {};
  for (const chain of chains) {
    for (const candidate of chain.candidates) {
      const code = await chain.client.getCode({ address: candidate.implementation });
      const hits = findForbiddenOpcodes(code!);
      const outcome = hits.length === 0 ? Outcome.Approve : Outcome.Reject;
      const now = (await chain.client.getBlock()).timestamp;
      const verdict: Verdict = {
        candidateId: keccak256(
          encodeAbiParameters(
            [{ type: "uint256" }, { type: "address" }, { type: "address" }],
            [BigInt(chain.chain.id), chain.proxy, candidate.implementation],
          ),
        ),
        chainId: BigInt(chain.chain.id),
        target: chain.proxy,
        codehash: candidate.codehash,
        outcome,
        policyHash: keccak256(stringToHex("demo-policy: no SELFDESTRUCT, no CALLCODE")),
        reasons: hits.length === 0 ? 0n : 1n,
        findingsDigest: keccak256(stringToHex(JSON.stringify(hits))),
        issuedAt: now,
        expiresAt: now + 86_400n,
      };
      const attestation = encodeAttestation(committee.attest(verdict, 0, committee.firstSigners(committee.threshold)));
      const key = `${candidate.name} @ chain ${chain.chain.id}`;
      outcomes[key] = { verdict: outcome === Outcome.Approve ? "APPROVE" : "REJECT", findings: hits.map((h) => `${h.name} at pc ${h.pc}`), recordedOn: [] };
      log(`${key}: ${outcomes[key].verdict}${hits.length ? ` (${outcomes[key].findings.join(", ")})` : ""}, signed by ${committee.threshold}/${committee.size}`);
      for (const destination of chains) {
        const hash = await destination.wallet.writeContract({
          address: destination.registry,
          abi: SentinelRegistry.abi,
          functionName: "submitAttestation",
          args: [attestation],
        });
        const receipt = await destination.client.waitForTransactionReceipt({ hash });
        if (receipt.status === "success") outcomes[key].recordedOn.push(destination.chain.id);
      }
    }
  }

  const upgrades: Record<string, string> = {};
  let correct = true;
  for (const chain of chains) {
    for (const candidate of chain.candidates) {
      const key = `${candidate.name} @ chain ${chain.chain.id}`;
      const approvedEverywhere = await Promise.all(
        chains.map((registryChain) =>
          registryChain.client.readContract({
            address: registryChain.registry,
            abi: SentinelRegistry.abi,
            functionName: "isApproved",
            args: [BigInt(chain.chain.id), chain.proxy, candidate.codehash],
          }),
        ),
      );
      let upgraded: boolean;
      try {
        const { request } = await chain.client.simulateContract({
          account: chain.wallet.account,
          address: chain.proxy,
          abi: GuardedVaultV1.abi,
          functionName: "upgradeToAndCall",
          args: [candidate.implementation, "0x"],
        });
        await chain.client.waitForTransactionReceipt({ hash: await chain.wallet.writeContract(request) });
        upgraded = true;
      } catch (error) {
        upgraded = false;
        upgrades[`${key} refusal`] = (error as Error).message.split("\n").find((line) => line.startsWith("Error:")) ?? "reverted";
      }
      const version = await chain.client.readContract({ address: chain.proxy, abi: GuardedVaultV1.abi, functionName: "version" });
      upgrades[key] = upgraded ? `upgraded (version ${version})` : `refused (version stays ${version})`;
      log(`${key}: isApproved on chains [${approvedEverywhere.join(", ")}]; upgrade ${upgrades[key]}`);
      const benign = candidate.name.startsWith("benign");
      correct &&= benign ? upgraded && approvedEverywhere.every(Boolean) : !upgraded && !approvedEverywhere.some(Boolean);
    }
  }

  mkdirSync(".devnet", { recursive: true });
  writeFileSync(
    MANIFEST_PATH,
    JSON.stringify(
      {
        networkId: NETWORK_ID,
        chains: chains.map((c) => ({ chainId: c.chain.id, rpcUrl: c.anvil.rpcUrl, registry: c.registry, protocolProxy: c.proxy })),
        validatorPublicKeys: committee.publicKeys.map((pk) => bytesToHex(pk.toBytes(false))),
        threshold: committee.threshold,
      },
      null,
      2,
    ),
  );
  log(`manifest written to ${MANIFEST_PATH} (the chains stop when the demo exits)`);
  console.log(JSON.stringify({ ok: correct, verdicts: outcomes, upgrades }));
  return correct;
}

let ok = false;
try {
  ok = await main();
} catch (error) {
  if (!stopping) console.error(error);
} finally {
  await stopAll();
}
process.exit(ok ? 0 : 1);
