// `sentinel approve` against a real API node with the real gate: the report comes first (every
// finding and its evidence), then the signed approval is submitted; a second approver's reaches
// the threshold. A non-approver key or a mistyped invocation submits nothing. As a real Safe on
// anvil: its owners' keys, or their signatures collected after --print-safe-message.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Address, Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { isValidContractSignature } from "../../src/chains/erc1271.ts";
import { runApproveCommand } from "../../src/cli/approve.ts";
import { joinSafeSignatures } from "../../src/codec/humanApproval.ts";
import { createSafe, deploySafeContracts } from "../../src/devnet/safe.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";
import { NETWORK_ID, startApiNode, submission, type ApiNode } from "../helpers/apiNode.ts";
import { APPROVAL_FINDINGS, gateCandidate, type GatedCandidate } from "../helpers/approvals.ts";

describe("sentinel approve", () => {
  let node: ApiNode;
  let gated: GatedCandidate;
  let dir: string;
  const keys: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-approve-"));
    node = await startApiNode({ enrolled: "proposer" });
    const { body, id } = await submission(node.proposer, 1n);
    assert.equal((await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).status, 202);
    await node.store.setVerification(id, {
      outcome: 1,
      reasons: "0",
      findings: [
        { check: "bytecode", code: "OK", severity: "info", message: "no forbidden opcode reachable; 1 function(s) added, 0 removed", evidence: { added: "0x12345678", removed: "" } },
        { check: "shadow-deployment", code: "OK", severity: "info", message: "invariant supply holds", evidence: { invariant: "supply", relation: "unchanged", before: "1000", after: "1000" } },
      ],
      findingsDigest: APPROVAL_FINDINGS,
      codehash: `0x${"ab".repeat(32)}`,
      digest: `0x${"cd".repeat(32)}`,
      verificationMs: 1,
      timings: {},
      details: {
        stateDiff: [{ address: "0x00000000000000000000000000000000000000a1", slot: `0x${"00".repeat(31)}05`, before: `0x${"00".repeat(32)}`, after: `0x${"00".repeat(31)}02` }],
        invariants: [{ name: "supply", relation: "unchanged", before: "1000", after: "1000", holds: true }],
      },
    });
    gated = await gateCandidate(node, id);
    // Keys of accounts that are no approvers.
    for (const [i, key] of [generatePrivateKey(), generatePrivateKey()].entries()) {
      writeFileSync(join(dir, `k${i}`), key);
      keys.push(join(dir, `k${i}`));
    }
  });
  after(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function approve(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await runApproveCommand(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
    return { code, out, err };
  }

  it("prints the report, then signs and submits; the second approver reaches the threshold", async () => {
    const [a, b] = [0, 1].map((i) => {
      const file = join(dir, `approver${i}`);
      writeFileSync(file, gated.keys[i]!);
      return file;
    });
    const first = await approve([gated.id, "--node", node.url, "--network-id", NETWORK_ID, "--key-file", a!, "--yes"]);
    assert.equal(first.code, 0, first.err);
    const report = first.out.indexOf("[bytecode]");
    assert.ok(report >= 0 && report < first.out.indexOf("approval accepted"), "the report comes before the submission");
    assert.match(first.out, /selectors added: 0x12345678/);
    assert.match(first.out, /value before: 1000/);
    assert.match(first.out, /storage the upgrade wrote, 1 slot\(s\)\]\n  0x0+a1 slot 0x0+5\n      0x0{64} -> 0x0+2/);
    assert.match(first.out, /supply \(unchanged\): 1000 -> 1000  holds/);
    assert.match(first.out, /findings digest 0x[0-9a-f]{64} {3}<- what you sign/);
    assert.match(first.out, /awaiting-approvals, 0 of 2 approvals/);
    assert.deepEqual(JSON.parse(first.out.trim().split("\n").at(-1)!), { candidateId: gated.id, approver: privateKeyToAccount(gated.keys[0]!).address, added: true, state: "awaiting-approvals", count: 1, threshold: 2 });
    const second = await approve([gated.id, "--node", node.url, "--network-id", NETWORK_ID, "--key-file", b!, "--yes"]);
    assert.equal(second.code, 0, second.err);
    assert.equal(JSON.parse(second.out.trim().split("\n").at(-1)!).state, "approved");
    assert.deepEqual(node.signedVerdicts, [gated.verdict]);
  });

  it("refuses a key that is no approver, and bad usage, submitting nothing", async () => {
    const stranger = await approve([gated.id, "--node", node.url, "--network-id", NETWORK_ID, "--key-file", keys[0]!, "--yes"]);
    assert.equal(stranger.code, 1);
    const usage = await approve([gated.id, "--node", node.url, "--network-id", NETWORK_ID, "--safe", gated.approvers[0]!.address, "--signature", "0x11"]);
    assert.equal(usage.code, 2, usage.err);
    assert.match(usage.err, /--expires-at is required/);
    const both = await approve([gated.id, "--node", node.url, "--network-id", NETWORK_ID]);
    assert.equal(both.code, 2);
  });
});

