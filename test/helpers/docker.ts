// What test/e2e/compose.test.ts needs from the machine: a Docker engine (started here if none
// runs, and then stopped by its pid), a compose command, and a local stand-in for the public
// node:22 image, since no image registry is reachable from these machines.
//
// The stand-in is Debian bookworm from debootstrap (Debian's archive is reachable), with this
// test's own Node 22 binary (the `node` npm package) and the host's npm copied in, and an npm
// cache that holds every package of package-lock.json: the Dockerfile's `npm ci` then runs
// unchanged, offline (npmrc `offline=true`). The cache is filled on the host by the host's npm,
// because containers cannot reach the npm registry here: outbound HTTPS goes through a
// TLS-inspecting proxy whose certificate only the host trusts, and baking that certificate into
// an image would tie the image to this machine. The image is tagged with a hash of what went
// into it and reused while that stays the same: a warm run skips all of this.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { isAlive } from "./proc.ts";
import { waitFor } from "./wait.ts";

const DEBIAN_MIRROR = process.env["SENTINEL_DEBIAN_MIRROR"] ?? "http://deb.debian.org/debian";
/** Beyond minbase: anvil needs the CA certificates (the Dockerfile installs them when a base lacks them). */
const DEBIAN_PACKAGES = ["ca-certificates"];
/** dockerd on a 2-core machine answers within seconds; its first start sets up overlay2 and iptables. */
const DOCKERD_START_MS = 60_000;
const DOCKERD_STOP_MS = 30_000;

export interface RunOptions {
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The environment with the sbin directories on PATH: dockerd looks up iptables, and debootstrap
 * chroot, by PATH, and a CI job's PATH often lacks them (dockerd then exits: "Iptables not found").
 */
export function withSbin(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const path = (env["PATH"] ?? "").split(delimiter).filter(Boolean);
  for (const dir of ["/usr/local/sbin", "/usr/sbin", "/sbin"]) if (!path.includes(dir)) path.push(dir);
  return { ...env, PATH: path.join(delimiter) };
}

/** Runs a command, bounded; returns its stdout, or throws with its output. */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: withSbin(options.env), encoding: "utf8", timeout: options.timeoutMs, killSignal: "SIGKILL", maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${command} ${args.join(" ")} failed (${error.killed ? `killed after ${options.timeoutMs} ms` : `exit ${error.code}`}):\n${stdout}\n${stderr}`, { cause: error }));
        else resolve(stdout);
      },
    );
  });
}

/** The executable's path, from PATH and the sbin directories a non-root PATH may lack. */
export function findExecutable(name: string): string | undefined {
  const dirs = (withSbin().PATH ?? "").split(delimiter);
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/** The compose command: Debian's docker-compose (1.29), else the `docker compose` plugin. */
export async function composeCommand(): Promise<string[] | undefined> {
  const standalone = findExecutable("docker-compose");
  if (standalone) return [standalone];
  try {
    await run("docker", ["compose", "version"], { timeoutMs: 10_000 });
    return ["docker", "compose"];
  } catch {
    return undefined;
  }
}

async function engineAnswers(): Promise<boolean> {
  try {
    await run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export interface Engine {
  /** Whether this process started dockerd (and so stops it). */
  startedHere: boolean;
  stop(): Promise<void>;
}

/** The running engine, or dockerd started now with its log in `logPath`. */
export async function ensureEngine(logPath: string): Promise<Engine> {
  if (await engineAnswers()) return { startedHere: false, stop: async () => {} };
  const dockerd = findExecutable("dockerd");
  if (!dockerd) throw new Error("no Docker engine answers and dockerd is not installed");
  const log = openSync(logPath, "a");
  const child: ChildProcess = spawn(dockerd, [], { stdio: ["ignore", log, log], env: withSbin() });
  const pid = child.pid!;
  const stop = async () => {
    if (!isAlive(pid)) return;
    child.kill("SIGTERM");
    try {
      await waitFor("dockerd to exit", async () => !isAlive(pid), DOCKERD_STOP_MS, 200);
    } catch {
      child.kill("SIGKILL");
    }
  };
  try {
    await waitFor(`dockerd (pid ${pid}) to answer; see ${logPath}`, async () => {
      if (child.exitCode !== null) throw new Error(`dockerd exited with code ${child.exitCode}; see ${logPath}`);
      return engineAnswers();
    }, DOCKERD_START_MS, 500);
  } catch (error) {
    await stop();
    throw error;
  }
  return { startedHere: true, stop };
}

async function imageExists(tag: string): Promise<boolean> {
  try {
    await run("docker", ["image", "inspect", tag], { timeoutMs: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** The host's npm package directory (holding package.json named npm). */
function hostNpmDir(): string {
  const npm = findExecutable("npm");
  if (!npm) throw new Error("npm not found on PATH");
  let dir = dirname(realpathSync(npm));
  while (dir !== "/") {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "npm") return dir;
    dir = dirname(dir);
  }
  throw new Error(`cannot find npm's package directory from ${npm}`);
}

