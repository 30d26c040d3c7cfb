// One solc compiler in a worker thread. soljson is a 9 MB emscripten module: loading it costs
// ~0.6 s and a compile blocks its thread, so each installed version gets its own long-lived
// worker (see runner.ts) and this file only loads it and answers compile requests one at a time.
//
// Protocol (structured-clone messages; inputs and outputs stay JSON strings, so the main thread
// can hash and cache the exact bytes solc produced):
//   worker -> main  { type: "loaded", version, cpuMs }    once, after soljson is loaded
//                   { type: "loadFailed", message }        instead, if it could not be loaded
//   main -> worker  { id, input }                          a standard-JSON input
//   worker -> main  { type: "result", id, output, ms, cpuMs }  solc's standard-JSON output
//                   { type: "failed", id, message }        solc threw (it reports input errors
//                                                          in the output; a throw is a crash)
import { createRequire } from "node:module";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";

export interface WorkerInit {
  /** Absolute path of the solc package's main module. */
  entry: string;
}

export interface CompileRequest {
  id: number;
  input: string;
}

export type WorkerMessage =
  | { type: "loaded"; version: string; cpuMs: number }
  | { type: "loadFailed"; message: string }
  /** ms: wall time of solc.compile; cpuMs: this thread's CPU time in it (wall time less contention). */
  | { type: "result"; id: number; output: string; ms: number; cpuMs: number }
  | { type: "failed"; id: number; message: string };

interface Solc {
  version(): string;
  compile(input: string): string;
}

/** process.threadCpuUsage is recent (not in every Node 22 release the engines field allows): NaN without it. */
const threadCpu = (): NodeJS.CpuUsage | undefined =>
  typeof process.threadCpuUsage === "function" ? process.threadCpuUsage() : undefined;

/** CPU time this thread has used since `since`, in ms. */
function cpuMs(since: NodeJS.CpuUsage | undefined): number {
  if (!since) return NaN;
  const used = process.threadCpuUsage(since);
  return (used.user + used.system) / 1000;
}

function serve(port: MessagePort, init: WorkerInit): void {
  const post = (message: WorkerMessage) => port.postMessage(message);
  let solc: Solc;
  const loading = threadCpu();
  try {
    solc = createRequire(import.meta.url)(init.entry) as Solc;
    // soljson builds report "0.8.28+commit.7893614a.Emscripten.clang"; metadata names the
    // version without the platform suffix, and so do bundles.
    post({ type: "loaded", version: solc.version().replace(/\.Emscripten\.clang$/, ""), cpuMs: cpuMs(loading) });
  } catch (error) {
    post({ type: "loadFailed", message: error instanceof Error ? error.message : String(error) });
    return;
  }
  port.on("message", (request: CompileRequest) => {
    const started = performance.now();
    const cpu = threadCpu();
    try {
      const output = solc.compile(request.input);
      post({ type: "result", id: request.id, output, ms: performance.now() - started, cpuMs: cpuMs(cpu) });
    } catch (error) {
      post({ type: "failed", id: request.id, message: error instanceof Error ? error.message : String(error) });
    }
  });
}

// Imported for its types by runner.ts: only run as a worker.
if (parentPort) serve(parentPort, workerData as WorkerInit);
