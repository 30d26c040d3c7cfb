// `sentinel status <candidateId> --node <url>`: where a candidate stands on one node.
import { SentinelClient, type CandidateStatus } from "../client/index.ts";
import { OUTCOMES } from "../client/types.ts";
import { reasonsFromBitmap } from "../verify/reasons.ts";
import { EXIT, EXIT_CODES_HELP, candidateIdArgument, parseCommand, requireFlag, runCommand } from "./common.ts";
import type { CommandIo } from "./keys.ts";

export const STATUS_USAGE = `Usage:
  sentinel status <candidateId | candidate.json> --node <url> [--json]

Prints where a candidate stands on that node: verification, the verdict it signed, the attestation,
and the relay to each chain.

Options:
  --node <url>   the node's API
  --json         print the node's whole answer (GET /v1/candidates/<id>)

${EXIT_CODES_HELP}
1 here: the node does not know the candidate.
`;

export async function runStatusCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand("status", STATUS_USAGE, io, async () => {
    const { values, positionals, help } = parseCommand(argv, { node: { type: "string" }, json: { type: "boolean" } }, { min: 1, max: 1 });
    if (help) {
      io.stdout(STATUS_USAGE);
      return EXIT.OK;
    }
    const node = requireFlag(values.node, "--node", "the API of a node of the network");
    const client = new SentinelClient({ url: node });
    const status = await client.status(candidateIdArgument(positionals[0]!));
    if (!status) {
      io.stderr(`sentinel status: ${client.url} does not know candidate ${positionals[0]} (yet): check the id, or ask the node it was submitted to\n`);
      return EXIT.REFUSED;
    }
    io.stdout(values.json ? `${JSON.stringify(status)}\n` : describe(status));
    return EXIT.OK;
  });
}

export function describe(status: CandidateStatus): string {
  const lines = [`candidate ${status.candidateId}`];
  if (status.proposer) lines.push(`  proposer       ${status.proposer}`);
  // The node stores the reasons as a decimal bitmap string: named here with the verifier's table.
  const verification = status.verification as { outcome?: unknown; reasons?: unknown } | null;
  let verified = "pending";
  if (verification !== null) {
    const outcome = typeof verification.outcome === "number" ? (OUTCOMES[verification.outcome] ?? "done") : "done";
    let reasons: string[] = [];
    try {
      reasons = typeof verification.reasons === "string" && /^[0-9]+$/.test(verification.reasons) ? reasonsFromBitmap(BigInt(verification.reasons)) : [];
    } catch {
      reasons = [`reasons ${String(verification.reasons)}`];
    }
    verified = `${outcome}${reasons.length > 0 ? ` (${reasons.join(", ")})` : ""}`;
  }
  lines.push(`  verification   ${verified}`);
  if (status.humanGate) lines.push(`  human gate     ${status.humanGate.state}, ${status.humanGate.count} of ${status.humanGate.threshold} approvals (closes ${status.humanGate.closesAt})`);
  lines.push(`  signed digest  ${status.signedDigest ?? "none yet"}`);
  const attestation = status.attestation;
  lines.push(`  attestation    ${attestation ? `${(OUTCOMES[attestation.outcome] ?? "?").toUpperCase()} by validators ${attestation.signers.join(", ")} of set ${attestation.setIndex}` : "none yet"}`);
  for (const [chainId, relay] of Object.entries(status.relay)) {
    let text: string;
    if (relay === null) text = "not started";
    else if ("pending" in relay && relay.pending) text = `${relay.state}${relay.lastError ? ` (last error: ${relay.lastError})` : ""}`;
    else text = `${String(relay.status)}${relay["txHash"] ? ` tx ${String(relay["txHash"])}` : ""}${relay["code"] ? ` ${String(relay["code"])}` : ""}`;
    lines.push(`  chain ${chainId.padEnd(8)} ${text}`);
  }
  return `${lines.join("\n")}\n`;
}