// A real 2-of-3 Safe on anvil as the third approver; the API node asks it through ERC-1271.
describe("sentinel approve --safe", () => {
  let node: ApiNode;
  let chain: TestChain;
  let safe: Address;
  let dir: string;
  const ownerKeys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-approve-safe-"));
    chain = await startTestChain();
    safe = await createSafe(chain.wallet, chain.client, await deploySafeContracts(chain.wallet, chain.client), ownerKeys.map((k) => privateKeyToAccount(k).address), 2);
    node = await startApiNode({ enrolled: "proposer" });
    node.setContractWallets((wallet, hash, signature) => isValidContractSignature({ client: chain.client, confirmations: 0 }, wallet, hash, signature));
    ownerKeys.forEach((key, i) => writeFileSync(join(dir, `owner${i}`), key));
  });
  after(async () => {
    await node.close();
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function gated(nonce: bigint): Promise<GatedCandidate> {
    const { body, id } = await submission(node.proposer, nonce);
    assert.equal((await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).status, 202);
    return gateCandidate(node, id, safe);
  }

  async function approve(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await runApproveCommand(args, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
    return { code, out, err };
  }

  it("signs as the Safe with two owners' keys; one owner's is refused", async () => {
    const candidate = await gated(1n);
    const base = [candidate.id, "--node", node.url, "--network-id", NETWORK_ID, "--safe", safe, "--yes"];
    const one = await approve([...base, "--owner-key-files", join(dir, "owner0")]);
    assert.equal(one.code, 1);
    assert.match(one.err, /BAD_SIGNATURE/);
    const two = await approve([...base, "--owner-key-files", `${join(dir, "owner2")},${join(dir, "owner0")}`]);
    assert.equal(two.code, 0, two.err);
    assert.equal(JSON.parse(two.out.trim().split("\n").at(-1)!).count, 1);
  });

  it("prints what owners sign, and submits their collected signatures", async () => {
    const candidate = await gated(2n);
    const expiresAt = String(Math.floor(Date.now() / 1000) + 3600);
    const base = [candidate.id, "--node", node.url, "--network-id", NETWORK_ID, "--safe", safe, "--expires-at", expiresAt];
    const printed = await approve([...base, "--print-safe-message"]);
    assert.equal(printed.code, 0, printed.err);
    const { safeTypedData } = JSON.parse(printed.out.slice(printed.out.indexOf("{\n"))) as { safeTypedData: { domain: { chainId: number; verifyingContract: Address }; message: { message: Hex } } };
    assert.deepEqual(safeTypedData.domain, { chainId: 31337, verifyingContract: safe });
    // Each owner signs on their own machine; joined in ascending owner order.
    const signatures = await Promise.all(ownerKeys.slice(0, 2).map(async (key) => {
      const owner = privateKeyToAccount(key);
      return { owner: owner.address, signature: await owner.signTypedData({ ...safeTypedData, domain: { ...safeTypedData.domain, chainId: BigInt(safeTypedData.domain.chainId) }, types: { SafeMessage: [{ name: "message", type: "bytes" }] }, primaryType: "SafeMessage" }) };
    }));
    const submitted = await approve([...base, "--signature", joinSafeSignatures(signatures), "--yes"]);
    assert.equal(submitted.code, 0, submitted.err);
    assert.equal(node.humanGate.status(candidate.id)?.count, 1);
    assert.deepEqual(node.humanGate.status(candidate.id)?.approvedBy, [safe]);
  });
});
