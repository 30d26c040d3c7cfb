#!/usr/bin/env node
// sentinel <command>: node start | keys generate|show | check | bundle | devnet
// Each command is imported when it runs: `sentinel check` need not load libp2p.

const USAGE = `usage:
  sentinel node start --config <file>        run a node
  sentinel keys generate --network-id <id> --out <keystore.json> [--password-file <f> | --password-env <VAR>]
  sentinel keys show --keystore <file> --network-id <id> [--password-file <f> | --password-env <VAR>]
  sentinel check <candidate.json> --rpc <url> [--json]   run every verification check locally (a dry run)
  sentinel bundle create --build-info <file> --contract <src:Name> --reference <src:Name> [...]
                                             build a source bundle from a compiler build-info file
  sentinel candidate create --bundle <f> --rpc <url> --target <proxy> --implementation <addr> [--proposer-key-file <f> --network-id <id>]
                                             the candidate file to submit (and to check), signed
  sentinel policy hash <policy.json>         validate a policy and print its hash (what to enroll)
  sentinel devnet [--nodes <n>] [--exit]     a local network: 2 chains, n nodes, a demo upgrade of each kind
`;

const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
const [command, ...rest] = process.argv.slice(2);

let code: number;
switch (command) {
  case "node":
    code = await (await import("./node.ts")).runNodeCommand(rest, io);
    break;
  case "keys":
    code = await (await import("./keys.ts")).runKeysCommand(rest, io);
    break;
  case "check":
    code = await (await import("./check.ts")).runCheckCommand(rest, io);
    break;
  case "candidate":
    code = await (await import("./candidate.ts")).runCandidateCommand(rest, io);
    break;
  case "bundle":
  case "policy":
    code = await (await import("./bundle.ts")).runBundleCommand([command, ...rest], io);
    break;
  case "devnet":
    code = await (await import("./devnet.ts")).runDevnetCommand(rest, io);
    break;
  default:
    io.stderr(USAGE);
    code = command === undefined || command === "--help" ? 0 : 2;
}
process.exitCode = code;
