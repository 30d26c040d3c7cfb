// The node's check pipeline, in a worker thread of its own at a lower OS priority than the main
// thread. Verification is seconds of CPU per candidate (upgrades-core, bytecode analysis, the
// shadow fork's RPC); the main thread's work (gossip validation, aggregation, relaying) is short
// and on every candidate's critical path. Here the two no longer share an event loop, and where
// they share CPUs the OS runs the main thread first. The pipeline, checks and compiler are the
// same code `sentinel check` runs in process.
//
// Protocol (structured-clone messages; bigints survive):
//   main -> worker  { type: "verify", id, job }             run the pipeline for one candidate
//   worker -> main  { type: "enrollment", id }              the origin check asks the node (it caches
//                                                           enrollment reads for admission too)
//   main -> worker  { type: "enrollment", id, answer | error }
//   worker -> main  { type: "result", id, result }          the pipeline's result
//                   { type: "failed", id, message }         the pipeline threw (a bug, not a finding)
//   main -> worker  { type: "close" }                       close the compilers, then "closed"
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { Address, Hex, PublicClient } from "viem";
import { chainReader } from "../../chains/clients.ts";
import { BundleFormatError, type SourceBundle } from "../../codec/bundle.ts";
import type { Candidate } from "../../codec/candidate.ts";
import { standardChecks } from "../checks.ts";
import { VerificationContext, type Enrollment } from "../context.ts";
import { runPipeline, type PipelineResult } from "../pipeline.ts";
import { lowerThisThreadPriority } from "../../util/priority.ts";
import { BuildCompiler } from "../reproducibleBuild/index.ts";
import { AnvilProcesses, shadowDetails } from "../shadow/index.ts";
import { setSolverAnswerGuard, solverFailures } from "../capabilities/solver.ts";

export interface PipelineWorkerInit {
  compileCacheDir: string;
  /**
   * Where the shadow forks this thread runs are written down, so that the node can kill the ones
   * a crash left running when it starts again (killOrphanedAnvils).
   */
  forkRecordDir?: string;
  /** Nice value of this thread; its compiler threads and shadow forks inherit it. */
  niceness: number;
  checkTimeoutMs: number;
  /** Tests only: how long z3 may take to answer before it counts as failed (solver.ts). */
  solverAnswerGuardMs?: number;
}

export interface VerifyJob {
  candidateId: Hex;
  candidate: Candidate;
  proposer: Address;
  chain: { chainId: number; rpcUrl: string; registry: Address };
  /** The bundle, or why it does not parse (the same on every node: the pipeline reports it). */
  bundle: { ok: true; value: SourceBundle } | { ok: false; field: string; reason: string };
}

export type ToPipelineWorker =
  | { type: "verify"; id: number; job: VerifyJob }
  | { type: "enrollment"; id: number; answer: Enrollment }
  | { type: "enrollment"; id: number; error: string }
  | { type: "close" };

export type FromPipelineWorker =
  | { type: "enrollment"; id: number }
  | { type: "result"; id: number; result: PipelineResult }
  | { type: "failed"; id: number; message: string }
  | { type: "closed" }
  /** This thread's z3 failed: it ends once idle, and takes no more work. */
  | { type: "retiring" };

function serve(port: MessagePort, init: PipelineWorkerInit): void {
  lowerThisThreadPriority(init.niceness);
  if (init.solverAnswerGuardMs !== undefined) setSolverAnswerGuard(init.solverAnswerGuardMs);
  // This thread owns its shadow forks: it kills what is left when it is closed, and when it ends
  // any other way (the process exiting terminates it without a close).
  const forks = new AnvilProcesses(init.forkRecordDir === undefined ? {} : { recordDir: init.forkRecordDir });
  process.once("exit", () => forks.killAll());
  const post = (message: FromPipelineWorker) => port.postMessage(message);
  const compiler = new BuildCompiler({ cacheDir: init.compileCacheDir });
  const checks = standardChecks();
  const clients = new Map<string, PublicClient>();
  const enrollments = new Map<number, { resolve(answer: Enrollment): void; reject(error: Error): void }>();

  const clientFor = ({ chainId, rpcUrl }: VerifyJob["chain"]): PublicClient => {
    let client = clients.get(rpcUrl);
    if (!client) {
      // A check's own time limit bounds its requests. viem's 10 s default fired first on nodes
      // starved of CPU (this thread runs at nice 19): a 32-node devnet on two cores had 9 nodes
      // fail a check with "The request took too long to respond" where the other 23 approved,
      // and no verdict reached the threshold.
      client = chainReader(chainId, rpcUrl, { timeoutMs: init.checkTimeoutMs }) as PublicClient;
      clients.set(rpcUrl, client);
    }
    return client;
  };

  const verify = async (id: number, job: VerifyJob): Promise<PipelineResult> => {
    const { bundle } = job;
    const loaded: Promise<SourceBundle> = bundle.ok ? Promise.resolve(bundle.value) : Promise.reject(new BundleFormatError(bundle.field, bundle.reason));
    loaded.catch(() => {}); // read by the checks that need it; not an unhandled rejection meanwhile
    const context = new VerificationContext({
      candidateId: job.candidateId,
      candidate: job.candidate,
      proposer: job.proposer,
      client: clientFor(job.chain),
      rpcUrl: job.chain.rpcUrl,
      registry: job.chain.registry,
      loadBundle: () => loaded,
      compile: (spec) => compiler.build(spec),
      compileSyntax: (spec) => compiler.syntax(spec),
      compileExactly: (version, input) => compiler.compile(version, input),
      startFork: (options) => forks.start(options),
      enrollment: () =>
        new Promise<Enrollment>((resolve, reject) => {
          enrollments.set(id, { resolve, reject });
          post({ type: "enrollment", id });
        }),
    });
    try {
      const result = await runPipeline(context, checks, { checkTimeoutMs: init.checkTimeoutMs });
      // Only once the shadow check ran: its report is then shared, and reading it starts no fork.
      const details = result.timings["shadow-deployment"] === undefined ? undefined : await shadowDetails(context);
      return details === undefined ? result : { ...result, details };
    } finally {
      enrollments.delete(id);
    }
  };

  // A z3 that failed once may not recover in this thread (solver.ts): once no verification is in
  // flight, the thread says so and ends; the next verification starts a new one.
  let inFlight = 0;
  let retiring = false;
  const retireIfBroken = () => {
    if (retiring || inFlight > 0 || solverFailures() === 0) return;
    retiring = true;
    post({ type: "retiring" });
    forks.killAll();
    void compiler.close().finally(() => process.exit(0));
  };

  port.on("message", (message: ToPipelineWorker) => {
    switch (message.type) {
      case "verify":
        inFlight++;
        verify(message.id, message.job)
          .then(
            (result) => post({ type: "result", id: message.id, result }),
            (error: unknown) => post({ type: "failed", id: message.id, message: error instanceof Error ? error.message : String(error) }),
          )
          .finally(() => {
            inFlight--;
            retireIfBroken();
          });
        return;
      case "enrollment": {
        const waiter = enrollments.get(message.id);
        enrollments.delete(message.id);
        if ("answer" in message) waiter?.resolve(message.answer);
        else waiter?.reject(new Error(message.error));
        return;
      }
      case "close":
        // The verifications in flight fail with their forks: the thread is about to end, and
        // terminate() would skip the shadow deployments' own stop().
        forks.killAll();
        void compiler.close().finally(() => post({ type: "closed" }));
        return;
    }
  });
}

// Imported for its types by pipelineWorker.ts: only run as a worker.
if (parentPort) serve(parentPort, workerData as PipelineWorkerInit);
