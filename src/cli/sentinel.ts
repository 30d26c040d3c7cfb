#!/usr/bin/env node
// sentinel <command>: node start | keys generate|show | devnet
import { runDevnetCommand } from "./devnet.ts";
import { runKeysCommand } from "./keys.ts";
import { runNodeCommand } from "./node.ts";

const USAGE = `usage:
  sentinel node start --config <file>        run a node
  sentinel keys generate --network-id <id> --out <keystore.json> [--password-file <f> | --password-env <VAR>]
  sentinel keys show --keystore <file> --network-id <id> [--password-file <f> | --password-env <VAR>]
  sentinel devnet [--nodes <n>] [--exit]     a local network: 2 chains, n nodes, a demo upgrade of each kind
`;

const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
const [command, ...rest] = process.argv.slice(2);

let code: number;
switch (command) {
  case "node":
    code = await runNodeCommand(rest, io);
    break;
  case "keys":
    code = await runKeysCommand(rest, io);
    break;
  case "devnet":
    code = await runDevnetCommand(rest, io);
    break;
  default:
    io.stderr(USAGE);
    code = command === undefined || command === "--help" ? 0 : 2;
}
process.exitCode = code;
