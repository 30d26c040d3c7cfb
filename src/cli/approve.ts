// `sentinel approve <candidateId> --node <url> --network-id <id> ...`: a policy's human approver
// reads the node's automated report of a candidate, then signs and submits their approval of
// exactly that report (docs/approvals.md). The report is printed before anything is signed.
import { createInterface } from "node:readline/promises";
import { getAddress, isHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { SentinelClient, type CandidateStatus, type HumanGateStatus } from "../client/index.ts";
import { OUTCOMES } from "../client/types.ts";
import { joinSafeSignatures, safeApprovalTypedData } from "../codec/humanApproval.ts";
import { humanApprovalDigest, isNetworkId, sentinelDomain, SENTINEL_TYPES, type HumanApproval } from "../codec/types.ts";
import { reasonsFromBitmap } from "../verify/reasons.ts";
import { EXIT, EXIT_CODES_HELP, addressFlag, candidateIdArgument, parseCommand, readKeyFile, requireFlag, runCommand, type CommandIo } from "./common.ts";
import { UsageError } from "./errors.ts";

export const APPROVE_USAGE = `Usage:
  sentinel approve <candidateId | candidate.json> --node <url> --network-id <id> --key-file <approver key> [--yes]
  sentinel approve <candidateId> --node <url> --network-id <id> --safe <address> --owner-key-files <f1,f2,...> [--yes]
  sentinel approve <candidateId> --node <url> --network-id <id> --safe <address> --expires-at <unix> --print-safe-message
  sentinel approve <candidateId> --node <url> --network-id <id> --safe <address> --expires-at <unix> --signature <hex> [--yes]

Prints the node's automated report of the candidate (every finding: selectors added and removed,
storage layout, the shadow deployment's state diff and invariants before and after), then asks
for confirmation, signs the HumanApproval of that report (candidate id and findings digest) and
submits it to the node, which checks it and spreads it to every node.

A Safe as the approver: its owners sign the Safe's SafeMessage wrapping the approval digest
(EIP-712, domain: the candidate's chain id and the Safe). Either give enough owners' key files
(--owner-key-files), or agree an --expires-at, print what to sign (--print-safe-message), collect
the owners' signatures and pass them joined in ascending owner order (--signature).

Options:
  --node <url>                 a node's API
  --network-id <id>            the Sentinel network (the approval is bound to it)
  --key-file <f>               the approver's secp256k1 key (an EOA approver)
  --safe <address>             approve as this Safe (an approver in the policy)
  --owner-key-files <f,...>    Safe owners' keys, at least the Safe's threshold
  --signature <hex>            a Safe's owners' signatures, already collected and joined
  --expires-at <unix seconds>  when the approval stops counting; default one hour from now
  --print-safe-message         print the typed data a Safe's owners sign, and exit
  --yes                        do not ask for confirmation

${EXIT_CODES_HELP}
1 here: the node refused the approval (its code says why), the candidate is not awaiting approvals, or you declined.
`;

const DEFAULT_VALIDITY_SECONDS = 3600;

export async function runApproveCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand("approve", APPROVE_USAGE, io, async () => {
    const { values, positionals, help } = parseCommand(
      argv,
      {
        node: { type: "string" },
        "network-id": { type: "string" },
        "key-file": { type: "string" },
        safe: { type: "string" },
        "owner-key-files": { type: "string" },
        signature: { type: "string" },
        "expires-at": { type: "string" },
        "print-safe-message": { type: "boolean" },
        yes: { type: "boolean" },
      },
      { min: 1, max: 1 },
    );
    if (help) {
      io.stdout(APPROVE_USAGE);
      return EXIT.OK;
    }
    const candidateId = candidateIdArgument(positionals[0]!);
    const networkId = requireFlag(values["network-id"], "--network-id", "an approval is bound to one Sentinel network");
    if (!isNetworkId(networkId)) throw new UsageError("--network-id must be 0x followed by 64 hex digits, not all zero");
    const safe = values.safe === undefined ? undefined : addressFlag(values.safe, "--safe");
    const ways = [values["key-file"], values["owner-key-files"], values.signature, values["print-safe-message"] ? "print" : undefined].filter((v) => v !== undefined).length;
    if (ways !== 1) throw new UsageError("give exactly one of --key-file, --owner-key-files, --signature, --print-safe-message");
    if (safe === undefined && values["key-file"] === undefined) throw new UsageError("--owner-key-files, --signature and --print-safe-message approve as a Safe: give --safe");
    if (safe !== undefined && values["key-file"] !== undefined) throw new UsageError("--key-file signs as an EOA; for a Safe give its owners' --owner-key-files or --signature");
    const expiresAt = expiry(values["expires-at"]);
    if ((values.signature !== undefined || values["print-safe-message"]) && values["expires-at"] === undefined) {
      throw new UsageError("--expires-at is required with collected Safe signatures: every owner must sign the same approval");
    }

    const client = new SentinelClient({ url: requireFlag(values.node, "--node", "the API of a node of the network") });
    const status = await client.status(candidateId);
    if (!status) {
      io.stderr(`sentinel approve: ${client.url} does not know candidate ${candidateId} (yet)\n`);
      return EXIT.REFUSED;
    }
    io.stdout(report(status));
    const gate = status.humanGate;
    if (!gate || gate.state !== "awaiting-approvals") {
      io.stderr(`sentinel approve: the candidate is not awaiting approvals on ${client.url}${gate ? ` (${gate.state}: ${gate.message})` : " (not verified yet, rejected by the automated checks, or its policy has no human gate)"}\n`);
      return EXIT.REFUSED;
    }
    const approval: HumanApproval = { candidateId, findingsDigest: gate.findingsDigest, expiresAt };
    const digest = humanApprovalDigest(networkId, approval);
    const chainId = chainIdOf(status);

    if (values["print-safe-message"]) {
      const typed = safeApprovalTypedData(chainId, safe!, digest);
      io.stdout(`${JSON.stringify({ approval: { ...approval, expiresAt: expiresAt.toString() }, approvalDigest: digest, safeTypedData: { ...typed, domain: { ...typed.domain, chainId: Number(chainId) } } }, null, 2)}\n`);
      return EXIT.OK;
    }
    const approver: Address = safe ?? privateKeyToAccount(readKeyFile(values["key-file"]!, "approver")).address;
    if (!gate.approvers.some((a) => a.toLowerCase() === approver.toLowerCase())) {
      io.stderr(`sentinel approve: ${approver} is not one of the policy's approvers (${gate.approvers.join(", ")})\n`);
      return EXIT.REFUSED;
    }
    if (!values.yes && !(await confirm(`Approve candidate ${candidateId} (findings ${gate.findingsDigest}) as ${approver}, valid until ${new Date(Number(expiresAt) * 1000).toISOString()}? [y/N] `))) {
      io.stderr("sentinel approve: not approved\n");
      return EXIT.REFUSED;
    }
    let signature: Hex;
    if (values["key-file"] !== undefined) {
      const account = privateKeyToAccount(readKeyFile(values["key-file"], "approver"));
      signature = await account.signTypedData({ domain: sentinelDomain(networkId), types: SENTINEL_TYPES, primaryType: "HumanApproval", message: approval });
    } else if (values["owner-key-files"] !== undefined) {
      const owners = values["owner-key-files"].split(",").map((file) => privateKeyToAccount(readKeyFile(file, "Safe owner")));
      const typed = safeApprovalTypedData(chainId, safe!, digest);
      signature = joinSafeSignatures(await Promise.all(owners.map(async (owner) => ({ owner: owner.address, signature: await owner.signTypedData(typed) }))));
    } else {
      if (!isHex(values.signature, { strict: true }) || (values.signature!.length - 2) % 130 !== 0) throw new UsageError("--signature must be 0x and 65-byte signatures joined (130 hex digits each)");
      signature = values.signature as Hex;
    }
    const { added, humanGate } = await client.approve({ candidateId, findingsDigest: gate.findingsDigest, expiresAt: expiresAt.toString(), approver, signature });
    io.stdout(`${added ? "approval accepted" : "this approver's approval was already held"}: ${humanGate.message}\n`);
    io.stdout(`${JSON.stringify({ candidateId, approver, added, state: humanGate.state, count: humanGate.count, threshold: humanGate.threshold })}\n`);
    return EXIT.OK;
  });
}

