// A bound candidate through the submission path: the client library posts it to a real node API
// (real admission and store), the candidate id commits to the binding, the status shows it;
// a zero binding is refused by the schema, and a binding moved after signing is another signer's.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { bytesToHex, zeroHash, type Hex } from "viem";
import { SentinelClient } from "../../src/client/client.ts";
import { candidateId, parseSignedCandidate } from "../../src/codec/candidate.ts";
import { NETWORK_ID, startApiNode, submission, type ApiNode } from "../helpers/apiNode.ts";

const randomHex = (bytes: number): Hex => bytesToHex(randomBytes(bytes));

describe("a bound candidate through the API and the client", () => {
  let node: ApiNode;
  let client: SentinelClient;

  before(async () => {
    node = await startApiNode({ enrolled: "proposer" });
    client = new SentinelClient({ url: node.url });
  });
  after(() => node?.close());

  const post = (body: unknown) =>
    fetch(`${node.url}/v1/candidates`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  it("is admitted under the id that commits to its binding, and its status shows the binding", async () => {
    const binding = randomHex(32);
    const { body, id } = await submission(node.proposer, 1n, NETWORK_ID, binding);
    const { candidateId: admitted, duplicate } = await client.submit(body as never);
    assert.equal(duplicate, false);
    assert.equal(admitted, id);
    const { candidate } = parseSignedCandidate(body);
    assert.equal(candidate.binding, binding);
    const { binding: _b, ...unbound } = candidate;
    assert.notEqual(candidateId(NETWORK_ID, unbound), id);
    const status = await client.status(id);
    assert.equal((status?.candidate as { candidate: { binding?: string } }).candidate.binding, binding);
  });

  it("refuses a zero or malformed binding (400), and a binding moved after signing (the signer is someone else)", async () => {
    const { body } = await submission(node.proposer, 2n);
    const withBinding = (binding: unknown) => ({ ...body, candidate: { ...(body["candidate"] as object), binding } });
    assert.equal((await post(withBinding(zeroHash))).status, 400);
    assert.equal((await post(withBinding("0x1234"))).status, 400);
    const moved = (await submission(node.proposer, 3n, NETWORK_ID, randomHex(32))).body;
    const rebound = { ...moved, candidate: { ...(moved["candidate"] as object), binding: randomHex(32) }, proposer: node.proposer.address };
    const response = await post(rebound);
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, "BAD_SIGNATURE");
    assert.equal(await node.storedCount(), 1);
  });
});
