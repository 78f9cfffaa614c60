/**
 * Just enough PromQL reading for the docs tests: which metric names and which functions an
 * expression uses. Not a parser: it drops what cannot hold a metric name (strings, label matchers,
 * range and subquery brackets, grouping label lists, Grafana `$variables`, numbers and durations)
 * and reads the identifiers left.
 */

/** PromQL functions and aggregation operators (Prometheus 2.x). */
export const PROMQL_FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'day_of_month', 'day_of_week',
  'day_of_year', 'days_in_month', 'delta', 'deriv', 'exp', 'floor', 'histogram_count', 'histogram_sum', 'histogram_fraction',
  'histogram_quantile', 'holt_winters', 'hour', 'idelta', 'increase', 'irate', 'label_join', 'label_replace', 'ln', 'log2',
  'log10', 'minute', 'month', 'predict_linear', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sort', 'sort_desc', 'sqrt',
  'time', 'timestamp', 'vector', 'year', 'avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time',
  'count_over_time', 'quantile_over_time', 'stddev_over_time', 'stdvar_over_time', 'last_over_time', 'present_over_time',
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile',
]);

/** Keywords that look like identifiers. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The expression with everything that cannot name a metric blanked out. */
function skeleton(expr: string): string {
  return expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?[0-9a-z]+/g, ' ');
}

function identifiers(expr: string): Array<{ name: string; call: boolean }> {
  const out: Array<{ name: string; call: boolean }> = [];
  for (const m of skeleton(expr).matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const name = m[1]!;
    if (KEYWORDS.has(name.toLowerCase())) continue;
    out.push({ name, call: m[2] !== undefined });
  }
  return out;
}

/** Metric names the expression selects, e.g. `rate(a_total{x="y"}[5m]) / b` → `['a_total', 'b']`. */
export function metricNames(expr: string): string[] {
  return [...new Set(identifiers(expr).filter((i) => !i.call).map((i) => i.name))];
}

/** Functions and aggregations the expression calls. */
export function functionNames(expr: string): string[] {
  return [...new Set(identifiers(expr).filter((i) => i.call).map((i) => i.name))];
}

/** `5m`, `1h30m`, `0s`: a Prometheus duration. */
export function isDuration(value: string): boolean {
  return /^([0-9]+(ms|s|m|h|d|w|y))+$/.test(value);
}
