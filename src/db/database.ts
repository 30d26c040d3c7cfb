// The node's level database: one sublevel per record kind, JSON values (bigints as decimal
// strings). LevelDB holds a LOCK file while open, so a second process on the same data
// directory fails to open it: that is how a node refuses to share its signing record.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Level } from "level";
import { SentinelError } from "../errors.ts";
import type { Json } from "../util/json.ts";

export class DataDirLockedError extends SentinelError<"DATA_DIR_LOCKED", { dataDir: string }> {
  override name = "DataDirLockedError";
  constructor(dataDir: string, cause: unknown) {
    super(
      "DATA_DIR_LOCKED",
      `data directory ${dataDir} is in use by another process (its database is locked). ` +
        "Stop the other node, or give this one its own dataDir.",
      { dataDir },
      { cause },
    );
  }
}

/** Record kinds, each its own sublevel. */
export const SUBLEVELS = ["candidates", "signed", "verdicts", "evidence", "attestations", "relay", "relayPending", "events", "webhooks", "bundles", "meta", "approvals"] as const;
export type SublevelName = (typeof SUBLEVELS)[number];

export interface Sublevel<V> {
  get(key: string): Promise<V | undefined>;
  /** Not fsync'd: durable writes go through Database.batch with sync. */
  put(key: string, value: V): Promise<void>;
  del(key: string): Promise<void>;
  entries(options?: { limit?: number; gte?: string; lt?: string }): AsyncIterable<[string, V]>;
}

export type BatchOperation =
  | { sublevel: SublevelName; key: string; value: Json }
  | { sublevel: SublevelName; key: string; del: true };

export class Database {
  private readonly level: Level<string, string>;
  readonly path: string;

  private constructor(level: Level<string, string>, path: string) {
    this.level = level;
    this.path = path;
  }

  static async open(dataDir: string): Promise<Database> {
    mkdirSync(dataDir, { recursive: true });
    const path = join(dataDir, "db");
    const level = new Level<string, string>(path, { valueEncoding: "utf8" });
    try {
      await level.open();
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause;
      if (/lock/i.test(`${cause?.message ?? ""} ${(error as Error).message}`)) throw new DataDirLockedError(dataDir, error);
      throw error;
    }
    return new Database(level, path);
  }

  sublevel<V extends Json>(name: SublevelName): Sublevel<V> {
    const sub = this.level.sublevel<string, string>(name, { valueEncoding: "utf8" });
    return {
      async get(key) {
        const raw = await sub.get(key);
        return raw === undefined ? undefined : (JSON.parse(raw) as V);
      },
      put: (key, value) => sub.put(key, JSON.stringify(value)),
      del: (key) => sub.del(key),
      async *entries(options = {}) {
        const range: { limit?: number; gte?: string; lt?: string } = {};
        if (options.limit !== undefined) range.limit = options.limit;
        if (options.gte !== undefined) range.gte = options.gte;
        if (options.lt !== undefined) range.lt = options.lt;
        for await (const [key, raw] of sub.iterator(range)) yield [key, JSON.parse(raw) as V];
      },
    };
  }

  /** Writes and deletes several records atomically; `sync` fsyncs before resolving. */
  async batch(operations: BatchOperation[], options: { sync: boolean }): Promise<void> {
    await this.level.batch(
      operations.map((op) => {
        const sublevel = this.level.sublevel<string, string>(op.sublevel, { valueEncoding: "utf8" });
        return "del" in op
          ? { type: "del" as const, sublevel, key: op.key }
          : { type: "put" as const, sublevel, key: op.key, value: JSON.stringify(op.value) };
      }),
      { sync: options.sync },
    );
  }

  close(): Promise<void> {
    return this.level.close();
  }
}
