// `sentinel registry deploy` and `sentinel enroll` on a real anvil chain, run from a directory
// that is not the checkout (relative paths): a registry for one's own validator set, every proof
// of possession checked before sending; an enrollment from the target's authority, and the same
// refused from any other key, since nodes would never read it.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { bytesToHex, encodeFunctionData, getAddress, keccak256, stringToHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { GuardedVaultV1, SentinelRegistry, SentinelTestERC1967Proxy } from "../../artifacts/contracts.ts";
import { DEFAULT_POLICY, policyHash } from "../../src/codec/policy.ts";
import { signProofOfPossession } from "../../src/consensus/validatorSet.ts";
import { generateSecretKey, publicKeyRaw, signatureToEip2537 } from "../../src/crypto/bls.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";

const CLI = fileURLToPath(new URL("../../src/cli/sentinel.ts", import.meta.url));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe("sentinel registry deploy and enroll on a real chain", { timeout: 180_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), "sentinel-registry-cli-"));
  const networkId = keccak256(stringToHex("registry-cli"));
  let chain: TestChain;
  let registry: Address;

  const sentinel = (args: string[]): Promise<Run> => {
    const env = { ...process.env };
    delete env["INIT_CWD"];
    return new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { cwd: work, env, encoding: "utf8", timeout: 120_000 }, (error, stdout, stderr) => {
        resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
      });
    });
  };
  const validator = (network: Hex) => {
    const secretKey = generateSecretKey();
    return { publicKey: bytesToHex(publicKeyRaw(secretKey.toPublicKey())), proofOfPossession: signatureToEip2537(signProofOfPossession(secretKey, network)) };
  };

  before(async () => {
    chain = await startTestChain();
    writeFileSync(join(work, "deployer.key"), `${ANVIL_DEV_KEYS[0]!}\n`);
    writeFileSync(join(work, "stranger.key"), `${ANVIL_DEV_KEYS[1]!}\n`);
  });
  after(async () => {
    await chain?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("registry deploy: a proof of possession for another network is named before anything is sent (exit 2)", async () => {
    const list = [validator(networkId), validator(networkId), { ...validator(keccak256(stringToHex("another"))) }];
    writeFileSync(join(work, "bad-validators.json"), JSON.stringify(list));
    const nonce = await chain.client.getTransactionCount({ address: chain.wallet.account.address });
    const run = await sentinel(["registry", "deploy", "--rpc", chain.anvil.rpcUrl, "--key-file", "deployer.key", "--network-id", networkId, "--validators", "bad-validators.json"]);
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /bad-validators\.json\[2\]\.proofOfPossession does not prove possession of its key for network/);
    assert.equal(await chain.client.getTransactionCount({ address: chain.wallet.account.address }), nonce, "nothing sent");
    const low = await sentinel(["registry", "deploy", "--rpc", chain.anvil.rpcUrl, "--key-file", "deployer.key", "--network-id", networkId, "--validators", "bad-validators.json", "--threshold", "1"]);
    assert.equal(low.status, 2);
  });

  it("registry deploy: the set admitted on chain (keys sorted, PoPs checked there too), the network id and threshold as asked", async () => {
    // What `sentinel keys show` prints for each validator, networkId included.
    writeFileSync(join(work, "validators.json"), JSON.stringify(Array.from({ length: 4 }, () => ({ networkId, ...validator(networkId) }))));
    const run = await sentinel(["registry", "deploy", "--rpc", chain.anvil.rpcUrl, "--key-file", "deployer.key", "--network-id", networkId, "--validators", "validators.json", "--json"]);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { registry: Address; chainId: number; validators: number; threshold: number };
    assert.deepEqual({ chainId: result.chainId, validators: result.validators, threshold: result.threshold }, { chainId: 31337, validators: 4, threshold: 3 });
    registry = result.registry;
    assert.equal(await chain.client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName: "hasActiveSet" }), true);
    assert.equal(await chain.client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName: "NETWORK_ID" }), networkId);
  });

  it("enroll: refused from a key that is not the target's authority (exit 1, naming the authority); done from the owner", async () => {
    assert.ok(registry, "needs the registry of the previous test");
    const owner = privateKeyToAccount(ANVIL_DEV_KEYS[0]!).address;
    const implementation = await chain.deploy(GuardedVaultV1, [registry]);
    const proxy = await chain.deploy(SentinelTestERC1967Proxy, [implementation, encodeFunctionData({ abi: GuardedVaultV1.abi, functionName: "initialize", args: [owner, 100n] })]);
    const proposer = privateKeyToAccount(ANVIL_DEV_KEYS[2]!).address;
    const args = ["enroll", "--rpc", chain.anvil.rpcUrl, "--registry", registry, "--target", proxy, "--proposer", proposer];

    const stranger = await sentinel([...args, "--key-file", "stranger.key"]);
    assert.equal(stranger.status, 1, stranger.stderr);
    assert.match(stranger.stderr, new RegExp(`is not the upgrade authority of ${getAddress(proxy)}: the authority is ${owner} \\(owner\\)`));

    const enrolled = await sentinel([...args, "--key-file", "deployer.key", "--json"]);
    assert.equal(enrolled.status, 0, enrolled.stderr);
    const entry = await chain.client.readContract({ address: registry, abi: SentinelRegistry.abi, functionName: "enrollment", args: [proxy, owner] });
    assert.deepEqual(entry.proposers, [proposer]);
    assert.equal(entry.policyHash, policyHash(DEFAULT_POLICY));
  });
});
