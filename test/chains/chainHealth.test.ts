import assert from "node:assert/strict";
import { it } from "node:test";
import { pino } from "pino";
import { Writable } from "node:stream";
import { ChainHealth } from "../../src/chains/chainHealth.ts";

it("logs a chain becoming unreachable and coming back once each, by chain id, never the URL", () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));
  let now = 1_000;
  const health = new ChainHealth({ chainId: 31337 }, { logger, clock: { now: () => now } });
  assert.equal(health.status.reachable, null);
  health.up();
  health.up();
  assert.equal(lines.length, 0, "the first success is not news");
  const refused = Object.assign(new Error("HTTP request failed.\n\nURL: http://rpc.example/v3/KEY"), { shortMessage: "HTTP request failed.", cause: Object.assign(new Error("fetch failed"), { code: "ECONNREFUSED" }) });
  now = 2_000;
  health.down(refused);
  health.down(refused);
  health.down(new Error("timed out"));
  now = 5_000;
  health.up();
  health.up();
  assert.deepEqual(
    lines.map(({ msg, chainId, reason, downForMs }) => ({ msg, chainId, reason, downForMs })),
    [
      { msg: "chain unreachable", chainId: 31337, reason: "HTTP request failed. (ECONNREFUSED)", downForMs: undefined },
      { msg: "chain reachable again", chainId: 31337, reason: undefined, downForMs: 3_000 },
    ],
  );
  assert.deepEqual(health.status, { chainId: 31337, reachable: true, since: 5_000, reason: null });
});
