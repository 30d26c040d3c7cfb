// What an operator watches, against a real network (four node processes, two anvil chains):
// every series the Grafana dashboard queries is exported by the nodes' /metrics, and the status
// page at / shows the network in a real browser (Debian's chromium, driven by playwright-core;
// nothing is downloaded). Screenshots are kept in test-artifacts/ (not committed).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext } from "playwright-core";
import { runScenario } from "../../src/cli/devnet.ts";
import { signCandidate, startDevnet, submitCandidate, type Devnet } from "../../src/devnet/devnet.ts";
import { dashboardExprs, exportedNames, metricNames } from "../helpers/promql.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const DASHBOARD = join(ROOT, "config/grafana/dashboards/sentinel.json");
const ARTIFACTS = join(ROOT, "test-artifacts");
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe("the dashboard's queries", () => {
  it("are read for their metric names: functions, label lists, matchers and variables are not names", () => {
    assert.deepEqual(metricNames('histogram_quantile(0.95, sum by (le, check) (rate(sentinel_verification_check_seconds_bucket{instance=~"$instance"}[5m])))'), ["sentinel_verification_check_seconds_bucket"]);
    assert.deepEqual(metricNames("sum by (chain) (rate(a_sum[1h])) / sum by (chain) (rate(a_count[1h]))"), ["a_sum", "a_count"]);
    assert.deepEqual(metricNames("sentinel_peers"), ["sentinel_peers"]);
    const exprs = dashboardExprs(JSON.parse(readFileSync(DASHBOARD, "utf8")));
    assert.ok(exprs.length >= 20, `${exprs.length} expressions`);
  });
});

describe("what an operator watches, on a four-node network on two chains", { timeout: 300_000 }, () => {
  let devnet: Devnet;

  before(async () => {
    devnet = await startDevnet({ nodes: 4, dir: join(tmpdir(), `sentinel-ops-${process.pid}`), nodeLogLevel: "info" });
    // Two candidates per chain, each recorded on both chains: every histogram gets a sample.
    for (const result of await runScenario(devnet, () => {})) assert.ok(result.ok, JSON.stringify(result));
  });
  after(async () => devnet?.stop());

  it("every series the Grafana dashboard queries is exported by the nodes' /metrics", async () => {
    const exported = new Set<string>();
    for (const node of devnet.nodes) for (const name of exportedNames(await (await fetch(`${node.apiUrl}/metrics`)).text())) exported.add(name);
    const queried = new Set(dashboardExprs(JSON.parse(readFileSync(DASHBOARD, "utf8"))).flatMap(metricNames));
    assert.ok(queried.size >= 25, `${queried.size} series`);
    assert.deepEqual([...queried].filter((name) => !exported.has(name)).sort(), [], "queried by the dashboard but exported by no node");
    assert.ok([...queried].some((name) => name.startsWith("libp2p_")), "libp2p's own metrics are on the dashboard");
  });

  it("the status page shows peers, the validator set, chain health, a candidate in progress and ones recorded on both chains, live", async (t) => {
    if (!existsSync(CHROMIUM)) {
      if (process.env["CI"] === "true") assert.fail(`${CHROMIUM} is missing: CI must install it (apt-get install -y chromium)`);
      t.skip(`${CHROMIUM} is not installed (apt-get install -y chromium): the status page's browser test did not run`);
      return;
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const profile = mkdtempSync(join(tmpdir(), "sentinel-chromium-"));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
      const page = context.pages()[0] ?? (await context.newPage());
      const node = devnet.nodes[0]!;
      await page.goto(`${node.apiUrl}/`);
      await page.locator("#live.on").waitFor({ timeout: 15_000 });
      assert.equal(await page.locator("#peerCount").textContent(), "3");
      assert.equal(await page.locator("#validators tr").count(), 4);
      assert.match((await page.locator("#validators tr.self").textContent()) ?? "", /this node/);
      assert.match((await page.locator("#place").textContent()) ?? "", /validator 0 of 4/);
      for (const chain of devnet.chains) assert.match((await page.locator(`#chains tr[data-chain="${chain.chainId}"]`).textContent()) ?? "", /reachable/);
      // The scenario's candidates: recorded on both chains, their attestation's signatures at the threshold.
      const recorded = page.locator('#candidates tr[data-stage="recorded"]');
      await recorded.first().waitFor({ timeout: 30_000 });
      assert.ok((await recorded.count()) >= 1);
      const recordedRow = (await recorded.first().textContent()) ?? "";
      for (const chain of devnet.chains) assert.match(recordedRow, new RegExp(`${chain.chainId}: recorded`));
      assert.match(recordedRow, /[34] \/ 3/);

      // With two of four validators stopped, a new candidate cannot reach the threshold of 3: it
      // stays in progress, and the open page shows it without a reload (the event stream).
      await Promise.all([devnet.nodes[2]!.stop(), devnet.nodes[3]!.stop()]);
      const chain = devnet.chains[0]!;
      const candidateId = await submitCandidate(node, await signCandidate(devnet, chain, chain.protocol.benign, 1_000n));
      const row = page.locator(`#candidates tr[data-candidate="${candidateId}"]`);
      await row.waitFor({ timeout: 30_000 });
      await page.locator(`#candidates tr[data-candidate="${candidateId}"][data-stage="collecting"]`).waitFor({ timeout: 60_000 });
      assert.match((await row.locator(".progress").textContent()) ?? "", /^[12] \/ 3$/);
      await page.locator("#peerCount", { hasText: "1" }).waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(ARTIFACTS, "status-page.png"), fullPage: true });
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
