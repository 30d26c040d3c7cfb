// `sentinel node signing-record export|import`: carry a validator's signing record to another
// machine with its key, so the new machine refuses every verdict the old one would have refused.
// Both open the node's database, which a running node holds locked: the record can only move
// while no process signs with it.
import { existsSync, readFileSync } from "node:fs";
import type { Hex } from "viem";
import { loadConfig } from "../config/load.ts";
import { entriesForKey, toInterchange, SigningInterchangeError } from "../consensus/signingInterchange.ts";
import { SigningRecord } from "../consensus/signingRecord.ts";
import { parseKeystore } from "../crypto/keystore.ts";
import { DataDirLockedError, Database } from "../db/database.ts";
import { writeFileAtomicSync } from "../util/atomicFile.ts";
import { EXIT, EXIT_CODES_HELP, callerPath, parseCommand, requireFlag, runCommand, type CommandIo } from "./common.ts";
import { UsageError } from "./errors.ts";

export const SIGNING_RECORD_USAGE = `Usage:
  sentinel node signing-record export --config <node config> --out <record.json>
  sentinel node signing-record import --config <node config> --file <record.json>

Moves a validator to another machine without ever signing two verdicts for one candidate. Stop
the old node, export its record, copy the keystore and the record, import the record on the new
machine (into a stopped node), start it, and never start the old one again.

export  writes every (candidate, digest) this node's key signed and every rotation it voted for
        (set index, digest), with the network id and the key (never overwrites a file)
import  merges a record into this node's: entries for another network or only for other keys are
        refused, and a record that names a different digest for a candidate (or set index) this
        node already signed is refused whole (each conflict on stderr, nothing written)

The node must be stopped: its database is locked while it runs (exit 1).
${EXIT_CODES_HELP}
`;

export async function runSigningRecordCommand(argv: string[], io: CommandIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  return runCommand("node signing-record", SIGNING_RECORD_USAGE, io, async () => {
    if (subcommand !== "export" && subcommand !== "import") {
      throw new UsageError(subcommand === undefined ? "missing subcommand: export or import" : `unknown subcommand "${subcommand}"`);
    }
    const { values, help } = parseCommand(rest, { config: { type: "string" }, out: { type: "string" }, file: { type: "string" } });
    if (help) {
      io.stdout(SIGNING_RECORD_USAGE);
      return EXIT.OK;
    }
    const config = loadConfig(callerPath(requireFlag(values.config, "--config", "the node whose record it is")));
    // The keystore's pubkey field names the key without its password; the node checks it
    // against the decrypted key at every start.
    const pubkey = `0x${parseKeystore(readFileSync(config.validator.keystore, "utf8"), `keystore ${config.validator.keystore}`).pubkey.toLowerCase()}` as Hex;
    const out = subcommand === "export" ? callerPath(requireFlag(values.out, "--out", "where to write the record")) : undefined;
    const file = subcommand === "import" ? callerPath(requireFlag(values.file, "--file", "the record to import")) : undefined;
    if (out !== undefined && existsSync(out)) throw new UsageError(`refusing to overwrite existing file ${out}`);
    let document: unknown;
    if (file !== undefined) {
      try {
        document = JSON.parse(readFileSync(file, "utf8"));
      } catch (error) {
        throw new UsageError(`cannot read the record ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }

    let db: Database;
    try {
      db = await Database.open(config.dataDir);
    } catch (error) {
      if (error instanceof DataDirLockedError) throw new Error(`${error.message} A signing record moves only while its node is stopped.`);
      throw error;
    }
    try {
      const record = new SigningRecord(db);
      if (out !== undefined) {
        const entries = { verdicts: await record.entries(), rotations: await record.rotationEntries() };
        writeFileAtomicSync(out, `${JSON.stringify(toInterchange(config.networkId, pubkey, entries), null, 2)}\n`, { mode: 0o600, replace: false });
        io.stdout(`${JSON.stringify({ exported: entries.verdicts.length, rotations: entries.rotations.length, pubkey, file: out })}\n`);
        return EXIT.OK;
      }
      const { verdicts, rotations } = entriesForKey(document, config.networkId, pubkey);
      const conflicts = await record.conflicts(verdicts, rotations);
      if (conflicts.length > 0) {
        for (const c of conflicts) {
          const what = c.candidateId.startsWith("rotation:") ? `rotation to set ${Number(c.candidateId.slice(9))}` : `candidate ${c.candidateId}`;
          io.stderr(`conflict: ${what}: this node signed ${c.localDigest}, the record ${c.importedDigest}\n`);
        }
        throw new SigningInterchangeError(
          "CONFLICT",
          `refused: ${conflicts.length} candidate(s) signed with a different digest here; this key has signed both, nothing imported`,
          { conflicts },
        );
      }
      const { added, known } = await record.merge(verdicts, rotations);
      io.stdout(`${JSON.stringify({ imported: added, alreadyRecorded: known, pubkey, file })}\n`);
      return EXIT.OK;
    } finally {
      await db.close();
    }
  });
}
