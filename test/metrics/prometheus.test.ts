import assert from "node:assert/strict";
import { it } from "node:test";
import { renderMetrics } from "../../src/metrics/prometheus.ts";

it("renders Prometheus text exposition, escaping label values", () => {
  const text = renderMetrics([
    { name: "sentinel_peers", help: "Connected peers.", type: "gauge", samples: [{ value: 3 }] },
    { name: "sentinel_x_total", help: "X.", type: "counter", samples: [{ labels: { a: 'q"u\\o\nte' }, value: 1 }, { value: NaN }] },
  ]);
  assert.equal(
    text,
    [
      "# HELP sentinel_peers Connected peers.",
      "# TYPE sentinel_peers gauge",
      "sentinel_peers 3",
      "# HELP sentinel_x_total X.",
      "# TYPE sentinel_x_total counter",
      'sentinel_x_total{a="q\\"u\\\\o\\nte"} 1',
      "sentinel_x_total 0",
      "",
    ].join("\n"),
  );
});
