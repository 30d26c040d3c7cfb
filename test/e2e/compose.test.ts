// docker-compose.yml for real: the image built from the Dockerfile, the compose network brought
// up (two anvil chains, the one-shot deployer, four nodes in their own containers, each waited
// on through its /ready healthcheck), then the devnet's demo driven from the host through the
// ports compose publishes on loopback: a benign and a malicious upgrade proposed on each chain,
// each decision awaited on both chains' registries, and the guard asked to perform both
// upgrades. Everything compose created (containers, network, volumes) is removed by project
// name at the end, pass or fail; a dockerd started here is stopped by its pid.
//
// No image registry is reachable here, so the Dockerfile's BASE is a local image that
// test/helpers/docker.ts builds once with debootstrap (its header says how and why). Prometheus
// and Grafana are in the compose file's `monitoring` profile. Their images cannot be pulled:
// the test starts Prometheus alone, from an image of Debian's package on that base, and checks
// that it scrapes the four nodes; Grafana (not in Debian) is left out.
//
// Skipped, saying why, only outside CI and only when docker, dockerd, a compose command or
// debootstrap is not installed. In CI (CI=true) that is a failure: .ci/run installs them.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { runScenario } from "../../src/cli/devnet.ts";
import { connectChain } from "../../src/chains/clients.ts";
import { ANVIL_DEV_KEYS } from "../../src/devnet/accounts.ts";
import type { ComposeManifest } from "../../src/devnet/composeDeploy.ts";
import { freePorts, type Devnet, type DevnetNode } from "../../src/devnet/devnet.ts";
import { composeCommand, ensureBaseImage, ensureEngine, ensurePrometheusImage, findExecutable, run, type Engine } from "../helpers/docker.ts";
import { waitFor } from "../helpers/wait.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const IMAGE = "sentinel:compose-test";
const PROJECT = `sentinelcomposetest${process.pid}`;
const NODES = 4;
/** A cold `npm ci` and contract build in the image on 2 cores: about 80 s here. */
const BUILD_TIMEOUT_MS = 600_000;
/** `up` returns once the chains are healthy and the deployer has finished (about 10 s here). */
const UP_TIMEOUT_MS = 300_000;
const READY_TIMEOUT_MS = 120_000;
const DOWN_TIMEOUT_MS = 120_000;

async function missingTools(): Promise<string[]> {
  const missing = ["docker", "dockerd", "debootstrap"].filter((tool) => findExecutable(tool) === undefined);
  if ((await composeCommand()) === undefined) missing.push("docker-compose");
  return missing;
}

const missing = await missingTools();
const skip =
  missing.length > 0 && process.env["CI"] !== "true"
    ? `needs ${missing.join(", ")} (Debian: apt-get install docker.io docker-compose debootstrap; .ci/run does)`
    : false;

