// The node's logger: pino, JSON lines for machines, pino-pretty for a person at a terminal.
// JSON unless stdout is a TTY; SENTINEL_LOG_FORMAT=json|pretty decides instead when set (a
// container's log collector wants JSON even under `docker run -t`).
//
// RPC URLs may carry API keys (https://mainnet.example/v3/<key>), and viem puts the URL in every
// error's message, details and stack. No logged error, and no `error` / `reason` field, may carry
// one: the `err` serializer and the log formatter replace every URL with <url>.
import { pino, stdSerializers, type Logger, type LoggerOptions } from "pino";
import pretty from "pino-pretty";

export type LogFormat = "json" | "pretty";

export const LOG_FORMAT_ENV = "SENTINEL_LOG_FORMAT";

export interface LoggerConfig {
  /** The node's name (config `name`): every line carries it. */
  name: string;
  level: string;
}

export interface LoggerModules {
  /** Where lines go; stdout by default. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

/** json or pretty: the env override when set, else pretty exactly when the destination is a TTY. */
export function logFormat(env: NodeJS.ProcessEnv, isTTY: boolean | undefined): LogFormat {
  const asked = env[LOG_FORMAT_ENV]?.trim().toLowerCase();
  if (asked === "json" || asked === "pretty") return asked;
  return isTTY === true ? "pretty" : "json";
}

export function createLogger(config: LoggerConfig, modules: LoggerModules = {}): Logger {
  const destination = modules.destination ?? process.stdout;
  const format = logFormat(modules.env ?? process.env, destination.isTTY);
  const options: LoggerOptions = {
    level: config.level,
    base: { node: config.name },
    serializers: { err: safeErrorSerializer },
    formatters: { log: scrubFields },
  };
  if (format === "json") return pino(options, destination);
  // In-process and synchronous: no worker thread, and nothing lost when the process exits.
  return pino(options, pretty({ destination, sync: true, colorize: destination.isTTY === true, ignore: "pid,hostname,node", messageFormat: "{node}: {msg}", translateTime: "SYS:HH:MM:ss.l" }));
}

/**
 * A URL up to the first space, quote or bracket; a trailing comma, period or colon is the
 * sentence's. file:// URLs are the stack's own source files, kept.
 */
const URL_PATTERN = /\b(?!file:)[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>()]*[^\s"'`<>(),.:;]/gi;

/** `text` with every URL replaced by <url>. */
export function scrubUrls(text: string): string {
  return text.replace(URL_PATTERN, "<url>");
}

/** Fields that carry an error's text in this code base's log calls. */
const ERROR_TEXT_FIELDS = ["error", "reason"];

/**
 * The error text fields without URLs, and an error logged under any other key than `err` (pino
 * serialises only that one; viem's errors carry `url`, `details` and `metaMessages` as
 * enumerable fields) serialised as `err` is.
 */
function scrubFields(object: Record<string, unknown>): Record<string, unknown> {
  let out = object;
  for (const [field, value] of Object.entries(object)) {
    if (typeof value === "string" && ERROR_TEXT_FIELDS.includes(field)) out = { ...out, [field]: scrubUrls(value) };
    else if (value instanceof Error && field !== "err") out = { ...out, [field]: safeErrorSerializer(value) };
  }
  return out;
}

/** pino's error serializer, then every string of the result (message, stack, viem's details, causes) without URLs. */
export function safeErrorSerializer(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized = stdSerializers.err(error) as unknown as Record<string, unknown>;
  const scrub = (value: unknown, depth: number): unknown => {
    if (typeof value === "string") return scrubUrls(value);
    if (depth > 4 || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // viem's request details (url, body, headers) say nothing an operator needs.
      if (key === "url" || key === "headers" || key === "body") continue;
      out[key] = scrub(item, depth + 1);
    }
    return out;
  };
  return scrub(serialized, 0);
}

/**
 * A short reason for a failed RPC call, for a log line: viem's short message and the network
 * error code under it (ECONNREFUSED, a timeout), never the URL or the request.
 */
export function rpcFailureReason(error: unknown): string {
  let code: string | undefined;
  let short: string | undefined;
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    const withFields = cause as Error & { shortMessage?: string; code?: unknown };
    short ??= withFields.shortMessage ?? cause.message.split("\n")[0];
    if (typeof withFields.code === "string") code = withFields.code;
  }
  if (short === undefined) return scrubUrls(String(error)).slice(0, 200);
  return scrubUrls(code === undefined ? short : `${short} (${code})`).slice(0, 200);
}
