// `sentinel attestation <candidateId> --node <url>`: the 554-byte attestation a node holds, to
// relay or verify anywhere.
import { writeFileSync } from "node:fs";
import { SentinelClient } from "../client/index.ts";
import { UsageError } from "./errors.ts";
import { EXIT, EXIT_CODES_HELP, candidateIdArgument, callerPath, parseCommand, requireFlag, runCommand } from "./common.ts";
import type { CommandIo } from "./keys.ts";

export const ATTESTATION_USAGE = `Usage:
  sentinel attestation <candidateId | candidate.json> --node <url> [--json | --out <file>]

Prints the attestation's bytes (554, or 586 when bound to an operation) as hex (what registry.verifyAttestation and
\`sentinel verify-attestation\` take).

Options:
  --node <url>    the node's API
  --json          print the whole record: { candidateId, digest, encoded, setIndex, signers, outcome, chainId, target, codehash, relay }
  --out <file>    write the whole record as JSON to <file> (verify-attestation reads it)

${EXIT_CODES_HELP}
1 here: the node holds no attestation for the candidate (yet).
`;

export async function runAttestationCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand("attestation", ATTESTATION_USAGE, io, async () => {
    const { values, positionals, help } = parseCommand(argv, { node: { type: "string" }, json: { type: "boolean" }, out: { type: "string" } }, { min: 1, max: 1 });
    if (help) {
      io.stdout(ATTESTATION_USAGE);
      return EXIT.OK;
    }
    if (values.json && values.out !== undefined) throw new UsageError("give --json or --out, not both");
    const client = new SentinelClient({ url: requireFlag(values.node, "--node", "the API of a node of the network") });
    const record = await client.attestation(candidateIdArgument(positionals[0]!));
    if (!record) {
      io.stderr(`sentinel attestation: ${client.url} holds no attestation for ${positionals[0]} yet; \`sentinel status\` shows where it stands\n`);
      return EXIT.REFUSED;
    }
    if (values.out !== undefined) {
      writeFileSync(callerPath(values.out), `${JSON.stringify(record, null, 2)}\n`);
      io.stdout(`attestation of ${record.candidateId} written to ${values.out}\n`);
    } else {
      io.stdout(values.json ? `${JSON.stringify(record)}\n` : `${record.encoded}\n`);
    }
    return EXIT.OK;
  });
}
