// The `notifications` section: the operator's webhooks (docs/notifications.md). Secrets are
// only named here; src/notifications/webhooks.ts reads them at start-up.
import { EVENT_TYPES } from "../events/eventLog.ts";
import { EXAMPLE_ADDRESS, readChainId, readEnvName, readName, readRegistry } from "./fields.ts";
import { at, got, optional, readArray, readObject, readString, required, type Issues, type Reader } from "./readers.ts";
import { MAX_WEBHOOK_TARGETS, MAX_WEBHOOKS, type NotificationsConfig, type WebhookConfig } from "./schema.ts";
import type { Address } from "viem";

const NOTIFICATIONS_FIELDS = ["webhooks"] as const;
const WEBHOOK_FIELDS = ["name", "url", "secretFile", "secretEnv", "events", "targets"] as const;
const WEBHOOK_TARGET_FIELDS = ["chainId", "address"] as const;
const EXAMPLE_WEBHOOK = `{ "name": "ops", "url": "https://hooks.example.org/sentinel", "secretFile": "./keys/webhook.secret", "events": ["revocation.alert", "revocation.signed"] }`;

export function readNotifications(value: unknown, path: string, issues: Issues, readFile: Reader<string>): NotificationsConfig | undefined {
  const notifications = readObject(value, path, issues, NOTIFICATIONS_FIELDS);
  if (notifications === undefined) return undefined;
  const webhooks = optional(notifications, "webhooks", path, issues, (v, p, i) => readArray(v, p, i, (w, wp, wi) => readWebhook(w, wp, wi, readFile), { max: MAX_WEBHOOKS }), []);
  if (webhooks === undefined) return undefined;
  const names = webhooks.map((webhook) => webhook.name);
  const clash = names.findIndex((name, index) => names.indexOf(name) !== index);
  if (clash !== -1) return issues.add(`${at(path, "webhooks")}[${clash}].name`, `duplicate webhook name "${names[clash]}"; give each webhook its own name (it keys its outbox and metrics)`);
  return { webhooks };
}

function readWebhook(value: unknown, path: string, issues: Issues, readFile: Reader<string>): WebhookConfig | undefined {
  const webhook = readObject(value, path, issues, WEBHOOK_FIELDS);
  if (webhook === undefined) return undefined;
  const name = required(webhook, "name", path, issues, readName, `add "name": "ops" (names the webhook in logs and metrics, which never show its URL)`);
  const url = required(webhook, "url", path, issues, readWebhookUrl, `add "url": "https://hooks.example.org/sentinel"`);
  const secretFile = optional(webhook, "secretFile", path, issues, readFile, undefined);
  const secretEnv = optional(webhook, "secretEnv", path, issues, readEnvName, undefined);
  const events = required(webhook, "events", path, issues, readEventTypes, `add "events": ["revocation.alert", "revocation.signed"] (any of ${EVENT_TYPES.join(", ")})`);
  const targets = optional(webhook, "targets", path, issues, (v, p, i) => readArray(v, p, i, readWebhookTarget, { max: MAX_WEBHOOK_TARGETS }), undefined);
  if (webhook["secretFile"] !== undefined && webhook["secretEnv"] !== undefined) return issues.add(at(path, "secretEnv"), "give secretFile or secretEnv, not both; remove one of them");
  if (webhook["secretFile"] === undefined && webhook["secretEnv"] === undefined) {
    return issues.add(at(path, "secretFile"), `is required (or "secretEnv"); add "secretFile": "./keys/webhook.secret", a file holding the secret the receiver verifies signatures with (e.g. "openssl rand -hex 32 > keys/webhook.secret"), e.g. ${EXAMPLE_WEBHOOK}`);
  }
  if (name === undefined || url === undefined || events === undefined || (webhook["targets"] !== undefined && targets === undefined)) return undefined;
  if (secretFile === undefined && secretEnv === undefined) return undefined;
  return {
    name,
    url,
    ...(secretFile === undefined ? {} : { secretFile }),
    ...(secretEnv === undefined ? {} : { secretEnv }),
    events,
    ...(targets === undefined ? {} : { targets }),
  };
}

const readWebhookUrl: Reader<string> = (value, path, issues) => {
  // The value is not echoed: a webhook URL is often a bearer secret (Slack, Discord).
  if (typeof value !== "string") return issues.add(path, `must be an http(s) URL string, e.g. "https://hooks.example.org/sentinel"; ${got(value, { hideValue: true })}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return issues.add(path, `is not a valid URL; write it in full, e.g. "https://hooks.example.org/sentinel"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return issues.add(path, `must use http:// or https://, not ${url.protocol}//, e.g. "https://hooks.example.org/sentinel"`);
  if (url.username !== "" || url.password !== "") return issues.add(path, "must not carry user:password@; the receiver authenticates the node by the signature (secretFile)");
  return value;
};

const readEventTypes: Reader<string[]> = (value, path, issues) => {
  const types = readArray(value, path, issues, (v, p, i) => {
    const text = readString(v, p, i);
    if (text === undefined) return undefined;
    if (!(EVENT_TYPES as readonly string[]).includes(text)) return i.add(p, `is not an event type; use one of ${EVENT_TYPES.join(", ")}; ${got(v)}`);
    return text;
  }, { max: EVENT_TYPES.length });
  if (types === undefined) return undefined;
  if (types.length === 0) return issues.add(path, `must list at least one event type, e.g. ["revocation.alert"]`);
  return [...new Set(types)];
};

const readWebhookTarget: Reader<{ chainId: number; address: Address }> = (value, path, issues) => {
  const target = readObject(value, path, issues, WEBHOOK_TARGET_FIELDS);
  if (target === undefined) return undefined;
  const chainId = required(target, "chainId", path, issues, readChainId, `add "chainId": 1 (the chain the contract is on)`);
  const address = required(target, "address", path, issues, readRegistry, `add "address": "${EXAMPLE_ADDRESS}" (the proxy whose events to deliver)`);
  return chainId === undefined || address === undefined ? undefined : { chainId, address };
};
