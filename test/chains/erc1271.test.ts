// ERC-1271 approvals from the real Safe (1.5.0's build artifacts) on a real anvil: a 2-of-3 Safe
// as a policy approver. Its owners sign the SafeMessage wrapping of the HumanApproval digest;
// two owners' signatures verify, one does not, nor two owners' signatures of another
// candidate's approval, nor a signature an owner made of the bare digest.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { Erc1271Unavailable, isValidContractSignature } from "../../src/chains/erc1271.ts";
import { joinSafeSignatures, safeApprovalTypedData, type SignedHumanApproval } from "../../src/codec/humanApproval.ts";
import { humanApprovalDigest, type HumanApproval } from "../../src/codec/types.ts";
import { verifyApproval } from "../../src/consensus/validation/approval.ts";
import { createSafe, deploySafeContracts } from "../../src/devnet/safe.ts";
import { startTestChain, type TestChain } from "../helpers/chain.ts";
import { chainReader } from "../../src/chains/clients.ts";

const NETWORK = keccak256(stringToHex("safe-test"));
const owners = [0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey()));
let chain: TestChain;
let safe: Address;

before(async () => {
  chain = await startTestChain();
  const deployment = await deploySafeContracts(chain.wallet, chain.client);
  safe = await createSafe(chain.wallet, chain.client, deployment, owners.map((o) => o.address), 2);
});
after(() => chain?.stop());

async function ownerSignatures(signers: typeof owners, approvalDigest: Hex) {
  return Promise.all(signers.map(async (owner) => ({ owner: owner.address, signature: await owner.signTypedData(safeApprovalTypedData(31337, safe, approvalDigest)) })));
}

function approval(candidateId: Hex): HumanApproval {
  return { candidateId, findingsDigest: keccak256(stringToHex("findings")), expiresAt: 4_000_000_000n };
}

describe("a Safe as an approver (ERC-1271)", () => {
  const ref = () => ({ client: chain.client, confirmations: 0 });

  it("accepts the signatures of threshold owners of the SafeMessage wrapping the approval digest", async () => {
    const digest = humanApprovalDigest(NETWORK, approval(keccak256(stringToHex("c1"))));
    const signature = joinSafeSignatures(await ownerSignatures([owners[2]!, owners[0]!], digest));
    assert.equal(await isValidContractSignature(ref(), safe, digest, signature), true);
    // The node's whole rule, with the Safe in the policy.
    const signed: SignedHumanApproval = { ...approval(keccak256(stringToHex("c1"))), approver: safe, signature };
    await verifyApproval(signed, { networkId: NETWORK, gate: { threshold: 1, approvers: [safe] }, findingsDigest: signed.findingsDigest, nowSeconds: 1n }, { isValidSignature: (w, h, s) => isValidContractSignature(ref(), w, h, s) });
  });

  it("refuses one owner's signature, another candidate's, an unsorted pair, and the bare digest signed", async () => {
    const digest = humanApprovalDigest(NETWORK, approval(keccak256(stringToHex("c1"))));
    const other = humanApprovalDigest(NETWORK, approval(keccak256(stringToHex("c2"))));
    const one = joinSafeSignatures(await ownerSignatures([owners[0]!], digest));
    assert.equal(await isValidContractSignature(ref(), safe, digest, one), false);
    const replayed = joinSafeSignatures(await ownerSignatures([owners[0]!, owners[1]!], other));
    assert.equal(await isValidContractSignature(ref(), safe, digest, replayed), false);
    const pair = await ownerSignatures([owners[0]!, owners[1]!], digest);
    const sorted = joinSafeSignatures(pair);
    const unsorted = `0x${sorted.slice(132)}${sorted.slice(2, 132)}` as Hex;
    assert.equal(await isValidContractSignature(ref(), safe, digest, unsorted), false);
    const bare = `0x${(await Promise.all(owners.slice(0, 2).sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1)).map((o) => o.sign({ hash: digest })))).map((s) => s.slice(2)).join("")}` as Hex;
    assert.equal(await isValidContractSignature(ref(), safe, digest, bare), false);
  });

  it("says no for an address without code, and unavailable when the chain cannot be reached", async () => {
    const digest = humanApprovalDigest(NETWORK, approval(keccak256(stringToHex("c1"))));
    assert.equal(await isValidContractSignature(ref(), owners[0]!.address, digest, `0x${"11".repeat(65)}`), false);
    const dead = { client: chainReader(31337, "http://127.0.0.1:9", { timeoutMs: 2_000 }), confirmations: 0 };
    await assert.rejects(isValidContractSignature(dead, safe, digest, `0x${"11".repeat(65)}`), Erc1271Unavailable);
  });
});
