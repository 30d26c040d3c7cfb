// A validator's vote on the next set (src/consensus/rotationSigner.ts), on a real level database:
// what it signs is exactly what proposeValidatorSet checks, and it never signs two rotations for
// one set index, nor one it cannot justify.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { verify } from "@chainsafe/blst";
import { bytesToHex, hexToBytes, keccak256, stringToHex, type Hex } from "viem";
import { rotationDigests, type RotationRequest } from "../../src/codec/rotation.ts";
import { rotationRequest } from "../helpers/rotation.ts";
import { RotationError, RotationSigner, readRotationApprovals, type RotationApprovals, type RotationErrorCode } from "../../src/consensus/rotationSigner.ts";
import { SigningRecord } from "../../src/consensus/signingRecord.ts";
import { signProofOfPossession, sortPublicKeys, type ValidatorSetView } from "../../src/consensus/validatorSet.ts";
import { generateSecretKey, publicKeyRaw, signatureFromEip2537, signatureToEip2537, type SecretKey } from "../../src/crypto/bls.ts";
import { Database } from "../../src/db/database.ts";
import { LocalCommittee } from "../../src/devnet/committee.ts";
import { systemClock } from "../../src/util/clock.ts";

const NETWORK_ID = keccak256(stringToHex("sentinel-rotation-signer"));

