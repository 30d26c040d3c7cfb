// Verification's threads and processes ask the OS for a lower priority; the node's main thread
// keeps its own. Linux only (elsewhere the helpers do nothing, by design).
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { lowerProcessPriority } from "../../src/verify/priority.ts";

const niceOf = (path: string) => Number(readFileSync(path, "utf8").split(") ")[1]!.split(" ")[16]);

describe("verification priority", { skip: process.platform !== "linux" }, () => {
  it("lowers a child process's priority", async () => {
    const child = spawn("sleep", ["5"]);
    try {
      lowerProcessPriority(child.pid, 7);
      assert.equal(niceOf(`/proc/${child.pid}/stat`), 7);
      assert.equal(niceOf("/proc/self/stat"), 0, "not this process's");
    } finally {
      child.kill();
    }
  });

  it("lowers only the calling thread's priority", async () => {
    const source = `
      const { parentPort } = require("node:worker_threads");
      import(${JSON.stringify(new URL("../../src/verify/priority.ts", import.meta.url).href)}).then(({ lowerThisThreadPriority }) => {
        lowerThisThreadPriority(5);
        parentPort.postMessage(require("node:fs").readlinkSync("/proc/thread-self"));
      });`;
    const worker = new Worker(source, { eval: true });
    const threadSelf = await new Promise<string>((resolve) => worker.once("message", resolve));
    try {
      assert.equal(niceOf(`/proc/${threadSelf}/stat`), 5, "the worker thread");
      assert.equal(niceOf("/proc/thread-self/stat"), 0, "the main thread");
    } finally {
      await worker.terminate();
    }
  });

  it("does nothing for a process that is gone or a nice value of 0", () => {
    lowerProcessPriority(2 ** 22 + 12345, 10);
    lowerProcessPriority(undefined, 10);
    lowerProcessPriority(process.pid, 0);
    assert.equal(niceOf("/proc/self/stat"), 0);
  });
});
