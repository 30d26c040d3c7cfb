// Human approval verification: the typed-data digest is fixed, and each rule refuses its
// adversarial twin (forged, non-approver, replayed from another candidate, other findings,
// expired, other network, truncated / oversized / malleable signatures).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { concat, encodeAbiParameters, keccak256, numberToHex, stringToHex, toHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { ApprovalFormatError, decodeSignedApproval, encodeSignedApproval, parseSignedApproval, signedApprovalToJson, type SignedHumanApproval } from "../../../src/codec/humanApproval.ts";
import type { HumanGate } from "../../../src/codec/policy.ts";
import { encodeType, humanApprovalDigest, sentinelDomain, SENTINEL_TYPES, type HumanApproval } from "../../../src/codec/types.ts";
import { ApprovalError, verifyApproval, type ApprovalContext } from "../../../src/consensus/validation/approval.ts";

const NETWORK = keccak256(stringToHex("approval-test"));
const CANDIDATE = keccak256(stringToHex("candidate-1"));
const FINDINGS = keccak256(stringToHex("findings-1"));
const NOW = 1_800_000_000n;
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const accounts = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()].map((key) => privateKeyToAccount(key));
const gate: HumanGate = { threshold: 2, approvers: accounts.map((a) => a.address) };
const context: ApprovalContext = { networkId: NETWORK, gate, findingsDigest: FINDINGS, nowSeconds: NOW };
const noWallets = { isValidSignature: async () => false };

async function approve(account: PrivateKeyAccount, fields: Partial<HumanApproval> = {}, networkId: Hex = NETWORK): Promise<SignedHumanApproval> {
  const message: HumanApproval = { candidateId: CANDIDATE, findingsDigest: FINDINGS, expiresAt: NOW + 3600n, ...fields };
  const signature = await account.signTypedData({ domain: sentinelDomain(networkId), types: SENTINEL_TYPES, primaryType: "HumanApproval", message });
  return { ...message, approver: account.address, signature };
}

async function refused(approval: SignedHumanApproval, code: string, action: "reject" | "ignore", ctx: ApprovalContext = context, modules = noWallets): Promise<void> {
  await assert.rejects(verifyApproval(approval, ctx, modules), (error: unknown) => {
    assert.ok(error instanceof ApprovalError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.action, action);
    return true;
  });
}

describe("the HumanApproval typed data", () => {
  it("has a fixed type string and digest", () => {
    assert.equal(encodeType("HumanApproval"), "HumanApproval(bytes32 candidateId,bytes32 findingsDigest,uint64 expiresAt)");
    const approval = { candidateId: `0x${"22".repeat(32)}`, findingsDigest: `0x${"33".repeat(32)}`, expiresAt: 1_900_000_000n } as const;
    const digest = humanApprovalDigest(`0x${"11".repeat(32)}`, approval);
    assert.equal(digest, "0x0763377e70d1215d933da7c53838596f6a04d0ea7055a1968b78ba2e2db8a6de");
    // The same by hand: EIP-712 with the Sentinel domain (name, version, salt = network id).
    const domainType = keccak256(stringToHex("EIP712Domain(string name,string version,bytes32 salt)"));
    const separator = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }], [domainType, keccak256(stringToHex("Sentinel")), keccak256(stringToHex("1")), `0x${"11".repeat(32)}`]));
    const struct = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint64" }], [keccak256(stringToHex(encodeType("HumanApproval"))), approval.candidateId, approval.findingsDigest, approval.expiresAt]));
    assert.equal(keccak256(concat(["0x1901", separator, struct])), digest);
  });
});

describe("the approval document", () => {
  it("round-trips through its gossip bytes", async () => {
    const approval = await approve(accounts[0]!);
    assert.deepEqual(decodeSignedApproval(encodeSignedApproval(approval)), { ...approval, signature: approval.signature.toLowerCase() });
  });
  it("refuses each malformed field, naming it", async () => {
    const good = signedApprovalToJson(await approve(accounts[0]!));
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, candidateId: "0x1234" }, "approval.candidateId"],
      [{ ...good, findingsDigest: undefined }, "approval.findingsDigest"],
      [{ ...good, expiresAt: 5 }, "approval.expiresAt"],
      [{ ...good, expiresAt: (1n << 64n).toString() }, "approval.expiresAt"],
      [{ ...good, approver: "0xnot" }, "approval.approver"],
      [{ ...good, signature: good.signature.slice(0, 130) }, "approval.signature"], // truncated
      [{ ...good, signature: `0x${"ab".repeat(4097)}` }, "approval.signature"], // oversized
      [{ ...good, signature: `${good.signature}0` }, "approval.signature"], // odd length
      [{ ...good, extra: 1 }, "approval.extra"],
    ];
    for (const [input, field] of cases) {
      assert.throws(() => parseSignedApproval(input), (error: unknown) => error instanceof ApprovalFormatError && error.field === field, field);
    }
    assert.throws(() => decodeSignedApproval(new Uint8Array(10_000)), ApprovalFormatError);
    assert.throws(() => decodeSignedApproval(new TextEncoder().encode("{not json")), ApprovalFormatError);
  });
});