describe("rotation signer", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const committee = LocalCommittee.generate(4, NETWORK_ID);
  const current: ValidatorSetView = { index: 0, keys: committee.publicKeys, threshold: 3 };
  const joiner = generateSecretKey();

  /** A request for `members` (secret keys), proposed by current member `proposer` at index `proposerIndex`. */
  function request(members: SecretKey[], overrides: Partial<RotationRequest> = {}, proposer = 1, proposerIndex = proposer, current = committee.secretKeys): RotationRequest {
    const base = rotationRequest(NETWORK_ID, members, committee.secretKeys[proposer]!, proposerIndex, { current, setIndex: overrides.setIndex ?? 1 });
    if (overrides.threshold === undefined && overrides.setIndex === undefined) return { ...base, ...overrides };
    // Changed fields: the proposer signs what is sent.
    const changed = { ...base, ...overrides };
    const { proposal } = rotationDigests(NETWORK_ID, changed);
    return { ...changed, proposer: { validatorIndex: proposerIndex, signature: signatureToEip2537(committee.secretKeys[proposer]!.sign(hexToBytes(proposal))) } };
  }

  const approveAll: RotationApprovals = { add: { has: () => true } as unknown as ReadonlySet<Hex>, remove: { has: () => true } as unknown as ReadonlySet<Hex> };

  async function signer(member = 0, sets: ValidatorSetView[] = [current], approvals: RotationApprovals = approveAll) {
    const dir = mkdtempSync(join(tmpdir(), "sentinel-rotation-"));
    dirs.push(dir);
    const db = await Database.open(dir);
    const record = new SigningRecord(db);
    return {
      signer: new RotationSigner({ networkId: NETWORK_ID }, { secretKey: committee.secretKeys[member]!, record, currentSets: async () => sets, approvals: async () => approvals, clock: systemClock }),
      close: () => db.close(),
    };
  }

  async function refused(promise: Promise<unknown>, code: RotationErrorCode) {
    await assert.rejects(promise, (error: unknown) => error instanceof RotationError && error.code === code);
  }

  it("signs the registry's rotation digest for one added member, at its own index, and again the same", async () => {
    const { signer: s, close } = await signer(2);
    const grow = request([...committee.secretKeys, joiner]);
    const vote = await s.vote(grow);
    assert.equal(vote.validatorIndex, 2);
    assert.equal(vote.digest, rotationDigests(NETWORK_ID, grow).rotation);
    assert.ok(verify(hexToBytes(vote.digest), committee.publicKeys[2]!, signatureFromEip2537(vote.signature), true, true));
    assert.deepEqual(await s.vote(grow), vote, "the same rotation again: the same signature");
    await close();
  });

  it("never signs a second, different rotation for the same set index", async () => {
    const { signer: s, close } = await signer(0);
    await s.vote(request([...committee.secretKeys, joiner]));
    await refused(s.vote(request([...committee.secretKeys, generateSecretKey()])), "CONFLICTING_ROTATION");
    await refused(s.vote(request(committee.secretKeys.slice(1))), "CONFLICTING_ROTATION");
    await close();
  });

  it("votes only for a change its operator approved: the key to add, or the key to remove", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sentinel-approvals-"));
    dirs.push(dir);
    const file = join(dir, "approvals.json");
    const joinerRaw = bytesToHex(publicKeyRaw(joiner.toPublicKey()));
    writeFileSync(file, JSON.stringify({ add: [joinerRaw.toUpperCase().replace("0X", "0x")] }));
    const approved = readRotationApprovals(file);
    assert.deepEqual([...approved.add], [joinerRaw]);
    assert.equal(readRotationApprovals(join(dir, "absent.json")).add.size, 0, "no file approves nothing");
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ add: ["0x12"] }));
    assert.throws(() => readRotationApprovals(join(dir, "bad.json")), RotationError);

    const { signer: s, close } = await signer(0, [current], approved);
    await refused(s.vote(request([...committee.secretKeys, generateSecretKey()])), "NOT_APPROVED");
    await refused(s.vote(request(committee.secretKeys.slice(1))), "NOT_APPROVED");
    assert.equal((await s.vote(request([...committee.secretKeys, joiner]))).validatorIndex, 0);
    await close();
  });

  it("refuses what it cannot justify", async () => {
    const { signer: s, close } = await signer(0);
    const grow = [...committee.secretKeys, joiner];
    await refused(s.vote(request(grow, { setIndex: 2 })), "WRONG_SET_INDEX");
    await refused(s.vote(request([...grow, generateSecretKey()])), "NOT_ONE_CHANGE");
    await refused(s.vote(request([...committee.secretKeys.slice(1), joiner])), "NOT_ONE_CHANGE");
    await refused(s.vote(request(grow, { threshold: 3 })), "BAD_THRESHOLD");
    const unsorted = request(grow);
    await refused(s.vote({ ...unsorted, keys: [...unsorted.keys].reverse() }), "UNSORTED_KEYS");
    const stolen = request(grow);
    // A key whose owner never proved possession: a current member's proof in its place, or none.
    await refused(s.vote({ ...stolen, proofsOfPossession: [signatureToEip2537(signProofOfPossession(committee.secretKeys[0]!, NETWORK_ID))] }), "BAD_PROOF_OF_POSSESSION");
    await refused(s.vote({ ...stolen, proofsOfPossession: [] }), "BAD_PROOF_OF_POSSESSION");
    const forged = request(grow);
    await refused(s.vote({ ...forged, proposer: { ...forged.proposer, validatorIndex: 3 } }), "BAD_PROPOSER");
    await refused(s.vote({ ...forged, proposer: { ...forged.proposer, validatorIndex: 9 } }), "BAD_PROPOSER");
    await close();
    const split = await signer(0, [current, { ...current, index: 1 }]);
    await refused(split.signer.vote(request(grow)), "SETS_DIFFER");
    await split.close();
    const outsider = generateSecretKey();
    const otherKeys = sortPublicKeys([...committee.publicKeys.slice(1), outsider.toPublicKey()]);
    const notMember = await signer(0, [{ ...current, keys: otherKeys }]);
    // Proposed by committee member 3, at its index in that set (request() signs with member 3's key).
    const at = otherKeys.findIndex((key) => Buffer.from(publicKeyRaw(key)).equals(Buffer.from(publicKeyRaw(committee.publicKeys[3]!))));
    await refused(notMember.signer.vote(request([...committee.secretKeys.slice(1), outsider, joiner], {}, 3, at, [...committee.secretKeys.slice(1), outsider])), "NOT_A_VALIDATOR");
    await notMember.close();
  });
});