function expiry(flag: string | undefined): bigint {
  if (flag === undefined) return BigInt(Math.floor(Date.now() / 1000) + DEFAULT_VALIDITY_SECONDS);
  if (!/^[1-9]\d{0,11}$/.test(flag)) throw new UsageError(`--expires-at must be unix seconds, not ${flag}`);
  return BigInt(flag);
}

function chainIdOf(status: CandidateStatus): bigint {
  const chainId = (status.candidate as { candidate?: { chainId?: unknown } } | null)?.candidate?.chainId;
  if (typeof chainId !== "string" || !/^\d+$/.test(chainId)) throw new Error("the node's answer names no chain id for the candidate");
  return BigInt(chainId);
}

async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

interface ReportDetails {
  stateDiff?: { address: string; slot: string; before: string; after: string }[];
  stateDiffTruncated?: boolean;
  invariants?: { name: string; relation: string; before: string; after?: string; expected?: string; holds?: boolean }[];
}

interface ReportFinding {
  check: string;
  code: string;
  severity: string;
  message: string;
  evidence?: Record<string, string>;
}

/** The automated report as a person reads it: the facts an approver is asked to approve. */
export function report(status: CandidateStatus): string {
  const lines: string[] = [`Candidate ${status.candidateId}`];
  const candidate = (status.candidate as { candidate?: Record<string, string> } | null)?.candidate;
  if (candidate) {
    lines.push(`  chain ${candidate["chainId"]}  target (proxy) ${candidate["target"]}`);
    lines.push(`  new implementation ${candidate["implementation"]}  pinned block ${candidate["blockNumber"]}`);
    lines.push(`  proposer ${status.proposer ?? "?"}  expires ${new Date(Number(candidate["expiresAt"]) * 1000).toISOString()}`);
  }
  const verification = status.verification as { outcome?: number; reasons?: string; findings?: ReportFinding[]; findingsDigest?: string; codehash?: string; details?: ReportDetails } | null;
  if (!verification) return `${lines.join("\n")}\n  not verified on this node yet\n`;
  const reasons = verification.reasons && /^\d+$/.test(verification.reasons) ? reasonsFromBitmap(BigInt(verification.reasons)) : [];
  lines.push(`  automated checks: ${(OUTCOMES[verification.outcome ?? 0] ?? "?").toUpperCase()}${reasons.length ? ` (${reasons.join(", ")})` : ""}`);
  lines.push(`  code hash ${verification.codehash ?? "?"}`);
  lines.push(`  findings digest ${verification.findingsDigest ?? "?"}   <- what you sign`);
  const findings = verification.findings ?? [];
  const byCheck = new Map<string, ReportFinding[]>();
  for (const finding of findings) byCheck.set(finding.check, [...(byCheck.get(finding.check) ?? []), finding]);
  for (const [check, list] of byCheck) {
    lines.push("", `[${check}]`);
    for (const finding of list) {
      const mark = finding.severity === "reject" ? "REJECT" : finding.severity === "warning" ? "WARN  " : "      ";
      lines.push(`  ${mark} ${finding.code === "OK" ? "" : `${finding.code}: `}${finding.message}`);
      for (const [key, value] of Object.entries(finding.evidence ?? {})) lines.push(`           ${labelOf(key)}: ${value === "" ? "(none)" : value}`);
    }
  }
  const details = verification.details;
  if (details?.stateDiff) {
    lines.push("", `[shadow deployment: storage the upgrade wrote, ${details.stateDiff.length} slot(s)${details.stateDiffTruncated ? ", the first only" : ""}]`);
    for (const change of details.stateDiff) lines.push(`  ${change.address} slot ${change.slot}`, `      ${change.before} -> ${change.after}`);
  }
  if (details?.invariants?.length) {
    lines.push("", "[policy invariants: before -> after the upgrade]");
    for (const invariant of details.invariants) {
      const verdict = invariant.holds === undefined ? "" : invariant.holds ? "  holds" : "  VIOLATED";
      lines.push(`  ${invariant.name} (${invariant.relation}${invariant.expected === undefined ? "" : ` ${invariant.expected}`}): ${invariant.before} -> ${invariant.after ?? "(no upgrade)"}${verdict}`);
    }
  }
  lines.push("", gateLine(status.humanGate ?? null), "");
  return lines.join("\n");
}

const LABELS: Record<string, string> = {
  added: "selectors added",
  removed: "selectors removed",
  stateDiffDigest: "state diff digest",
  storageChanges: "storage slots changed by the upgrade",
  before: "value before",
  after: "value after",
};

function labelOf(key: string): string {
  return LABELS[key] ?? key;
}

function gateLine(gate: HumanGateStatus | null): string {
  if (!gate) return "Human gate: none on this node for this candidate";
  return [
    `Human gate: ${gate.state}, ${gate.count} of ${gate.threshold} approvals (window closes ${gate.closesAt})`,
    `  approvers: ${gate.approvers.map((a) => `${getAddress(a)}${gate.approvedBy.some((b) => b.toLowerCase() === a.toLowerCase()) ? " (approved)" : ""}`).join(", ")}`,
  ].join("\n");
}
