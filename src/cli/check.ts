// `sentinel check <candidate.json> --rpc <url>`: the node's verification pipeline run locally,
// without the network. The dry run a protocol team puts in its own CI before submitting.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createPublicClient, getAddress, http, isAddress, type Address, type Hex } from "viem";
import { parseBundle, type SourceBundle } from "../codec/bundle.ts";
import { parseSignedCandidate, recoverProposer, type Candidate } from "../codec/candidate.ts";
import { isNetworkId, Outcome } from "../codec/types.ts";
import { BuildCompiler } from "../verify/reproducibleBuild/index.ts";
import { policyHash, type CheckName } from "../codec/policy.ts";
import { reasonsFromBitmap } from "../verify/reasons.ts";
import { failuresToObserve } from "../verify/observation.ts";
import { verifyStandalone } from "../verify/standalone.ts";
import type { Finding, PipelineResult } from "../verify/pipeline.ts";
import type { CommandIo } from "./keys.ts";
import { UsageError } from "./errors.ts";
import { callerPath } from "./common.ts";

export const CHECK_USAGE = `Usage:
  sentinel check <candidate.json> --rpc <url> [options]

Runs every verification check a Sentinel node runs on a deployment candidate, locally, and
prints what each found. Exit code: 0 approve, 1 reject, 2 bad usage or unreadable input, or a
check that cannot run as asked (it fails closed: nothing is skipped unless a flag says so).
A guarded proxy needs --registry: the fork then assumes the approval being checked, as the nodes do.

<candidate.json> is the body you would POST to a node's /v1/candidates:
  { "candidate": { chainId, target, implementation, sourceHash, policyHash, blockNumber,
                   nonce, createdAt, expiresAt },
    "signature": "0x…" (optional for a dry run),
    "bundle": { … the source bundle … } }
"candidate.blockNumber" may be omitted: the chain's latest block is used.

Options:
  --rpc <url>            JSON-RPC of the candidate's chain (required)
  --bundle <file>        the source bundle, if not inside <candidate.json>
  --registry <address>   the Sentinel registry on that chain: also check the proposer's enrollment
                         and that candidate.policyHash is the enrolled policy
  --proposer <address>   the proposer, for an unsigned candidate (else recovered from the signature)
  --network-id <0x…>     the Sentinel network id: recovers the proposer and prints the candidate id
  --skip-enrollment      run without the enrollment (origin) check: without it, a run that cannot check
                         enrollment (no --registry, or no proposer: give --proposer, or a signed candidate
                         and --network-id) is refused (exit 2) rather than passed without that check
  --cache-dir <dir>      compile cache (default ~/.cache/sentinel/compile-cache)
  --json                 print the result as one JSON object instead of a report
`;

