// The human gate end to end, with real parts: two anvil chains, four node processes, a vault
// whose enrolled policy requires 2 of 3 approvers (two EOAs and a real 2-of-3 Safe 1.5.0, checked
// through ERC-1271 on the chain). Forged approvals are refused and change no node's count; one
// approval spreads to every node and leaves the candidate pending (nothing recorded); a node
// restarted meanwhile still holds it; the second approval gets APPROVE recorded on both chains.
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startDevnet, type Devnet } from "../../src/devnet/devnet.ts";
import { runHumanGateScenario, type HumanGateResult } from "../../src/devnet/humanGateScenario.ts";

describe("the human gate (real processes)", { timeout: 300_000 }, () => {
  let devnet: Devnet;
  let result: HumanGateResult;

  before(async () => {
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-e2e-human-gate-${process.pid}`), nodeLogLevel: "info" });
    result = await runHumanGateScenario(devnet, () => {}, { restartWhilePending: true });
  });
  after(async () => devnet?.stop());

  it("refuses forged approvals without changing any node's count", () => {
    assert.deepEqual(result.forged.map((f) => f.refused), ["BAD_SIGNATURE", "BAD_SIGNATURE"]);
    assert.deepEqual(result.countsAfterForged, [0, 0, 0, 0]);
  });

  it("stays pending on every node with one approval (the Safe's), nothing recorded on either chain", () => {
    assert.deepEqual(result.withOne.states, Array(4).fill("awaiting-approvals"));
    assert.deepEqual(result.withOne.counts, [1, 1, 1, 1]);
    assert.deepEqual(result.withOne.recorded, [0, 0]);
  });

  it("keeps a stored approval across a node's restart", () => {
    assert.deepEqual(result.afterRestart, { node: 3, count: 1, state: "awaiting-approvals" });
  });

  it("shows approvers the shadow deployment's state diff with the report", async () => {
    const status = (await (await fetch(`${devnet.nodes[0]!.apiUrl}/v1/candidates/${result.candidateId}`)).json()) as { verification: { details?: { stateDiff?: { slot: string }[] } } };
    // The upgrade writes at least the ERC-1967 implementation slot.
    assert.ok(status.verification.details?.stateDiff?.some((change) => change.slot === "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"), JSON.stringify(status.verification.details));
  });

  it("records APPROVE on both chains after the second approval", (t) => {
    t.diagnostic(`verified in ${result.seconds.verified} s; attested ${result.seconds.attestedAfterSecond} s after the second approval`);
    assert.equal(result.approvedOnAllChains, true);
    assert.equal(result.ok, true);
  });
});
