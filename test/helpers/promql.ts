// The metric names a PromQL expression reads, for checking a Grafana dashboard against what a
// node exports. Not a PromQL parser: it blanks what cannot be a metric name (strings, label
// matchers, ranges, grouping label lists, numbers) and keeps the identifiers that are not a
// function, an aggregation or a keyword.

const KEYWORDS = new Set([
  "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless", "le", "inf", "nan",
]);

/** Metric names in `expr`, each once. Grafana's $variables and $__interval are ignored. */
export function metricNames(expr: string): string[] {
  const blanked = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\{?[\w]+\}?/g, " ")
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?\b/gi, " ");
  const names = new Set<string>();
  for (const match of blanked.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const after = blanked.slice(match.index + name.length);
    // A function or aggregation call: `rate(`, `sum by (…) (` was blanked to `sum   (`.
    if (/^\s*\(/.test(after)) continue;
    if (KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

interface Panel {
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every PromQL expression of a Grafana dashboard: panel targets (rows' nested panels too) and query variables. */
export function dashboardExprs(dashboard: { panels?: Panel[]; templating?: { list?: { type?: string; query?: unknown }[] } }): string[] {
  const exprs: string[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) if (target.expr) exprs.push(target.expr);
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== "query") continue;
    const query = typeof variable.query === "string" ? variable.query : (variable.query as { query?: string } | undefined)?.query;
    // label_values(metric, label): the metric is the query's series.
    const series = query && /^label_values\(\s*([^,)]+)/.exec(query)?.[1];
    if (series) exprs.push(series);
  }
  return exprs;
}

/** The sample names of a Prometheus text exposition (histograms' _bucket/_sum/_count as they appear). */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split("\n")) {
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
    if (name) names.add(name);
  }
  return names;
}