export async function runCheckCommand(argv: string[], io: CommandIo): Promise<number> {
  let compiler: BuildCompiler | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        rpc: { type: "string" },
        bundle: { type: "string" },
        registry: { type: "string" },
        proposer: { type: "string" },
        "network-id": { type: "string" },
        "cache-dir": { type: "string" },
        json: { type: "boolean" },
        "skip-enrollment": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout(CHECK_USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError("give exactly one candidate file");
    if (!values.rpc) throw new UsageError("--rpc <url> is required: the checks read the candidate's chain");
    const networkId = values["network-id"];
    if (networkId !== undefined && !isNetworkId(networkId)) throw new UsageError("--network-id must be 0x followed by 64 hex digits, not all zero");
    const registry = optionalAddress(values.registry, "--registry");
    let proposer = optionalAddress(values.proposer, "--proposer");

    const body = readJson(callerPath(positionals[0]!), "candidate file");
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new UsageError(`the candidate file ${positionals[0]} must hold a JSON object: { "candidate": { … }, "bundle": { … } }`);
    }
    const bundle = readBundle(values.bundle ? readJson(callerPath(values.bundle), "bundle file") : (body as Record<string, unknown>)["bundle"]);
    compiler = new BuildCompiler({ cacheDir: values["cache-dir"] ? callerPath(values["cache-dir"]) : join(homedir(), ".cache", "sentinel", "compile-cache") });
    // A fresh process (a CI job) has no compiler loaded: its workers load while the candidate and
    // the chain are read. A version that is not installed is reported by the checks, as always.
    compiler.compilers.preload(bundle.implementation.compiler).catch(() => undefined);
    const { candidate, signature } = await readCandidate(body as Record<string, unknown>, values.rpc);
    await checkChainId(values.rpc, candidate.chainId);
    if (signature && networkId && !proposer) proposer = recoverProposer(networkId as Hex, { candidate, signature });
    const skipEnrollment = values["skip-enrollment"] === true;
    // Fail closed: a CI job that asked for the checks must not go green on one that never ran.
    if (!skipEnrollment && (!registry || !proposer)) {
      const missing = !registry
        ? "--registry <address> (the network's registry on this chain)"
        : signature
          ? "the proposer: --network-id <id> (recovers it from the signature) or --proposer <address>"
          : "the proposer: --proposer <address> (the candidate is unsigned)";
      throw new UsageError(`the enrollment check cannot run without ${missing}; pass --skip-enrollment to run every other check without it`);
    }

    const result = await verifyStandalone({
      candidate,
      bundle,
      rpcUrl: values.rpc,
      compiler,
      ...(proposer ? { proposer } : {}),
      ...(registry ? { registry } : {}),
      ...(networkId ? { networkId: networkId as Hex } : {}),
    });
    const skipped = skipEnrollment && (!registry || !proposer);
    io.stdout(values.json ? `${JSON.stringify(jsonReport(candidate, bundle, result, proposer, networkId !== undefined, skipped))}\n` : textReport(candidate, bundle, result, proposer, registry, skipped));
    // A check this machine could not carry out (its RPC, a time limit) says nothing about the
    // candidate: "unavailable", so a pipeline retries instead of refusing the release.
    const unobserved = failuresToObserve(result.findings);
    if (unobserved.length > 0) {
      io.stderr(`could not observe the candidate (${unobserved.map((f) => `${f.check}: ${f.code}`).join(", ")}); a node would abstain, not reject. Retry when the RPC answers.\n`);
      return 3;
    }
    return result.outcome === Outcome.Approve ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr(`sentinel check: ${(error as Error).message}\n\n${CHECK_USAGE}`);
      return 2;
    }
    io.stderr(`sentinel check: ${(error as Error).message}\n`);
    return 2;
  } finally {
    await compiler?.close();
  }
}

function optionalAddress(value: string | undefined, flag: string): Address | undefined {
  if (value === undefined) return undefined;
  if (!isAddress(value, { strict: false })) throw new UsageError(`${flag} must be a 20-byte hex address`);
  return getAddress(value);
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the ${what} ${path} is not JSON: ${(error as Error).message}`);
  }
}

function readBundle(value: unknown): SourceBundle {
  if (value === undefined) throw new UsageError('no source bundle: put it in the candidate file\'s "bundle" field or pass --bundle <file>');
  try {
    return parseBundle(value);
  } catch (error) {
    throw new UsageError(`bundle: ${(error as Error).message}`);
  }
}

async function readCandidate(body: Record<string, unknown>, rpcUrl: string): Promise<{ candidate: Candidate; signature?: Hex }> {
  const raw = { ...(body["candidate"] as Record<string, unknown> | undefined) };
  if (raw["blockNumber"] === undefined) {
    const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 1 }) });
    raw["blockNumber"] = (await client.getBlockNumber()).toString();
  }
  const signature = body["signature"] as Hex | undefined;
  try {
    // An unsigned dry run parses with a placeholder signature, never used.
    const parsed = parseSignedCandidate({ candidate: raw, signature: signature ?? `0x${"00".repeat(65)}` });
    return signature ? { candidate: parsed.candidate, signature } : { candidate: parsed.candidate };
  } catch (error) {
    throw new UsageError(`candidate: ${(error as Error).message}`);
  }
}

/** The checks read whatever chain --rpc serves: it must be the candidate's, or the report names a chain never read. */
async function checkChainId(rpcUrl: string, chainId: bigint): Promise<void> {
  let served: number;
  try {
    served = await createPublicClient({ transport: http(rpcUrl, { retryCount: 1 }) }).getChainId();
  } catch (error) {
    throw new UsageError(`cannot read the chain id from --rpc ${rpcUrl}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (BigInt(served) !== chainId) throw new UsageError(`--rpc serves chain ${served}, but the candidate is for chain ${chainId}`);
}

