// The webhook signature: `Sentinel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
// The timestamp is inside the MAC so a receiver can refuse an old delivery replayed by whoever
// saw it in transit; each attempt is signed afresh, so a retry hours later still passes a
// receiver's five-minute window. docs/notifications.md gives receivers the same check.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "sentinel-signature";
export const EVENT_ID_HEADER = "sentinel-event-id";
/** What receivers should accept by default: a delivery signed within five minutes of their clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signatureHeader(secret: string, unixSeconds: number, body: string): string {
  return `t=${unixSeconds},v1=${hmac(secret, unixSeconds, body)}`;
}

/** The receiver's check: the MAC over this timestamp and body, compared in constant time, and the timestamp within `toleranceSeconds` of `nowSeconds`. */
export function verifySignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): boolean {
  const fields = new Map(header.split(",").map((part) => [part.slice(0, part.indexOf("=")), part.slice(part.indexOf("=") + 1)] as const));
  const t = fields.get("t");
  const v1 = fields.get("v1");
  if (t === undefined || v1 === undefined || !/^[0-9]{1,12}$/.test(t) || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(nowSeconds - Number(t)) > toleranceSeconds) return false;
  return timingSafeEqual(Buffer.from(v1, "hex"), Buffer.from(hmac(secret, Number(t), body), "hex"));
}

function hmac(secret: string, unixSeconds: number, body: string): string {
  return createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
}
