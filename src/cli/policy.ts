// `sentinel policy validate <policy.json>`: every problem of a policy document at once, each with
// its field and fix; `sentinel policy hash` (bundle.ts) prints the hash to enroll.
import { policyHash, policyProblems, parsePolicy } from "../codec/policy.ts";
import { EXIT, EXIT_CODES_HELP, parseCommand, readJsonFile, runCommand } from "./common.ts";
import type { CommandIo } from "./keys.ts";

export const POLICY_USAGE = `Usage:
  sentinel policy validate <policy.json>   every problem of the policy, each with its field; its hash when valid
  sentinel policy hash <policy.json>       validate and print { policyHash, policy } (what \`sentinel enroll --policy\` enrolls)

${EXIT_CODES_HELP}
validate: 0 valid, 1 invalid (every problem listed on stderr), 2 unreadable file.
`;

export async function runPolicyValidateCommand(argv: string[], io: CommandIo): Promise<number> {
  return runCommand("policy validate", POLICY_USAGE, io, async () => {
    const { positionals, help } = parseCommand(argv, {}, { min: 1, max: 1 });
    if (help) {
      io.stdout(POLICY_USAGE);
      return EXIT.OK;
    }
    const document = readJsonFile(positionals[0]!, "policy file");
    const problems = policyProblems(document);
    if (problems.length > 0) {
      io.stderr(`${positionals[0]}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n${problems.map((p) => `  ${p.field}: ${p.message}\n`).join("")}`);
      return EXIT.REFUSED;
    }
    const policy = parsePolicy(document);
    io.stdout(`${positionals[0]}: valid; policyHash ${policyHash(policy)}\n`);
    return EXIT.OK;
  });
}
