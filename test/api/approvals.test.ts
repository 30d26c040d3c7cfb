// POST /v1/candidates/{id}/approvals on the real server and the real gate: each bad input gets
// its own 4xx and code and changes nothing; two good approvals sign the verdict.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { keccak256, numberToHex, stringToHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startApiNode, submission, type ApiNode } from "../helpers/apiNode.ts";
import { gateCandidate, signApproval, type GatedCandidate } from "../helpers/approvals.ts";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("POST /v1/candidates/{id}/approvals", () => {
  let node: ApiNode;
  let gated: GatedCandidate;
  let ungated: Hex;

  before(async () => {
    node = await startApiNode({ enrolled: "proposer" });
    const first = await submission(node.proposer, 1n);
    const second = await submission(node.proposer, 2n);
    for (const { body } of [first, second]) {
      const response = await fetch(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      assert.equal(response.status, 202);
    }
    gated = await gateCandidate(node, first.id);
    ungated = second.id;
  });
  after(() => node.close());

  async function post(id: Hex, body: unknown, contentType = "application/json"): Promise<{ status: number; body: { error?: string; status?: string; humanGate?: { count: number; state: string } } }> {
    const response = await fetch(`${node.url}/v1/candidates/${id}/approvals`, { method: "POST", headers: { "content-type": contentType }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as never };
  }

  it("refuses each bad approval with its own status and code, counting nothing", async () => {
    const [a, , c] = gated.approvers;
    const good = await signApproval(a!, gated.id);
    const cases: [string, Hex, unknown, number, string][] = [
      ["not JSON of an approval", gated.id, { ...good, signature: "0x12" }, 400, "MALFORMED"],
      ["a truncated signature", gated.id, { ...good, signature: good.signature.slice(0, 100) }, 400, "MALFORMED"],
      ["an oversized signature", gated.id, { ...good, signature: `0x${"ab".repeat(5000)}` }, 400, "MALFORMED"],
      ["a forged signature", gated.id, { ...(await signApproval(privateKeyToAccount(generatePrivateKey()), gated.id)), approver: a!.address }, 400, "BAD_SIGNATURE"],
      ["another network's", gated.id, await signApproval(a!, gated.id, {}, keccak256(stringToHex("other network"))), 400, "BAD_SIGNATURE"],
      ["replayed from another candidate", gated.id, { ...(await signApproval(a!, ungated)), candidateId: gated.id }, 400, "BAD_SIGNATURE"],
      ["expired", gated.id, await signApproval(a!, gated.id, { expiresAt: 1000n }), 400, "EXPIRED"],
      ["not an approver", gated.id, await signApproval(privateKeyToAccount(generatePrivateKey()), gated.id), 403, "NOT_APPROVER"],
      ["of other findings", gated.id, await signApproval(a!, gated.id, { findingsDigest: keccak256("0x99") }), 409, "OTHER_FINDINGS"],
      ["for a candidate the path does not name", ungated, good, 404, "UNKNOWN_CANDIDATE"],
      ["for an unknown candidate", keccak256("0x01"), await signApproval(a!, keccak256("0x01")), 404, "UNKNOWN_CANDIDATE"],
      ["for a candidate not awaiting approvals", ungated, await signApproval(a!, ungated), 409, "NOT_VERIFIED"],
    ];
    const s = BigInt(`0x${good.signature.slice(66, 130)}`);
    const v = good.signature.endsWith("1b") ? "1c" : "1b";
    cases.push(["the malleable twin", gated.id, { ...good, signature: `0x${good.signature.slice(2, 66)}${numberToHex(N - s, { size: 32 }).slice(2)}${v}` }, 400, "MALLEABLE_SIGNATURE"]);
    for (const [name, id, body, status, code] of cases) {
      const answer = await post(id, body);
      assert.equal(answer.status, status, `${name}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, code, name);
    }
    assert.equal((await post(gated.id, good, "text/plain")).status, 415);
    // A contract wallet's answer that could not be had (the chain down) is the node's problem: 503.
    node.setContractWallets(async () => {
      throw new Error("chain down");
    });
    const asWallet = { ...(await signApproval(c!, gated.id)), signature: `0x${"11".repeat(130)}` };
    assert.equal((await post(gated.id, asWallet)).body.error, "UNVERIFIABLE");
    node.setContractWallets(async () => false);
    assert.equal(node.humanGate.status(gated.id)?.count, 0);
  });

  it("counts an approver once, shows the state, and signs at the threshold", async () => {
    const [a, b, c] = gated.approvers;
    const first = await post(gated.id, await signApproval(a!, gated.id));
    assert.deepEqual([first.status, first.body.status, first.body.humanGate?.count, first.body.humanGate?.state], [202, "accepted", 1, "awaiting-approvals"]);
    const again = await post(gated.id, await signApproval(a!, gated.id, { expiresAt: BigInt(Math.floor(Date.now() / 1000) + 7200) }));
    assert.deepEqual([again.status, again.body.status, again.body.humanGate?.count], [200, "known", 1]);
    const status = (await (await fetch(`${node.url}/v1/candidates/${gated.id}`)).json()) as { humanGate: { state: string; count: number; threshold: number } };
    assert.deepEqual([status.humanGate.state, status.humanGate.count, status.humanGate.threshold], ["awaiting-approvals", 1, 2]);
    assert.deepEqual(node.signedVerdicts, []);
    const second = await post(gated.id, await signApproval(b!, gated.id));
    assert.deepEqual([second.status, second.body.humanGate?.state], [202, "approved"]);
    assert.deepEqual(node.signedVerdicts, [gated.verdict]);
    const late = await post(gated.id, await signApproval(c!, gated.id));
    assert.deepEqual([late.status, late.body.error], [409, "DECIDED"]);
  });
});