function jsonReport(candidate: Candidate, bundle: SourceBundle, result: PipelineResult & { candidateId: Hex }, proposer: Address | undefined, hasNetworkId: boolean, enrollmentSkipped: boolean) {
  return {
    outcome: result.outcome === Outcome.Approve ? "approve" : "reject",
    reasons: reasonsFromBitmap(result.reasons),
    reasonBitmap: `0x${result.reasons.toString(16)}`,
    findingsDigest: result.findingsDigest,
    codehash: result.codehash,
    // A candidate id is bound to a network: without --network-id there is none to report.
    candidateId: hasNetworkId ? result.candidateId : null,
    enrollmentChecked: !enrollmentSkipped,
    candidate: { chainId: candidate.chainId.toString(), target: candidate.target, implementation: candidate.implementation, blockNumber: candidate.blockNumber.toString() },
    proposer: proposer ?? null,
    policy: { name: bundle.policy.name, version: bundle.policy.version, hash: policyHash(bundle.policy) },
    findings: result.findings,
    timingsMs: result.timings,
  };
}

const MARK: Record<Finding["severity"], string> = { info: "ok  ", warning: "warn", reject: "FAIL" };

function textReport(candidate: Candidate, bundle: SourceBundle, result: PipelineResult, proposer: Address | undefined, registry: Address | undefined, enrollmentSkipped: boolean): string {
  const lines: string[] = [];
  lines.push(`Sentinel check: ${bundle.implementation.contract} for proxy ${candidate.target} on chain ${candidate.chainId} at block ${candidate.blockNumber}`);
  lines.push(`  implementation ${candidate.implementation}, compiler ${bundle.implementation.compiler}, reference ${bundle.reference.contract}`);
  lines.push(`  policy "${bundle.policy.name}" v${bundle.policy.version} (${policyHash(bundle.policy)}), proposer ${proposer ?? "not given (dry run)"}`);
  lines.push("");
  const byCheck = new Map<CheckName, Finding[]>();
  for (const finding of result.findings) byCheck.set(finding.check, [...(byCheck.get(finding.check) ?? []), finding]);
  for (const [check, findings] of byCheck) {
    const ms = result.timings[check];
    lines.push(`${check}${ms === undefined ? "" : ` (${ms} ms)`}`);
    for (const finding of findings) {
      const code = finding.code === "OK" ? "" : ` [${finding.code}]`;
      lines.push(`  ${MARK[finding.severity]} ${finding.message}${code}`);
      for (const [key, value] of Object.entries(finding.evidence ?? {})) lines.push(`         ${key}: ${value}`);
    }
  }
  if (!registry && result.findings.some((finding) => finding.message.includes("UpgradeNotApproved"))) {
    lines.push("");
    lines.push("hint: the proxy is guarded by Sentinel and refused the unapproved upgrade on the fork; pass --registry <address>");
    lines.push("      so that the fork assumes the approval being checked, as the nodes do");
  }
  if (enrollmentSkipped) {
    lines.push("");
    lines.push("note: enrollment NOT checked (--skip-enrollment): nodes will refuse a proposer the target's authority did not enroll");
  }
  lines.push("");
  const reasons = reasonsFromBitmap(result.reasons);
  lines.push(result.outcome === Outcome.Approve ? "APPROVE" : `REJECT: ${reasons.join(", ")}`);
  lines.push(`reason bitmap 0x${result.reasons.toString(16)}, findings digest ${result.findingsDigest}, codehash ${result.codehash}`);
  return `${lines.join("\n")}\n`;
}
