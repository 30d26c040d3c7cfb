// The webhook signature, checked with the snippet docs/notifications.md gives receivers (run as
// written): what the node signs verifies; the wrong secret, a tampered body, another timestamp,
// an old timestamp (a replay), and malformed or truncated headers do not.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { signatureHeader, verifySignature } from "../../src/notifications/signature.ts";

type Verify = (secret: string, header: string, rawBody: string, nowSeconds?: number, toleranceSeconds?: number) => boolean;

/** The js block after the verify-snippet marker of docs/notifications.md. */
function documentedSnippet(): string {
  const doc = readFileSync(resolve(import.meta.dirname, "../../docs/notifications.md"), "utf8");
  const marker = doc.indexOf("<!-- verify-snippet:");
  assert.ok(marker >= 0, "docs/notifications.md lost its verify-snippet marker");
  const block = /```js\n([\s\S]*?)```/.exec(doc.slice(marker));
  assert.ok(block, "no js block after the marker");
  return block[1]!;
}

describe("webhook signature", () => {
  const secret = "5f0c1d2e3a4b5c6d7e8f9a0b1c2d3e4f";
  const body = JSON.stringify({ id: "evt_1", type: "revocation.alert", data: { target: "0xabc", value: "ünïcode" } });
  const t = 1_764_906_000;
  let dir: string;
  let verifyDocumented: Verify;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sentinel-snippet-"));
    const file = join(dir, "verify.mjs");
    writeFileSync(file, documentedSnippet());
    verifyDocumented = ((await import(pathToFileURL(file).href)) as { verifySentinelSignature: Verify }).verifySentinelSignature;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("verifies with the documented snippet and with the node's own check", () => {
    const header = signatureHeader(secret, t, body);
    assert.match(header, /^t=1764906000,v1=[0-9a-f]{64}$/);
    assert.equal(verifyDocumented(secret, header, body, t + 10), true);
    assert.equal(verifySignature(secret, header, body, t + 10), true);
  });

  const refusals: [string, () => [string, string, string, number]][] = [
    ["the wrong secret", () => ["another-secret-of-enough-length", signatureHeader(secret, t, body), body, t]],
    ["a tampered body", () => [secret, signatureHeader(secret, t, body), body.replace("0xabc", "0xabd"), t]],
    ["a body with a byte appended", () => [secret, signatureHeader(secret, t, body), `${body} `, t]],
    ["another timestamp in the header", () => [secret, signatureHeader(secret, t, body).replace(`t=${t}`, `t=${t + 1}`), body, t]],
    ["an old timestamp (a replay after the window)", () => [secret, signatureHeader(secret, t, body), body, t + 301]],
    ["a timestamp from the future", () => [secret, signatureHeader(secret, t, body), body, t - 301]],
    ["a truncated MAC", () => [secret, signatureHeader(secret, t, body).slice(0, -2), body, t]],
    ["no timestamp", () => [secret, signatureHeader(secret, t, body).replace(/^t=[0-9]+,/, ""), body, t]],
    ["an empty header", () => [secret, "", body, t]],
    ["an upper-case MAC", () => [secret, signatureHeader(secret, t, body).toUpperCase().replace("T=", "t=").replace("V1=", "v1="), body, t]],
  ];
  for (const [name, make] of refusals) {
    it(`refuses ${name}`, () => {
      const [key, header, raw, now] = make();
      assert.equal(verifyDocumented(key, header, raw, now), false);
      assert.equal(verifySignature(key, header, raw, now), false);
    });
  }
});
