// The binding on the command line, in process, against a real anvil chain and registry:
// `sentinel candidate create --binding` signs a BoundCandidate (and refuses a zero binding);
// `sentinel verify-attestation` shows whether an attestation is bound, and to what;
// `sentinel upgrade` names a bound approval as the reason the UUPS guard refused.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bytesToHex, encodeFunctionData, keccak256, stringToHex, zeroHash, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { GuardedVaultV1, GuardedVaultV2, SentinelTestERC1967Proxy } from "../../artifacts/contracts.ts";
import { runCandidateCommand } from "../../src/cli/candidate.ts";
import { runUpgradeCommand } from "../../src/cli/upgrade.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import { runVerifyAttestationCommand } from "../../src/cli/verifyAttestation.ts";
import { encodeAttestation } from "../../src/codec/attestation.ts";
import { candidateId, parseSignedCandidate, recoverProposer } from "../../src/codec/candidate.ts";
import { Outcome } from "../../src/codec/types.ts";
import { rawBundle } from "../helpers/apiNode.ts";
import { Gate } from "../helpers/guardGate.ts";

const randomHex = (bytes: number): Hex => bytesToHex(randomBytes(bytes));

async function run(command: (argv: string[], io: { stdout: (s: string) => void; stderr: (s: string) => void }) => Promise<number>, argv: string[]) {
  let stdout = "";
  let stderr = "";
  const status = await command(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { status, stdout, stderr };
}

describe("the binding in the CLI", () => {
  let gate: Gate;
  const dir = mkdtempSync(join(tmpdir(), "sentinel-cli-binding-"));
  const key = generatePrivateKey();
  const keyFile = join(dir, "proposer.key");
  const bundleFile = join(dir, "bundle.json");

  before(async () => {
    gate = await Gate.start("cli-binding");
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    writeFileSync(bundleFile, JSON.stringify(rawBundle()));
  });
  after(async () => {
    await gate?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = (extra: string[]) =>
    run(runCandidateCommand, [
      "create", "--bundle", bundleFile, "--rpc", gate.chain.anvil.rpcUrl,
      "--target", `0x${"11".repeat(20)}`, "--implementation", `0x${"22".repeat(20)}`,
      "--proposer-key-file", keyFile, "--network-id", gate.committee.networkId, ...extra,
    ]);

  it("candidate create --binding signs the bound candidate; a zero binding is a usage error", async () => {
    const binding = randomHex(32);
    const out = join(dir, "candidate.json");
    const created = await create(["--binding", binding, "--out", out]);
    assert.equal(created.status, 0, created.stderr);
    const file = JSON.parse(readFileSync(out, "utf8")) as { candidateId: Hex };
    const signed = parseSignedCandidate(file);
    assert.equal(signed.candidate.binding, binding);
    assert.equal(file.candidateId, candidateId(gate.committee.networkId, signed.candidate));
    assert.equal(recoverProposer(gate.committee.networkId, signed), privateKeyToAccount(key).address);

    const zero = await create(["--binding", zeroHash]);
    assert.equal(zero.status, 2);
    assert.match(zero.stderr, /--binding must be 0x followed by 64 hex digits, not all zero/);
  });

  it("verify-attestation shows the binding, or that there is none", async () => {
    const now = await gate.now();
    const verdict = {
      candidateId: randomHex(32),
      chainId: BigInt(gate.chain.chain.id),
      target: `0x${"33".repeat(20)}` as Address,
      codehash: randomHex(32),
      outcome: Outcome.Approve,
      policyHash: keccak256(stringToHex("policy")),
      reasons: 0n,
      findingsDigest: randomHex(32),
      issuedAt: now,
      expiresAt: now + 3600n,
    };
    const signers = gate.committee.firstSigners(gate.committee.threshold);
    const binding = randomHex(32);
    const bound = encodeAttestation(gate.committee.attest({ ...verdict, binding }, 0, signers));
    const args = (encoded: Hex, extra: string[] = []) => [encoded, "--rpc", gate.chain.anvil.rpcUrl, "--registry", gate.registry, ...extra];

    const json = await run(runVerifyAttestationCommand, args(bound, ["--json", "--on-chain"]));
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { valid: boolean; binding: Hex | null; onChain: { valid: boolean } };
    assert.equal(report.valid, true);
    assert.equal(report.onChain.valid, true);
    assert.equal(report.binding, binding);
    const text = await run(runVerifyAttestationCommand, args(bound));
    assert.match(text.stdout, new RegExp(`bound to operation ${binding}`));

    const unbound = encodeAttestation(gate.committee.attest(verdict, 0, signers));
    const plain = await run(runVerifyAttestationCommand, args(unbound, ["--json"]));
    assert.equal((JSON.parse(plain.stdout) as { binding: Hex | null }).binding, null);
    assert.match((await run(runVerifyAttestationCommand, args(unbound))).stdout, /unbound: any operation/);
  });

  it("upgrade: a UUPS guard refuses a bound approval, and the CLI says it is bound and to what", async () => {
    const owner = gate.chain.wallet.account.address;
    const v1 = await gate.deploy(GuardedVaultV1, [gate.registry]);
    const v2 = await gate.deploy(GuardedVaultV2, [gate.registry]);
    const init = encodeFunctionData({ abi: GuardedVaultV1.abi, functionName: "initialize", args: [owner, 1n] });
    const proxy = await gate.deploy(SentinelTestERC1967Proxy, [v1, init]);
    const ownerKey = join(dir, "owner.key");
    writeFileSync(ownerKey, `${ANVIL_DEV_KEYS[0]}\n`, { mode: 0o600 });
    const binding = randomHex(32);
    await gate.approve(proxy, v2, { binding });
    const upgrade = () => run(runUpgradeCommand, ["--rpc", gate.chain.anvil.rpcUrl, "--proxy", proxy, "--implementation", v2, "--key-file", ownerKey]);
    const refused = await upgrade();
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, new RegExp(`is bound to operation ${binding}`));
    assert.equal(await gate.implementationOf(proxy), v1);
    // An unbound approval issued later replaces it, and the same command upgrades.
    await gate.approve(proxy, v2, { issuedAt: (await gate.now()) + 1n });
    const upgraded = await upgrade();
    assert.equal(upgraded.status, 0, upgraded.stderr);
    assert.equal(await gate.implementationOf(proxy), v2);
  });
});
