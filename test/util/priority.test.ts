// The node's verification thread asks the OS for a lower priority; the main thread keeps its own,
// and what the verification thread starts (solc worker threads, shadow-fork processes) inherits
// the lower one. Linux only (elsewhere lowerThisThreadPriority does nothing, by design).
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";

const niceOf = (path: string) => Number(readFileSync(path, "utf8").split(") ")[1]!.split(" ")[16]);

describe("verification priority", { skip: process.platform !== "linux" }, () => {
  it("lowers only the calling thread, and the threads and processes it starts inherit it", async () => {
    const source = `
      const { parentPort, Worker } = require("node:worker_threads");
      const { readlinkSync } = require("node:fs");
      const { spawn } = require("node:child_process");
      import(${JSON.stringify(new URL("../../src/util/priority.ts", import.meta.url).href)}).then(({ lowerThisThreadPriority }) => {
        lowerThisThreadPriority(5);
        const child = spawn("sleep", ["5"]);
        // It stays alive until terminated: a thread that has ended has no /proc entry to read.
        const nested = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:fs').readlinkSync('/proc/thread-self')); setInterval(() => {}, 1000)", { eval: true });
        nested.once("message", (nestedSelf) => parentPort.postMessage({ self: readlinkSync("/proc/thread-self"), nestedSelf, child: child.pid }));
        parentPort.once("message", () => { child.kill(); nested.terminate(); });
      });`;
    const worker = new Worker(source, { eval: true });
    const seen = await new Promise<{ self: string; nestedSelf: string; child: number }>((resolve) => worker.once("message", resolve));
    try {
      assert.equal(niceOf(`/proc/${seen.self}/stat`), 5, "the calling thread");
      assert.equal(niceOf(`/proc/${seen.nestedSelf}/stat`), 5, "a worker thread it starts (as a solc worker)");
      assert.equal(niceOf(`/proc/${seen.child}/stat`), 5, "a process it spawns (as a shadow fork)");
      assert.equal(niceOf("/proc/thread-self/stat"), 0, "not the main thread");
    } finally {
      worker.postMessage("stop");
      await new Promise((resolve) => setTimeout(resolve, 100));
      await worker.terminate();
    }
  });

  it("does nothing for a nice value of 0", async () => {
    const { lowerThisThreadPriority } = await import("../../src/util/priority.ts");
    lowerThisThreadPriority(0);
    assert.equal(niceOf("/proc/thread-self/stat"), 0);
  });
});
