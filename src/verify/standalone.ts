// The pipeline without the network: what `sentinel check`, the corpus and bench:verify run. The
// checks are the node's own; only the inputs differ: the bundle is given, and enrollment is read
// from a registry only when one is named (a protocol's CI dry run usually has none yet).
import { createPublicClient, http, type Address, type Hex, type PublicClient } from "viem";
import { resolveUpgradeAuthority } from "../chains/authority.ts";
import { RegistryReader } from "../chains/registryReader.ts";
import { candidateId as computeCandidateId, type Candidate } from "../codec/candidate.ts";
import type { SourceBundle } from "../codec/bundle.ts";
import { standardChecks } from "./checks.ts";
import { VerificationContext, type Enrollment } from "./context.ts";
import { runPipeline, type PipelineResult } from "./pipeline.ts";
import type { BuildCompiler } from "./reproducibleBuild/index.ts";
import { AnvilProcesses } from "./shadow/index.ts";

export interface StandaloneVerification {
  candidate: Candidate;
  bundle: SourceBundle;
  rpcUrl: string;
  compiler: BuildCompiler;
  /** Who proposes it; without one (an unsigned dry run) the origin check is skipped. */
  proposer?: Address;
  /** The registry on the candidate's chain; without one the origin check is skipped. */
  registry?: Address;
  /** For the candidate id; any fixed id will do for a dry run. */
  networkId?: Hex;
  checkTimeoutMs?: number;
}

export const STANDALONE_CHECK_TIMEOUT_MS = 120_000;

export async function verifyStandalone(options: StandaloneVerification): Promise<PipelineResult & { candidateId: Hex }> {
  const client = createPublicClient({ transport: http(options.rpcUrl, { retryCount: 2 }) }) as PublicClient;
  const candidateId = options.networkId ? computeCandidateId(options.networkId, options.candidate) : ("0x" + "00".repeat(32)) as Hex;
  const { proposer, registry } = options;
  // Every shadow run stops its own fork; these are killed here too, so none outlives the call.
  const forks = new AnvilProcesses();
  const context = new VerificationContext({
    candidateId,
    candidate: options.candidate,
    proposer: proposer ?? "0x0000000000000000000000000000000000000000",
    client,
    rpcUrl: options.rpcUrl,
    ...(registry ? { registry } : {}),
    loadBundle: async () => options.bundle,
    compile: (spec) => options.compiler.build(spec),
    compileSyntax: (spec) => options.compiler.syntax(spec),
    compileExactly: (version, input) => options.compiler.compile(version, input),
    startFork: (forkOptions) => forks.start(forkOptions),
    ...(proposer && registry ? { enrollment: () => readEnrollment(client, registry, options.candidate, proposer) } : {}),
  });
  try {
    const result = await runPipeline(context, standardChecks(), { checkTimeoutMs: options.checkTimeoutMs ?? STANDALONE_CHECK_TIMEOUT_MS });
    return { ...result, candidateId };
  } finally {
    forks.killAll();
  }
}

async function readEnrollment(client: PublicClient, registry: Address, candidate: Candidate, proposer: Address): Promise<Enrollment> {
  const chainId = Number(candidate.chainId);
  const { authority } = await resolveUpgradeAuthority(client, candidate.target, { blockNumber: candidate.blockNumber });
  const entry = await new RegistryReader({ chainId, registry }, { client }).enrollment(candidate.target, authority);
  if (!entry) return { enrolled: false, authority };
  return { enrolled: entry.proposers.includes(proposer), authority, policyHash: entry.policyHash };
}
