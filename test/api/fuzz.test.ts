// Fuzz: 10,000 malformed requests across every route and method (test/helpers/apiFuzz.ts) over
// real loopback connections, to a server whose backend is the real Intake, Admission and
// CandidateStore on a level database. None may be answered 5xx, none may store a candidate,
// and the node must still answer /health afterwards. Without a refusal budget, so that every
// request reaches the routes; then again with the node's default budget, the fuzz from its own
// address. Bounded in count and time; never asserts on time (npm run bench:api measures a valid
// request's latency under the same fuzz).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RefusalBudget } from "../../src/api/refusalBudget.ts";
import { DEFAULT_REFUSAL_BUDGET } from "../../src/config/schema.ts";
import { systemClock } from "../../src/util/clock.ts";
import { fuzz } from "../helpers/apiFuzz.ts";
import { startApiNode, submission } from "../helpers/apiNode.ts";

const COUNT = 10_000;
const SEED = Number(process.env["SENTINEL_FUZZ_SEED"] ?? 0x5e171e1);

describe("API fuzz", () => {
  it(`${COUNT} malformed requests: no 5xx, nothing stored, the node still answers`, async () => {
    // Short body timeout: truncated bodies are a tenth of the requests, each held until it.
    const node = await startApiNode({ enrolled: "nobody", server: { bodyTimeoutMs: 200, headersTimeoutMs: 1_000 } });
    try {
      const { body } = await submission(node.proposer, 1n);
      const results = await fuzz(node.url, body, { seed: SEED, count: COUNT, concurrency: 32, deadline: Date.now() + 120_000 });
      const byStatus = new Map<number, number>();
      for (const { status } of results) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      const errors = results.filter(({ status }) => status >= 500);
      assert.equal(results.length, COUNT, `all sent within the bound (seed ${SEED})`);
      assert.deepEqual(errors.slice(0, 5), [], `5xx answers (seed ${SEED}); statuses ${JSON.stringify([...byStatus])}`);
      assert.equal(byStatus.get(202) ?? 0, 0, "no candidate admitted");
      assert.equal(await node.storedCount(), 0, "nothing stored");
      const health = await fetch(`${node.url}/health`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, "ok");
      // For the log: what the fuzz was answered, and a few that got no answer (the server closed the connection).
      for (const { what } of results.filter(({ status }) => status === 0).slice(0, 5)) console.log(`closed without an answer: ${JSON.stringify(what.slice(0, 120))}`);
      console.log(`fuzz seed ${SEED}: ${JSON.stringify(Object.fromEntries([...byStatus].sort(([a], [b]) => a - b)))}`);
    } finally {
      await node.close();
    }
  });

  it("with the default refusal budget: one address's fuzz is shed after its budget, another is served", async () => {
    const budget = new RefusalBudget(DEFAULT_REFUSAL_BUDGET, { clock: systemClock });
    const node = await startApiNode({ enrolled: "nobody", server: { bodyTimeoutMs: 200, headersTimeoutMs: 1_000, refusalBudget: budget } });
    try {
      const { body } = await submission(node.proposer, 1n);
      const concurrency = 32;
      const results = await fuzz(node.url, body, { seed: SEED + 1, count: 2_000, concurrency, deadline: Date.now() + 60_000, source: "127.0.0.2" });
      const byStatus = new Map<number, number>();
      for (const { status } of results) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      const summary = JSON.stringify(Object.fromEntries([...byStatus].sort(([a], [b]) => a - b)));
      assert.equal(results.length, 2_000);
      assert.ok(results.every(({ status }) => status === 0 || (status >= 400 && status < 500) || status === 200), summary);
      // Charged: the budget, and what was in flight on the other connections when it ran out.
      assert.ok(budget.stats.charged <= DEFAULT_REFUSAL_BUDGET.refusals + concurrency, JSON.stringify(budget.stats));
      assert.ok((byStatus.get(429) ?? 0) >= 2_000 - 2 * (DEFAULT_REFUSAL_BUDGET.refusals + concurrency) - 100, summary);
      assert.equal(await node.storedCount(), 0, "nothing stored");
      assert.equal((await fetch(`${node.url}/health`)).status, 200, "the honest address is served");
      console.log(`fuzz seed ${SEED + 1} with a budget: ${summary}, ${JSON.stringify(budget.stats)}`);
    } finally {
      await node.close();
    }
  });
});
