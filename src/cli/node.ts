// `sentinel node start --config <file>`: load and check the config (a bad one stops here with
// every field and its fix), start the node, stop it cleanly on SIGINT / SIGTERM.
import { parseArgs } from "node:util";
import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import { DataDirLockedError } from "../db/database.ts";
import { KeystoreError } from "../crypto/keystore.ts";
import { createLogger } from "../log/logger.ts";
import { RelayerKeyError } from "../crypto/secp256k1.ts";
import { SentinelNode } from "../node/node.ts";
import type { CommandIo } from "./keys.ts";
import { callerPath } from "./common.ts";

export const NODE_USAGE = `Usage:
  sentinel node start --config <file>
  sentinel node signing-record export|import …   (\`sentinel node signing-record --help\`)

Runs a node: checks the whole config (every bad field with its fix), starts every part, and stops\ncleanly on SIGINT or SIGTERM. When a validator-set rotation activates on chain, it restarts itself\nwith the new set. See docs/node.md and config/README.md.

Exit codes: 0 stopped cleanly, 1 the config or a key is wrong (the reason is printed), 2 usage.
`;

export async function runNodeCommand(argv: string[], io: CommandIo): Promise<number> {
  if (argv[0] === "signing-record") return (await import("./signingRecord.ts")).runSigningRecordCommand(argv.slice(1), io);
  let config;
  try {
    const { positionals, values } = parseArgs({ args: argv, options: { config: { type: "string" } }, allowPositionals: true });
    if (positionals[0] !== "start" || !values.config) {
      io.stderr(`usage: sentinel node start --config <file>\n\n${NODE_USAGE}`);
      return 2;
    }
    config = loadConfig(callerPath(values.config));
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`${error.message}\n`);
      return 1;
    }
    io.stderr(`${(error as Error).message}\n`);
    return 2;
  }
  // JSON lines, or pretty on a terminal (SENTINEL_LOG_FORMAT=json|pretty decides instead).
  const logger = createLogger({ name: config.name, level: config.logLevel });
  let signalled = false;
  let wake: () => void = () => {};
  const onSignal = () => {
    signalled = true;
    wake();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // A rotation activated on chain: the node restarts with the new set (its index, the inboxes,
  // the threshold are read at start). Pending candidates and relays resume from the database.
  for (let restart = false; ; restart = true) {
    let rotated = false;
    const stopped = new Promise<void>((resolve) => {
      wake = resolve;
    });
    let node: SentinelNode;
    try {
      node = await SentinelNode.start(config, {
        logger,
        onValidatorSetChanged: () => {
          rotated = true;
          wake();
        },
      });
    } catch (error) {
      if (error instanceof DataDirLockedError || error instanceof KeystoreError || error instanceof RelayerKeyError) {
        io.stderr(`cannot start: ${error.message}\n`);
        return 1;
      }
      if (restart && !signalled) {
        // The chain that just rotated may not answer this second; the old node is already
        // stopped, so keep trying rather than leave the operator with no node at all.
        logger.error({ err: error }, "cannot restart with the new validator set yet; trying again in 5 s");
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 5_000);
        });
        if (signalled) return 0;
        continue;
      }
      logger.fatal({ err: error }, "cannot start");
      return 1;
    }
    if (signalled) wake();
    await stopped;
    await node.stop();
    if (signalled || !rotated) return 0;
    logger.info("restarting with the new validator set");
  }
}
