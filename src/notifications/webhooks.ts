// The node's webhooks from its config: each secret read (a file or an environment variable)
// at start-up, so a missing one stops the node naming the field, and the outbox and dispatcher
// built over them. The secret is kept in memory only, never logged.
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { NotificationsConfig, WebhookConfig } from "../config/schema.ts";
import { ConfigError } from "../config/errors.ts";
import type { Database } from "../db/database.ts";
import type { Clock } from "../util/clock.ts";
import { WebhookDispatcher, type DispatcherOptions } from "./dispatcher.ts";
import { WebhookOutbox } from "./outbox.ts";

/** Fewer bytes than this cannot be a secret worth the name (`openssl rand -hex 32` gives 64). */
export const MIN_SECRET_LENGTH = 16;
export const DEFAULT_OUTBOX_ENTRIES = 10_000;

export interface Webhooks {
  outbox: WebhookOutbox;
  dispatcher: WebhookDispatcher;
}

/** Each webhook's secret, in config order; throws ConfigError naming every webhook whose secret is missing. */
export function readWebhookSecrets(config: NotificationsConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const issues: { path: string; message: string }[] = [];
  const secrets = config.webhooks.map((webhook, index) => {
    const path = `notifications.webhooks[${index}]`;
    const found = readSecret(webhook, env);
    if (typeof found === "string") return found;
    issues.push({ path: `${path}.${webhook.secretFile !== undefined ? "secretFile" : "secretEnv"}`, message: found.problem });
    return "";
  });
  if (issues.length > 0) throw new ConfigError("INVALID_CONFIG", issues);
  return secrets;
}

function readSecret(webhook: WebhookConfig, env: NodeJS.ProcessEnv): string | { problem: string } {
  const fix = `put a random secret of at least ${MIN_SECRET_LENGTH} characters there, e.g. "openssl rand -hex 32", and give the receiver the same`;
  let text: string | undefined;
  if (webhook.secretFile !== undefined) {
    try {
      text = readFileSync(webhook.secretFile, "utf8").trim();
    } catch (error) {
      return { problem: `cannot read ${webhook.secretFile} (${(error as NodeJS.ErrnoException).code ?? "error"}); ${fix}` };
    }
  } else {
    text = env[webhook.secretEnv!]?.trim();
    if (text === undefined) return { problem: `environment variable ${webhook.secretEnv} is not set; ${fix}` };
  }
  if (text.length < MIN_SECRET_LENGTH) return { problem: `the secret is ${text.length} characters, fewer than ${MIN_SECRET_LENGTH}; ${fix}` };
  return text;
}

export function createWebhooks(
  config: NotificationsConfig,
  options: { nodeKey: string; nodeName: string; maxEntries?: number; dispatcher?: Partial<DispatcherOptions> },
  /** `secrets` from readWebhookSecrets, in config order (read before anything is opened). */
  modules: { db: Database; clock: Clock; logger: Logger; secrets: readonly string[] },
): Webhooks {
  const { secrets } = modules;
  let dispatcher: WebhookDispatcher | undefined;
  const outbox = new WebhookOutbox(
    { maxEntries: options.maxEntries ?? DEFAULT_OUTBOX_ENTRIES, nodeKey: options.nodeKey, nodeName: options.nodeName },
    {
      db: modules.db,
      logger: modules.logger,
      webhooks: config.webhooks.map((webhook) => ({
        name: webhook.name,
        events: webhook.events,
        ...(webhook.targets ? { targets: new Set(webhook.targets.map((target) => `${target.chainId}:${target.address.toLowerCase()}`)) } : {}),
      })),
      onQueued: (name) => dispatcher?.wake(name),
    },
  );
  dispatcher = new WebhookDispatcher(options.dispatcher ?? {}, {
    outbox,
    webhooks: config.webhooks.map((webhook, index) => ({ name: webhook.name, url: webhook.url, secret: secrets[index]! })),
    clock: modules.clock,
    logger: modules.logger,
  });
  return { outbox, dispatcher };
}
