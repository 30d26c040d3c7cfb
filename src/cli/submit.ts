// `sentinel submit <candidate.json> --node <url> [--wait]`: posts what `candidate create
// --proposer-key-file` wrote to a node and, with --wait, follows it until the verdict is recorded
// on every chain the node relays to, or refused.
import { isHex, type Address, type Hex } from "viem";
import { SentinelClient } from "../client/index.ts";
import type { Decision, Progress } from "../client/index.ts";
import { UsageError } from "./errors.ts";
import { EXIT, EXIT_CODES_HELP, addressFlag, parseCommand, readJsonFile, requireFlag, runCommand } from "./common.ts";
import type { CommandIo } from "./keys.ts";

export const SUBMIT_USAGE = `Usage:
  sentinel submit <candidate.json> --node <url> [--bundle <bundle.json>] [--wait] [--timeout <seconds>] [--json]

Posts a signed candidate (the file \`sentinel candidate create --proposer-key-file <f> --network-id <id>\`
writes: { candidate, signature, proposer, bundle }) to a node's POST /v1/candidates. Any node of the
network will do: it gossips the candidate to the others.

Options:
  --node <url>          the node's API, e.g. http://127.0.0.1:8545
  --bundle <file>       the source bundle, if not in <candidate.json> (a node that holds it already needs none)
  --wait                follow the candidate until its verdict is recorded on every chain the node relays to,
                        or refused; prints a line per step
  --timeout <seconds>   how long --wait waits (default 300)
  --json                print one JSON object: { candidateId, duplicate, decision? }

${EXIT_CODES_HELP}
Without --wait: 0 admitted (or already known), 1 refused by the node (the reason is printed).
With --wait: 0 approved and recorded on every chain, 1 rejected or refused by a chain, 3 not decided in time.
`;

export async function runSubmitCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand("submit", SUBMIT_USAGE, io, async () => {
    const { values, positionals, help } = parseCommand(
      argv,
      { node: { type: "string" }, bundle: { type: "string" }, wait: { type: "boolean" }, timeout: { type: "string" }, json: { type: "boolean" } },
      { min: 1, max: 1 },
    );
    if (help) return usage(io);
    const node = requireFlag(values.node, "--node", "the API of the node to submit to (e.g. .devnet/manifest.json's nodes[0].apiUrl)");
    const timeoutSeconds = values.timeout === undefined ? 300 : Number(values.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError("--timeout must be a positive number of seconds");
    const file = readJsonFile(positionals[0]!, "candidate file");
    if (typeof file !== "object" || file === null || Array.isArray(file) || !("candidate" in file)) {
      throw new UsageError(`${positionals[0]} must hold { "candidate": { … }, "signature": "0x…", "bundle": { … } }, as \`sentinel candidate create\` writes it`);
    }
    const body = file as { candidate: unknown; signature?: unknown; bundle?: unknown; proposer?: unknown };
    if (typeof body.signature !== "string" || !isHex(body.signature) || body.signature === "0x") {
      throw new UsageError(`${positionals[0]} is not signed: create it with \`sentinel candidate create … --proposer-key-file <key> --network-id <id>\``);
    }
    const bundle = values.bundle !== undefined ? readJsonFile(values.bundle, "bundle file") : body.bundle;
    const proposer: Address | undefined = typeof body.proposer === "string" ? addressFlag(body.proposer, `${positionals[0]}'s "proposer"`) : undefined;

    const client = new SentinelClient({ url: node });
    const { candidateId, duplicate } = await client.submit({
      candidate: body.candidate,
      signature: body.signature as Hex,
      ...(bundle === undefined ? {} : { bundle }),
      ...(proposer === undefined ? {} : { proposer }),
    });
    if (!values.json) io.stdout(`candidate ${candidateId} ${duplicate ? "already known to" : "admitted by"} ${client.url}\n`);
    if (!values.wait) {
      if (values.json) io.stdout(`${JSON.stringify({ candidateId, duplicate })}\n`);
      return EXIT.OK;
    }
    const started = Date.now();
    const say = (step: Progress) => {
      if (!values.json) io.stdout(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${step.message}\n`);
    };
    const decision = await client.waitForDecision(candidateId, { timeoutMs: timeoutSeconds * 1000, onProgress: say });
    if (values.json) io.stdout(`${JSON.stringify({ candidateId, duplicate, decision })}\n`);
    else io.stdout(`${summary(decision)}\n`);
    return decision.outcome === "approve" && decision.recordedEverywhere ? EXIT.OK : EXIT.REFUSED;
  });
}

export function summary(decision: Decision): string {
  const chains = Object.keys(decision.chains).join(", ");
  const refused = Object.entries(decision.chains).filter(([, r]) => r.status === "failed");
  const verdict = decision.outcome === "approve" ? "APPROVED" : decision.outcome === "reject" ? "REJECTED" : "REVOKED";
  if (refused.length > 0) return `${verdict}, but refused on chain ${refused.map(([id, r]) => `${id} (${r.code ?? ""} ${r.error ?? ""})`).join(", ")}; digest ${decision.digest}`;
  const others = decision.notRelayed.length > 0 ? ` (not relayed by this node: chain ${decision.notRelayed.join(", ")})` : "";
  return `${verdict}: recorded on chain${Object.keys(decision.chains).length > 1 ? "s" : ""} ${chains}${others}; digest ${decision.digest}`;
}

function usage(io: CommandIo): number {
  io.stdout(SUBMIT_USAGE);
  return EXIT.OK;
}