/** npm's own variables dropped: an npm started here takes nothing from the npm running the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")));
}

/**
 * The local base image for the Dockerfile's BASE (see the header), built unless an image of the
 * same inputs exists. `log` reports the slow steps.
 */
export async function ensureBaseImage(root: string, log: (message: string) => void): Promise<string> {
  const nodeBinary = realpathSync(process.execPath);
  const npmDir = hostNpmDir();
  const npmVersion = (JSON.parse(readFileSync(join(npmDir, "package.json"), "utf8")) as { version: string }).version;
  const hash = createHash("sha256")
    .update(readFileSync(join(root, "package-lock.json")))
    .update(`${process.version} npm ${npmVersion} ${DEBIAN_MIRROR} ${DEBIAN_PACKAGES.join(",")}`)
    .digest("hex")
    .slice(0, 16);
  const tag = `sentinel-test-base:${hash}`;
  if (await imageExists(tag)) return tag;

  const work = mkdtempSync(join(tmpdir(), "sentinel-base-"));
  try {
    const rootfs = join(work, "rootfs");
    log(`building ${tag}: debootstrap bookworm from ${DEBIAN_MIRROR} …`);
    await run(findExecutable("debootstrap")!, ["--variant=minbase", `--include=${DEBIAN_PACKAGES.join(",")}`, "bookworm", rootfs, DEBIAN_MIRROR], { timeoutMs: 600_000 });

    log("filling an npm cache with package-lock.json's packages (host npm) …");
    const fill = join(work, "fill");
    mkdirSync(fill);
    for (const file of ["package.json", "package-lock.json"]) cpSync(join(root, file), join(fill, file));
    const cache = join(rootfs, "var/cache/npm");
    // Install scripts run: the `node` package's fetches its platform binary, which must be cached too.
    await run("npm", ["ci", "--prefer-offline", "--cache", cache, "--no-audit", "--no-fund"], { cwd: fill, env: cleanEnv(), timeoutMs: 600_000 });
    rmSync(join(cache, "_logs"), { recursive: true, force: true });

    cpSync(nodeBinary, join(rootfs, "usr/local/bin/node"));
    cpSync(npmDir, join(rootfs, "usr/local/lib/node_modules/npm"), { recursive: true });
    symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(rootfs, "usr/local/bin/npm"));
    symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", join(rootfs, "usr/local/bin/npx"));
    mkdirSync(join(rootfs, "usr/local/etc"), { recursive: true });
    writeFileSync(join(rootfs, "usr/local/etc/npmrc"), "offline=true\ncache=/var/cache/npm\nupdate-notifier=false\n");
    // The public node images have this user (uid 1000); the Dockerfile runs as it.
    appendFileSync(join(rootfs, "etc/group"), "node:x:1000:\n");
    appendFileSync(join(rootfs, "etc/passwd"), "node:x:1000:1000::/home/node:/bin/sh\n");
    mkdirSync(join(rootfs, "home/node"));
    await run("chown", ["1000:1000", join(rootfs, "home/node")], { timeoutMs: 10_000 });

    log(`importing ${tag} …`);
    const tarball = join(work, "rootfs.tar");
    await run("tar", ["-C", rootfs, "-cf", tarball, "."], { timeoutMs: 300_000 });
    await run("docker", ["import", tarball, tag], { timeoutMs: 300_000 });
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A Prometheus image for the compose file's `monitoring` profile, since prom/prometheus cannot
 * be pulled here: Debian's `prometheus` package on the local base, with the official image's
 * config path and arguments. Reused while the base is the same.
 */
export async function ensurePrometheusImage(base: string): Promise<string> {
  const tag = `sentinel-test-prometheus:${base.split(":")[1]}`;
  if (await imageExists(tag)) return tag;
  const work = mkdtempSync(join(tmpdir(), "sentinel-prometheus-"));
  try {
    writeFileSync(
      join(work, "Dockerfile"),
      [
        `FROM ${base}`,
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus && rm -rf /var/lib/apt/lists/*",
        "USER nobody",
        'ENTRYPOINT ["/usr/bin/prometheus"]',
        'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/tmp/prometheus", "--web.listen-address=:9090"]',
        "",
      ].join("\n"),
    );
    await run("docker", ["build", "--tag", tag, work], { timeoutMs: 600_000 });
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
