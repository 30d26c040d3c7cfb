// The README's journeys, as a new user runs them against the devnet: the protocol journey with
// the CLI (bundle from the build-info the devnet writes, candidate, dry run, submit --wait,
// status, attestation, verify-attestation, the guarded upgrade), each command a real process run
// from a directory that is not the checkout, so relative paths are the caller's; and a relayer
// with the client: subscribed to a node's event stream, it receives the attestation and verifies
// it offline and on another chain. Each accepted step has its refused twin: the malicious
// upgrade rejected and refused by the guard, a tampered attestation invalid offline and on chain.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Hex } from "viem";
import { SentinelRegistry } from "../../artifacts/contracts.ts";
import { SentinelClient, readValidatorSet, verifyAttestationOffline, type NodeEvent, type Subscription } from "../../src/client/index.ts";
import { startDevnet, type Devnet } from "../../src/devnet/devnet.ts";
import { prepareTryIt, tryItSteps, tryItText, type TryIt } from "../../src/devnet/tryIt.ts";

const CLI = fileURLToPath(new URL("../../src/cli/sentinel.ts", import.meta.url));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe("the README's journeys on a devnet", { timeout: 600_000 }, () => {
  let devnet: Devnet;
  let tryIt: TryIt;
  const work = mkdtempSync(join(tmpdir(), "sentinel-journey-"));
  let relayer: Subscription | undefined;
  const formed: NodeEvent[] = [];

  /** `npm run sentinel -- <args>` as the user types it, run from their own directory. */
  const sentinel = (args: string[]): Promise<Run> => {
    const env = { ...process.env };
    delete env["INIT_CWD"];
    delete env["npm_lifecycle_event"];
    return new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { cwd: work, env, encoding: "utf8", timeout: 240_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
        resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
      });
    });
  };
  const ok = (run: Run, what: string) => assert.equal(run.status, 0, `${what}: exit ${run.status}\n${run.stdout}\n${run.stderr}`);

  before(async () => {
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-journey-devnet-${process.pid}`), nodeLogLevel: "info" });
    tryIt = await prepareTryIt(devnet);
    // The relayer follows another node than the one the proposer submits to: gossip brings it.
    relayer = new SentinelClient({ url: devnet.nodes[1]!.apiUrl }).subscribe({ types: ["attestation.formed"] }, (event) => formed.push(event));
  });
  after(async () => {
    relayer?.close();
    await devnet?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("the devnet writes the build-info and a try-it section with this devnet's values", () => {
    const info = JSON.parse(readFileSync(tryIt.buildInfo, "utf8")) as { solcLongVersion: string; input: { sources: Record<string, unknown> }; output: { contracts: Record<string, unknown> } };
    assert.match(info.solcLongVersion, /^0\.8\.37\+commit\./);
    assert.ok(info.input.sources["contracts/test/GuardedVault.sol"]);
    assert.ok(info.output.contracts["contracts/test/DrainableVault.sol"]);
    const manifest = JSON.parse(readFileSync(devnet.manifestPath, "utf8")) as { tryIt: TryIt };
    assert.equal(manifest.tryIt.chain.proxy, tryIt.chain.proxy);
    const text = tryItText(tryIt);
    for (const step of tryItSteps(tryIt)) assert.ok(text.includes(`npm run sentinel -- ${step.args[0]}`), step.args[0]);
    assert.ok(text.includes(tryIt.chain.proxy) && text.includes(tryIt.node));
  });

  it("protocol journey: bundle → candidate → check → submit --wait → status → attestation → verify-attestation → upgrade", async () => {
    const [bundle, candidate, check, submit, status, attestation, verify, upgrade] = tryItSteps(tryIt);
    ok(await sentinel(bundle!.args), "bundle create");
    assert.ok(existsSync(join(work, "bundle.json")), "bundle.json in the caller's directory");
    const created = await sentinel(candidate!.args);
    ok(created, "candidate create");
    const { candidateId } = JSON.parse(created.stdout) as { candidateId: Hex };

    const dryRun = await sentinel(check!.args);
    ok(dryRun, "check");
    assert.match(dryRun.stdout, /^APPROVE$/m);

    // Refused before the approval: the guard's answer, named, exit 1.
    const early = await sentinel(upgrade!.args);
    assert.equal(early.status, 1, early.stderr);
    assert.match(early.stderr, /the guard refused it: the registry has not approved codehash/);

    const submitted = await sentinel(submit!.args);
    ok(submitted, "submit --wait");
    assert.match(submitted.stdout, new RegExp(`candidate ${candidateId} admitted by`));
    assert.match(submitted.stdout, /\] attestation formed: APPROVE signed by validators/);
    assert.match(submitted.stdout, /^APPROVED: recorded on chains 31337, 31338; digest 0x[0-9a-f]{64}$/m);

    const shown = await sentinel(status!.args);
    ok(shown, "status");
    assert.match(shown.stdout, /attestation +APPROVE by validators/);
    assert.match(shown.stdout, /chain 31337 +(submitted|already-recorded)/);

    ok(await sentinel(attestation!.args), "attestation --out");
    const record = JSON.parse(readFileSync(join(work, "attestation.json"), "utf8")) as { candidateId: Hex; encoded: Hex };
    assert.equal(record.candidateId, candidateId);

    const verified = await sentinel(verify!.args);
    ok(verified, "verify-attestation");
    assert.match(verified.stdout, /offline \(the node's code, set read from 0x[0-9a-fA-F]{40}\): VALID/);
    assert.match(verified.stdout, /on chain \(registry\.verifyAttestation\): VALID/);

    // A tampered attestation (one byte of the codehash): invalid offline and on chain, exit 1.
    const tampered = `${record.encoded.slice(0, 2 + 130 * 2)}${record.encoded.slice(2 + 130 * 2, 2 + 131 * 2) === "00" ? "01" : "00"}${record.encoded.slice(2 + 131 * 2)}`;
    const refused = await sentinel(["verify-attestation", tampered, ...verify!.args.slice(2)]);
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout, /offline .*: INVALID: BAD_SIGNATURE/);
    assert.match(refused.stdout, /on chain \(registry\.verifyAttestation\): INVALID/);

    const upgraded = await sentinel(upgrade!.args);
    ok(upgraded, "upgrade");
    assert.match(upgraded.stdout, new RegExp(`upgraded ${tryIt.chain.proxy} to ${tryIt.chain.benign}`, "i"));
  });

  it("the malicious upgrade: submit --wait exits 1 (REJECTED, recorded everywhere) and the guard refuses it", async () => {
    const [bundle, candidate, , submit, , , , upgrade] = tryItSteps(tryIt, "malicious");
    ok(await sentinel(bundle!.args), "bundle create (malicious)");
    ok(await sentinel(candidate!.args), "candidate create (malicious)");
    const submitted = await sentinel(submit!.args);
    assert.equal(submitted.status, 1, submitted.stdout + submitted.stderr);
    assert.match(submitted.stdout, /^REJECTED: recorded on chains 31337, 31338/m);
    const refused = await sentinel(upgrade!.args);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /the guard refused it/);
  });

  it("relayer journey: subscribe, receive the attestation, verify it offline and on chain with the client", async () => {
    const candidate = JSON.parse(readFileSync(join(work, "candidate.json"), "utf8")) as { candidateId: Hex };
    const deadline = Date.now() + 60_000;
    let event: NodeEvent | undefined;
    while (!(event = formed.find((e) => e.candidateId === candidate.candidateId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(event, "attestation.formed received on the stream");
    assert.equal(relayer!.lastEventId >= event.id, true);
    const encoded = (event.data as { encoded: Hex }).encoded;
    // Verified against the registry of the other chain: the verdict names its own chain.
    const set = await readValidatorSet({ rpcUrl: tryIt.otherChain.rpcUrl, registry: tryIt.otherChain.registry });
    const offline = verifyAttestationOffline(encoded, { networkId: set.networkId, set });
    assert.equal(offline.valid, true, offline.reason);
    assert.equal(offline.verdict.candidateId, candidate.candidateId);
    assert.equal(offline.signers.length >= set.threshold, true);
    const other = devnet.chains[1]!;
    assert.equal(await other.client.readContract({ address: other.registry, abi: SentinelRegistry.abi, functionName: "verifyAttestation", args: [encoded] }), true);
    // The same bytes under another network id: invalid, and said why.
    const wrong = verifyAttestationOffline(encoded, { networkId: `0x${"42".repeat(32)}`, set });
    assert.equal(wrong.valid, false);
    assert.match(wrong.reason ?? "", /^WRONG_NETWORK/);
    assert.throws(() => verifyAttestationOffline(encoded.slice(0, 100) as Hex, { networkId: set.networkId, set }), { code: "ATTESTATION_MALFORMED" });
  });
});
