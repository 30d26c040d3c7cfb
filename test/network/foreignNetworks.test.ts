import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { it } from "node:test";
import { pino } from "pino";
import { ForeignNetworkWarnings, foreignPrefixes } from "../../src/network/foreignNetworks.ts";

const OURS = "0123456789abcdef";
const THEIRS = "fedcba9876543210";

it("finds the network prefixes a peer's protocols name, when none is ours", () => {
  assert.deepEqual(foreignPrefixes(["/ipfs/id/1.0.0", `/sentinel/${THEIRS}/bundle/1`], OURS), [THEIRS]);
  assert.deepEqual(foreignPrefixes([`/sentinel/${OURS}/bundle/1`, `/sentinel/${THEIRS}/bundle/1`], OURS), [], "a peer on both networks speaks ours");
  assert.deepEqual(foreignPrefixes(["/ipfs/id/1.0.0", "/meshsub/1.1.0"], OURS), [], "not a Sentinel node: nothing to say");
});

it("warns once per peer that speaks another network id", () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));
  const warnings = new ForeignNetworkWarnings({ networkPrefix: OURS }, { logger });
  assert.equal(warnings.identified("peerA", [`/sentinel/${THEIRS}/bundle/1`]), true);
  assert.equal(warnings.identified("peerA", [`/sentinel/${THEIRS}/bundle/1`]), true);
  assert.equal(warnings.identified("peerB", [`/sentinel/${OURS}/bundle/1`]), false);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!["level"], 40);
  assert.equal(lines[0]!["peer"], "peerA");
  assert.deepEqual(lines[0]!["theirNetworkPrefix"], [THEIRS]);
});
