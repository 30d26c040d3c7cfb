// Anvils must not outlive what started them. Their owner kills them when it ends
// (AnvilProcesses.killAll); for a SIGKILL or a crash, the next process on the same directory kills
// what the last one recorded.
// Real anvil processes, a real crashed parent (Linux: the records rely on /proc).
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AnvilProcesses, killOrphanedAnvils } from "../../../src/verify/shadow/anvil.ts";
import { isAlive } from "../../helpers/proc.ts";

const ANVIL_MODULE = new URL("../../../src/verify/shadow/anvil.ts", import.meta.url).href;


async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !condition(); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("anvil records", { skip: process.platform !== "linux" }, () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "sentinel-anvil-records-"));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("kills the anvil a SIGKILLed process left running, and only once", async () => {
    const dir = tempDir();
    const script = `import { AnvilProcesses } from ${JSON.stringify(ANVIL_MODULE)};
      const anvils = new AnvilProcesses({ recordDir: ${JSON.stringify(dir)} });
      const anvil = await anvils.start({ chainId: 31337 });
      console.log(anvil.pid);
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const pid = await new Promise<number>((resolve, reject) => {
      parent.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      parent.once("exit", (code) => reject(new Error(`the parent exited (${code}) before starting anvil`)));
    });
    try {
      await new Promise((resolve) => {
        parent.once("exit", resolve);
        parent.kill("SIGKILL");
      });
      assert.ok(isAlive(pid), "the anvil outlived its SIGKILLed parent");
      assert.deepEqual(readdirSync(dir), [String(pid)]);

      assert.equal(killOrphanedAnvils(dir), 1);
      await until(() => !isAlive(pid), "the orphaned anvil is dead");
      assert.deepEqual(readdirSync(dir), [], "its record is cleared");
      assert.equal(killOrphanedAnvils(dir), 0);
    } finally {
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  });

  it("kills an anvil whose owner was SIGKILLed before it wrote the record down", async () => {
    const dir = tempDir();
    // The record removed by hand: what the owner's death between spawn and write leaves.
    const script = `import { AnvilProcesses } from ${JSON.stringify(ANVIL_MODULE)};
      import { rmSync } from "node:fs";
      const anvils = new AnvilProcesses({ recordDir: ${JSON.stringify(dir)} });
      const anvil = await anvils.start({ chainId: 31337 });
      rmSync(${JSON.stringify(dir)} + "/" + anvil.pid);
      console.log(anvil.pid);
      setInterval(() => {}, 1000);`;
    const owner = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    owner.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    await until(() => out.includes("\n") || owner.exitCode !== null, "the owner printed its anvil's pid");
    const pid = Number(out.trim());
    try {
      owner.kill("SIGKILL");
      await until(() => !isAlive(owner.pid!), "the owner is dead");
      assert.ok(isAlive(pid), "the anvil outlived its SIGKILLed owner");
      assert.deepEqual(readdirSync(dir), [], "no record names it");
      assert.equal(killOrphanedAnvils(dir), 1);
      await until(() => !isAlive(pid), "the unrecorded orphan is dead");
      assert.equal(killOrphanedAnvils(dir), 0);
    } finally {
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  });

  it("only clears a record whose pid now belongs to another process", () => {
    const dir = tempDir();
    writeFileSync(join(dir, String(process.pid)), "1"); // this process, but not the recorded start time
    assert.equal(killOrphanedAnvils(dir), 0);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("records a running anvil and clears the record when it stops", async () => {
    const dir = tempDir();
    const anvil = await new AnvilProcesses({ recordDir: dir }).start({ chainId: 31337 });
    try {
      assert.deepEqual(readdirSync(dir), [String(anvil.pid)]);
    } finally {
      await anvil.stop();
    }
    await until(() => readdirSync(dir).length === 0, "the record is cleared");
  });

  it("clears what is not a record (a stray directory) and kills nothing for it", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "12345"));
    assert.equal(killOrphanedAnvils(dir), 0);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("answers 0 for a directory nothing was recorded in", () => {
    assert.equal(killOrphanedAnvils(join(tmpdir(), "sentinel-no-such-dir")), 0);
  });
});

describe("AnvilProcesses", () => {
  it("killAll SIGKILLs the anvils its owner started and that still run, and says how many", async () => {
    const anvils = new AnvilProcesses();
    const [a, b] = await Promise.all([anvils.start({ chainId: 31337 }), anvils.start({ chainId: 31338 })]);
    try {
      assert.equal(anvils.size, 2);
      assert.equal(anvils.killAll(), 2);
      await until(() => !isAlive(a.pid) && !isAlive(b.pid), "both anvils are dead");
      assert.equal(anvils.size, 0);
      assert.equal(anvils.killAll(), 0, "nothing is left to kill");
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("does not count nor kill an anvil that was stopped, nor one started by another owner", async () => {
    const anvils = new AnvilProcesses();
    const other = new AnvilProcesses();
    const stopped = await anvils.start({ chainId: 31337 });
    const others = await other.start({ chainId: 31337 });
    try {
      await stopped.stop();
      await until(() => anvils.size === 0, "the stopped anvil is forgotten");
      assert.equal(anvils.killAll(), 0);
      assert.ok(isAlive(others.pid), "another owner's anvil still runs");
    } finally {
      await others.stop();
    }
  });
});
