// Errors of the node config file: every problem found, each with the field path and the fix,
// in one error, so an operator fixes the file in one pass instead of one field per restart.
import { SentinelError } from "../errors.ts";

export interface ConfigIssue {
  /** The field, as written in the file: `chains[1].registry`; "" for the document itself. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
}

export type ConfigErrorCode =
  /** The file could not be read. */
  | "READ_FAILED"
  /** The file is not JSON. */
  | "INVALID_JSON"
  /** The JSON does not describe a valid config; see `issues`. */
  | "INVALID_CONFIG";

export interface ConfigErrorMeta {
  /** Every problem found (INVALID_CONFIG), or one describing the read/parse failure. */
  issues: readonly ConfigIssue[];
  /** The config file, when the config came from one. */
  file: string | undefined;
}

export class ConfigError extends SentinelError<ConfigErrorCode, ConfigErrorMeta> {
  override name = "ConfigError";

  constructor(
    code: ConfigErrorCode,
    issues: readonly ConfigIssue[],
    options: { file?: string | undefined; cause?: unknown } = {},
  ) {
    super(code, formatMessage(code, issues, options.file), { issues, file: options.file }, { cause: options.cause });
  }

  get issues(): readonly ConfigIssue[] {
    return this.meta.issues;
  }

  get file(): string | undefined {
    return this.meta.file;
  }
}

function formatMessage(code: ConfigErrorCode, issues: readonly ConfigIssue[], file: string | undefined): string {
  const where = file === undefined ? "config" : `config file ${file}`;
  if (code !== "INVALID_CONFIG") return `${where}: ${issues.map((issue) => issue.message).join("; ")}`;
  const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
  const lines = issues.map((issue) => `  - ${issue.path === "" ? "(top level)" : issue.path}: ${issue.message}`);
  return [`${where} has ${count}:`, ...lines].join("\n");
}
