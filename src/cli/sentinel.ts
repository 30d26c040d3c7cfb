#!/usr/bin/env node
// sentinel <command>: every command of the CLI, each in its own file, imported when it runs
// (`sentinel status` need not load libp2p). `--help` anywhere prints that command's usage to stdout.
import type { CommandIo } from "./keys.ts";

type Runner = (argv: string[], io: CommandIo) => Promise<number>;

interface Command {
  run: () => Promise<Runner>;
  usage: () => Promise<string>;
}

const COMMANDS: Record<string, Command> = {
  node: {
    run: async () => (await import("./node.ts")).runNodeCommand,
    usage: async () => (rest[0] === "signing-record" ? (await import("./signingRecord.ts")).SIGNING_RECORD_USAGE : (await import("./node.ts")).NODE_USAGE),
  },
  keys: { run: async () => (argv, io) => import("./keys.ts").then((m) => m.runKeysCommand(argv, io)), usage: async () => (await import("./keys.ts")).KEYS_USAGE },
  check: { run: async () => (await import("./check.ts")).runCheckCommand, usage: async () => (await import("./check.ts")).CHECK_USAGE },
  bundle: { run: async () => (argv, io) => import("./bundle.ts").then((m) => m.runBundleCommand(["bundle", ...argv], io)), usage: async () => (await import("./bundle.ts")).BUNDLE_USAGE },
  candidate: { run: async () => (await import("./candidate.ts")).runCandidateCommand, usage: async () => (await import("./candidate.ts")).CANDIDATE_USAGE },
  policy: {
    run: async () => async (argv, io) => {
      if (argv[0] === "validate") return (await import("./policy.ts")).runPolicyValidateCommand(argv.slice(1), io);
      return (await import("./bundle.ts")).runBundleCommand(["policy", ...argv], io);
    },
    usage: async () => (await import("./policy.ts")).POLICY_USAGE,
  },
  registry: { run: async () => (await import("./registry.ts")).runRegistryCommand, usage: async () => (await import("./registry.ts")).REGISTRY_USAGE },
  enroll: { run: async () => (await import("./enroll.ts")).runEnrollCommand, usage: async () => (await import("./enroll.ts")).ENROLL_USAGE },
  submit: { run: async () => (await import("./submit.ts")).runSubmitCommand, usage: async () => (await import("./submit.ts")).SUBMIT_USAGE },
  approve: { run: async () => (await import("./approve.ts")).runApproveCommand, usage: async () => (await import("./approve.ts")).APPROVE_USAGE },
  status: { run: async () => (await import("./status.ts")).runStatusCommand, usage: async () => (await import("./status.ts")).STATUS_USAGE },
  attestation: { run: async () => (await import("./attestation.ts")).runAttestationCommand, usage: async () => (await import("./attestation.ts")).ATTESTATION_USAGE },
  "verify-attestation": {
    run: async () => (await import("./verifyAttestation.ts")).runVerifyAttestationCommand,
    usage: async () => (await import("./verifyAttestation.ts")).VERIFY_ATTESTATION_USAGE,
  },
  upgrade: { run: async () => (await import("./upgrade.ts")).runUpgradeCommand, usage: async () => (await import("./upgrade.ts")).UPGRADE_USAGE },
  validator: { run: async () => (await import("./validator.ts")).runValidatorCommand, usage: async () => (await import("./validator.ts")).VALIDATOR_USAGE },
  devnet: { run: async () => (await import("./devnet.ts")).runDevnetCommand, usage: async () => (await import("./devnet.ts")).DEVNET_USAGE },
};

const USAGE = `Usage: sentinel <command> [options]      (\`sentinel <command> --help\` for its options)

A protocol team:
  sentinel registry deploy --rpc <url> --key-file <f> --network-id <id> --validators <file>   a registry on your own chain
  sentinel enroll --rpc <url> --registry <addr> --key-file <authority key> --target <proxy> --proposer <addr>[,…] [--policy <f>]
  sentinel policy validate <policy.json>     every problem of a policy; \`policy hash\` prints what to enroll
  sentinel bundle create --build-info <file> --contract <src:Name> --reference <src:Name> --out bundle.json
  sentinel candidate create --bundle <f> --rpc <url> --target <proxy> --implementation <addr> [--proposer-key-file <f> --network-id <id>]
  sentinel check <candidate.json> --rpc <url> --registry <addr> --network-id <id>   the nodes' checks, locally (a CI dry run)
  sentinel submit <candidate.json> --node <url> [--wait]   submit, and wait until recorded on every chain
  sentinel status <candidateId> --node <url>
  sentinel approve <candidateId> --node <url> --network-id <id> (--key-file <f> | --safe <addr> …)   a policy approver's approval
  sentinel attestation <candidateId> --node <url> [--json | --out <file>]
  sentinel upgrade --rpc <url> --proxy <addr> --implementation <addr> --key-file <owner key>   the guarded upgrade
A relayer or a bridge:
  sentinel verify-attestation <file | hex> --rpc <url> --registry <addr> [--on-chain]
An operator:
  sentinel keys generate|show|list|import …  a validator's BLS key and its proof of possession
  sentinel node start --config <file>        run a node
  sentinel node signing-record export|import --config <file> …   move a validator without double-signing
  sentinel validator propose --config <file> (--add <key.json> | --remove <index>) --nodes <urls> --key-file <f>   rotate the set
  sentinel devnet [--nodes <n>] [--exit]     a local network: 2 chains, n nodes, demo upgrades, a "try it" section

Paths are relative to the directory you run the command from (also through \`npm run sentinel --\`).
Exit codes: 0 approved / success, 1 refused / invalid, 2 usage or unreadable input, 3 timed out or unavailable.
`;

const io: CommandIo = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };
const [name, ...rest] = process.argv.slice(2);

async function main(): Promise<number> {
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout)(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr(`sentinel: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  // Before the command parses anything: `--help` works with any other argument, right or wrong.
  const end = rest.indexOf("--");
  const flags = end === -1 ? rest : rest.slice(0, end);
  if (flags.includes("--help") || flags.includes("-h") || (rest.length === 1 && rest[0] === "help")) {
    io.stdout(await command.usage());
    return 0;
  }
  return (await command.run())(rest, io);
}

process.exitCode = await main();