describe("verifyApproval", () => {
  it("accepts an approver's own signature of this report", async () => {
    for (const account of accounts) await verifyApproval(await approve(account), context, noWallets);
  });

  it("refuses a forged signature (another key claiming an approver)", async () => {
    const forged = { ...(await approve(privateKeyToAccount(generatePrivateKey()))), approver: accounts[0]!.address };
    await refused(forged, "BAD_SIGNATURE", "reject");
  });

  it("refuses a signer who is not one of the policy's approvers", async () => {
    await refused(await approve(privateKeyToAccount(generatePrivateKey())), "NOT_APPROVER", "reject");
  });

  it("refuses an approval replayed from another candidate", async () => {
    const other = await approve(accounts[0]!, { candidateId: keccak256(stringToHex("candidate-2")) });
    await refused({ ...other, candidateId: CANDIDATE }, "BAD_SIGNATURE", "reject");
  });

  it("does not count an approval of other findings", async () => {
    await refused(await approve(accounts[0]!, { findingsDigest: keccak256(stringToHex("findings-2")) }), "OTHER_FINDINGS", "ignore");
    // Relabelled to this node's digest, its signature no longer holds.
    const relabelled = { ...(await approve(accounts[0]!, { findingsDigest: keccak256(stringToHex("findings-2")) })), findingsDigest: FINDINGS };
    await refused(relabelled, "BAD_SIGNATURE", "reject");
  });

  it("does not count an expired approval, nor one with its expiry moved", async () => {
    await refused(await approve(accounts[0]!, { expiresAt: NOW }), "EXPIRED", "ignore");
    await refused({ ...(await approve(accounts[0]!, { expiresAt: NOW })), expiresAt: NOW + 10n }, "BAD_SIGNATURE", "reject");
  });

  it("refuses an approval signed for another network", async () => {
    await refused(await approve(accounts[0]!, {}, keccak256(stringToHex("other-network"))), "BAD_SIGNATURE", "reject");
  });

  it("refuses the malleable (high-s) twin of a valid signature", async () => {
    const approval = await approve(accounts[0]!);
    const r = approval.signature.slice(2, 66);
    const s = BigInt(`0x${approval.signature.slice(66, 130)}`);
    const v = Number.parseInt(approval.signature.slice(130, 132), 16);
    const twin = `0x${r}${numberToHex(N - s, { size: 32 }).slice(2)}${toHex(v === 27 ? 28 : 27).slice(2)}` as Hex;
    await refused({ ...approval, signature: twin }, "MALLEABLE_SIGNATURE", "reject");
  });

  it("refuses a 65-byte signature that recovers to no key", async () => {
    await refused({ ...(await approve(accounts[0]!)), signature: `0x${"00".repeat(64)}1b` }, "BAD_SIGNATURE", "reject");
  });

  it("asks a contract wallet through ERC-1271, and says so when it could not ask", async () => {
    const wallet = "0x00000000000000000000000000000000000000Aa" as const;
    const ctx = { ...context, gate: { threshold: 1, approvers: [wallet] } };
    const approval = { ...(await approve(accounts[0]!)), approver: wallet, signature: `0x${"cd".repeat(130)}` as Hex };
    const asked: Hex[] = [];
    await verifyApproval(approval, ctx, { isValidSignature: async (_w, hash) => (asked.push(hash), true) });
    assert.deepEqual(asked, [humanApprovalDigest(NETWORK, approval)]);
    await refused(approval, "BAD_SIGNATURE", "reject", ctx, { isValidSignature: async () => false });
    await refused(approval, "UNVERIFIABLE", "ignore", ctx, { isValidSignature: async () => { throw new Error("rpc down"); } });
  });
});