describe("docker compose network", { skip, timeout: 20 * 60_000 }, () => {
  it("builds the image, brings the network up, and decides a benign and a malicious upgrade on both chains", async (t) => {
    assert.deepEqual(missing, [], `CI must have these installed: ${missing.join(", ")}`);
    const started = Date.now();
    const say = (message: string) => t.diagnostic(`${((Date.now() - started) / 1000).toFixed(1)} s: ${message}`);
    const work = mkdtempSync(join(tmpdir(), "sentinel-compose-"));
    const compose = (await composeCommand())!;
    const [chainA, chainB, prometheusPort, ...nodePorts] = await freePorts(3 + NODES);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SENTINEL_IMAGE: IMAGE,
      SENTINEL_PROMETHEUS_PORT: String(prometheusPort),
      SENTINEL_CHAIN_A_PORT: String(chainA),
      SENTINEL_CHAIN_B_PORT: String(chainB),
      ...Object.fromEntries(nodePorts.map((port, i) => [`SENTINEL_NODE${i}_PORT`, String(port)])),
    };
    const composeRun = (args: string[], timeoutMs: number) =>
      run(compose[0]!, [...compose.slice(1), "--project-name", PROJECT, "--file", join(ROOT, "docker-compose.yml"), ...args], { cwd: ROOT, env, timeoutMs });

    let engine: Engine | undefined;
    let upStarted = false;
    try {
      engine = await ensureEngine(join(work, "dockerd.log"));
      say(engine.startedHere ? "started dockerd" : "using the running Docker engine");
      const base = await ensureBaseImage(ROOT, say);
      say(`base image ${base}; building ${IMAGE} from the Dockerfile …`);
      await run("docker", ["build", "--build-arg", `BASE=${base}`, "--tag", IMAGE, ROOT], { cwd: ROOT, timeoutMs: BUILD_TIMEOUT_MS });

      say("docker-compose up (chains, deployer, nodes) …");
      upStarted = true;
      await composeRun(["up", "--detach", "--no-build"], UP_TIMEOUT_MS);
      const containers = (await composeRun(["ps", "--quiet"], 30_000)).split("\n").filter(Boolean);
      assert.equal(containers.length, 2 + 1 + NODES, "two chains, the deployer and the nodes");

      // The healthchecks on /ready, as compose sees them.
      for (let i = 0; i < NODES; i++) {
        const id = (await composeRun(["ps", "--quiet", `node${i}`], 30_000)).trim();
        await waitFor(
          `node${i}'s healthcheck on /ready`,
          async () => (await run("docker", ["inspect", "--format", "{{.State.Health.Status}}", id], { timeoutMs: 30_000 })).trim() === "healthy",
          READY_TIMEOUT_MS,
          1_000,
        );
      }
      const deployer = (await composeRun(["ps", "--quiet", "deployer"], 30_000)).trim();
      assert.equal((await run("docker", ["inspect", "--format", "{{.State.ExitCode}}", deployer], { timeoutMs: 30_000 })).trim(), "0");
      const readManifest = async () => {
        const id = (await composeRun(["ps", "--quiet", "deployer"], 30_000)).trim();
        await run("docker", ["cp", `${id}:/deploy/manifest.json`, join(work, "manifest.json")], { timeoutMs: 30_000 });
        return JSON.parse(readFileSync(join(work, "manifest.json"), "utf8")) as ComposeManifest;
      };
      const manifest = await readManifest();
      say(`network ${manifest.networkId.slice(0, 10)}…: ${manifest.nodes.length} nodes healthy, threshold ${manifest.threshold}`);

      // From the host, every container is reached through its loopback port only.
      const hostRpc = [`http://127.0.0.1:${chainA}`, `http://127.0.0.1:${chainB}`];
      const nodes = nodePorts.map((port, index) => ({ index, apiUrl: `http://127.0.0.1:${port}` }));
      const peers = async (node: { apiUrl: string }) => ((await (await fetch(`${node.apiUrl}/health`)).json()) as { peers: number }).peers;
      await waitFor("every node connected to the other three", async () => (await Promise.all(nodes.map(peers))).every((n) => n >= NODES - 1), READY_TIMEOUT_MS, 500);
      // Gossipsub grafts its mesh on its heartbeat (1 s): two of them before publishing, as the devnet does.
      await sleep(2_000);

      const devnet = {
        networkId: manifest.networkId,
        proposer: manifest.proposer,
        nodes: nodes as unknown as DevnetNode[],
        chains: manifest.chains.map((chain, i) => ({ ...chain, ...connectChain(chain.chainId, hostRpc[i]!, ANVIL_DEV_KEYS[0]!) })),
      } as unknown as Devnet;
      const results = await runScenario(devnet, say);
      assert.equal(results.length, 4, "a benign and a malicious upgrade on each of the two chains");
      for (const result of results) {
        assert.ok(result.recordedOnAllChains, `${result.kind} on chain ${result.chainId}: ${result.expected} not recorded on both chains`);
        assert.ok(result.ok, `${result.kind} on chain ${result.chainId}: upgrade ${result.upgrade}`);
      }
      say("every decision recorded on both chains; Prometheus (profile monitoring) …");

      // Named on the command line, a service of a profile starts without the profile: Grafana
      // stays out (its image cannot be pulled here), Prometheus is Debian's.
      env["PROMETHEUS_IMAGE"] = await ensurePrometheusImage(base);
      await composeRun(["up", "--detach", "--no-build", "prometheus"], UP_TIMEOUT_MS);
      const targets = await waitFor(
        "Prometheus scraping the four nodes",
        async () => {
          try {
            const body = (await (await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; labels: { instance: string } }[] } };
            const up = body.data.activeTargets.filter((target) => target.health === "up").map((target) => target.labels.instance);
            return up.length === NODES && up.sort();
          } catch {
            return false; // not listening yet
          }
        },
        READY_TIMEOUT_MS,
        1_000,
      );
      assert.deepEqual(targets, ["node0:8080", "node1:8080", "node2:8080", "node3:8080"]);
      say(`Prometheus scrapes ${targets.join(", ")}`);

      // `up` again, as a user would (and as the Prometheus one did through its dependencies):
      // the deployer finds its registries on the running chains and leaves the nodes' keys alone.
      await composeRun(["up", "--detach", "--no-build"], UP_TIMEOUT_MS);
      assert.equal((await readManifest()).networkId, manifest.networkId, "a second up redeployed over running nodes");
      say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    } catch (error) {
      if (upStarted) {
        const logs = await composeRun(["logs", "--no-color", "--tail", "60", "deployer", ...Array.from({ length: NODES }, (_, i) => `node${i}`)], 60_000).catch((e: Error) => e.message);
        t.diagnostic(`compose logs:\n${logs}`);
      }
      throw error;
    } finally {
      if (upStarted) await composeRun(["down", "--volumes", "--remove-orphans", "--timeout", "5"], DOWN_TIMEOUT_MS).catch((e: Error) => t.diagnostic(`down failed: ${e.message}`));
      await engine?.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
