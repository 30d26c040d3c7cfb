// One HTTP POST of a delivery: no redirect followed (node's http never follows one; a 3xx is a
// failed attempt), the response body discarded, the whole exchange bounded by a timeout.
// Errors carry a code, never the URL or the address dialled.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { SentinelError } from "../errors.ts";

export class WebhookPostError extends SentinelError<"WEBHOOK_UNREACHABLE" | "WEBHOOK_TIMEOUT", { reason: string }> {
  override name = "WebhookPostError";
}

export type Post = (url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal?: AbortSignal) => Promise<number>;

/** Resolves the response's status; rejects with WebhookPostError when there is none in time. */
export const postWebhook: Post = (url, headers, body, timeoutMs, signal) =>
  new Promise<number>((resolve, reject) => {
    const parsed = new URL(url);
    const request = (parsed.protocol === "https:" ? httpsRequest : httpRequest)(parsed, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body).toString(), "user-agent": "sentinel-webhook/1" },
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
    });
    request.once("response", (response) => {
      response.resume();
      response.once("error", () => undefined);
      resolve(response.statusCode ?? 0);
    });
    request.once("error", (error: NodeJS.ErrnoException) => {
      const timedOut = error.name === "AbortError" || error.name === "TimeoutError";
      reject(new WebhookPostError(timedOut ? "WEBHOOK_TIMEOUT" : "WEBHOOK_UNREACHABLE", timedOut ? `no answer within ${timeoutMs} ms` : `request failed (${error.code ?? error.name})`, { reason: error.code ?? error.name }));
    });
    request.end(body);
  });
