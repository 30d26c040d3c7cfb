// Revocation end to end, with real parts: two anvil chains mining a block a second, four node
// processes monitoring an approved upgrade, the owner breaking its policy invariant on chain.
// The nodes' revocation must be recorded on both chains' registries within the issue's bar of
// blocks, isApproved must turn false for that code, at least a threshold of nodes must have
// signed the same revocation (one id), none alerting twice, and the pause-only guardian must
// pause the vault. Every node has a webhook to one loopback receiver: the alert must reach it
// signed, with one event id whichever node sent it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Hex } from "viem";
import { startDevnet, type Devnet } from "../../src/devnet/devnet.ts";
import { REVOCATION_BLOCK_BAR, runRevokeScenario, type RevokeResult } from "../../src/devnet/revokeScenario.ts";
import { verifySignature } from "../../src/notifications/signature.ts";
import { waitFor } from "../helpers/wait.ts";

const WEBHOOK_SECRET = "e2e-webhook-secret-0123456789abcdef";

interface NodeEventJson {
  type: string;
  candidateId: Hex;
  data: { status?: string; approvalId?: Hex; kind?: string };
}

async function events(apiUrl: string, types: string): Promise<NodeEventJson[]> {
  const controller = new AbortController();
  const response = await fetch(`${apiUrl}/v1/events?types=${types}&lastEventId=0`, { signal: controller.signal });
  const reader = response.body!.getReader();
  let text = "";
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 300))]);
    if (!chunk || chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
  }
  controller.abort();
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => JSON.parse(line.slice(6)) as NodeEventJson);
}

describe("revocation on every chain (real processes)", { timeout: 240_000 }, () => {
  let devnet: Devnet;
  let result: RevokeResult;
  let receiver: Server;
  let secretDir: string;
  const deliveries: { id: string; signature: string; body: string; at: number }[] = [];

  before(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        deliveries.push({ id: String(request.headers["sentinel-event-id"]), signature: String(request.headers["sentinel-signature"]), body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    secretDir = mkdtempSync(join(tmpdir(), "sentinel-e2e-hook-"));
    writeFileSync(join(secretDir, "secret"), WEBHOOK_SECRET);
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const webhooks = [{ name: "e2e", url, secretFile: join(secretDir, "secret"), events: ["revocation.alert", "revocation.signed"] }];
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-e2e-revoke-${process.pid}`), nodeLogLevel: "info", notifications: () => ({ webhooks }) });
    result = await runRevokeScenario(devnet, () => {});
  });
  after(async () => {
    await devnet?.stop();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    if (secretDir) rmSync(secretDir, { recursive: true, force: true });
  });

  it("records the revocation on both chains within the bar, and isApproved turns false", (t) => {
    t.diagnostic(`blocks from breach to revocation: ${result.chains.map((c) => `chain ${c.chainId} ${c.blocks}`).join(", ")}`);
    assert.equal(result.chains.length, 2);
    for (const chain of result.chains) {
      assert.notEqual(chain.revokedBlock, null, `revoked on chain ${chain.chainId}`);
      assert.equal(chain.isApproved, false);
    }
    assert.ok(result.withinBar, `at most ${REVOCATION_BLOCK_BAR} blocks, took ${result.maxBlocks}: ${JSON.stringify(result.chains)}`);
  });

  it("lets the pause-only guardian pause the vault", () => {
    assert.equal(result.paused, true);
    assert.equal(result.ok, true);
  });

  // A node whose next poll comes after the others' signatures formed the attestation has nothing
  // left to alert on (it holds the revocation): at most one alert each, at least a threshold signed.
  it("has each node alert at most once, and a threshold of nodes sign one and the same revocation", async () => {
    const revocationIds = new Set<Hex>();
    let signers = 0;
    for (const node of devnet.nodes) {
      const seen = await events(node.apiUrl, "revocation.alert,revocation.signed");
      const alerts = seen.filter((e) => e.type === "revocation.alert" && e.data.kind === "invariant");
      const signed = seen.filter((e) => e.type === "revocation.signed");
      assert.ok(alerts.length <= 1, `node ${node.index}: ${alerts.length} alerts`);
      assert.equal(signed.length, alerts.length, `node ${node.index} signs on its alert`);
      for (const e of alerts) assert.equal(e.candidateId, result.candidateId, "the alert names the approval");
      for (const e of signed) {
        assert.equal(e.data.status, "signed");
        revocationIds.add(e.candidateId);
      }
      if (signed.length > 0) signers++;
    }
    assert.ok(signers >= devnet.committee.threshold, `${signers} nodes signed, the threshold is ${devnet.committee.threshold}`);
    assert.equal(revocationIds.size, 1, "one revocation id across nodes");
  });

  it("delivers each node's alert to its webhook, signed, under one event id across nodes", async (t) => {
    let alerting = 0;
    for (const node of devnet.nodes) alerting += (await events(node.apiUrl, "revocation.alert")).filter((e) => e.data.kind === "invariant").length;
    const alerts = () =>
      deliveries.filter((d) => {
        const event = JSON.parse(d.body) as NodeEventJson;
        return event.type === "revocation.alert" && event.data.kind === "invariant";
      });
    await waitFor("every alert delivered", async () => alerts().length >= alerting, 10_000);
    assert.ok(alerting >= 1);
    t.diagnostic(`${alerts().length} alert deliveries from ${alerting} alerting nodes, ${deliveries.length} deliveries in all`);
    for (const d of deliveries) assert.equal(verifySignature(WEBHOOK_SECRET, d.signature, d.body, Math.floor(d.at / 1000)), true, "signed with the secret, just now");
    const body = JSON.parse(alerts()[0]!.body) as NodeEventJson & { id: string };
    assert.equal(body.candidateId, result.candidateId, "the alert names the approval");
    assert.equal(body.id, alerts()[0]!.id);
    assert.equal(new Set(alerts().map((d) => d.id)).size, 1, "one event id for the one breach, whichever node sent it");
  });
});
