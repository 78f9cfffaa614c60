// docs/prometheus-rules.yml, docs/grafana-dashboard.json and the metrics table of
// docs/operations.md against what a real node exports on /metrics.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { functionNames, isDuration, metricNames, PROMQL_FUNCTIONS } from './helpers/promql.js';
import { startTidings, type TidingsProcess } from './helpers/tidings.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (p: string): string => readFileSync(`${root}${p}`, 'utf8');
const run = promisify(execFile);

interface Rule {
  alert?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: { severity?: unknown };
  annotations?: { summary?: unknown; description?: unknown };
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown; definition?: string }> };
}

/** `# TYPE name type` lines of an exposition: every metric family, also those with no sample yet. */
function families(exposition: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** Series names a family of this type exposes: `x_bucket`, `x_sum`, `x_count` for a histogram. */
function seriesNames(fams: Map<string, string>): Set<string> {
  const names = new Set<string>(['up']);
  for (const [name, type] of fams) {
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** The rows of the table under "## Metrics" in docs/operations.md: name → type and labels. */
function documentedMetrics(): Map<string, { type: string; labels: string[] }> {
  const text = read('docs/operations.md');
  const section = text.slice(text.indexOf('## Metrics'));
  const out = new Map<string, { type: string; labels: string[] }>();
  for (const m of section.matchAll(/^\| `(tidings_\w+)` \| (\w+) \|([^|]*)\|/gm)) {
    out.set(m[1]!, { type: m[2]!, labels: [...m[3]!.matchAll(/`(\w+)`/g)].map((l) => l[1]!) });
  }
  return out;
}

const rules = parse(read('docs/prometheus-rules.yml')) as RuleFile;
const allRules = rules.groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(read('docs/grafana-dashboard.json')) as Dashboard;
const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe('the PromQL reading the docs tests rely on', () => {
  it('finds metric names and functions, not labels, strings, durations or variables', () => {
    const e = 'histogram_quantile(0.99, sum by (le, instance) (rate(a_seconds_bucket{job="x", le!="1"}[$__rate_interval] offset 5m))) / ignoring(z) b_total > 3 * c:rule';
    assert.deepEqual(metricNames(e), ['a_seconds_bucket', 'b_total', 'c:rule']);
    assert.deepEqual(functionNames(e), ['histogram_quantile', 'sum', 'rate']);
    assert.deepEqual(metricNames('sum(rate(x_total{instance=~"$instance"}[5m])) by (code) and up == 0'), ['x_total', 'up']);
    assert.ok(isDuration('5m') && isDuration('1h30m') && !isDuration('5') && !isDuration('m'));
  });
});

describe('docs/prometheus-rules.yml', () => {
  it('is a rule file whose every rule is a complete alert', () => {
    assert.ok(Array.isArray(rules.groups) && rules.groups.length > 0);
    const names = new Set<string>();
    for (const g of rules.groups) {
      assert.equal(typeof g.name, 'string');
      for (const r of g.rules) {
        const name = String(r.alert);
        assert.equal(typeof r.alert, 'string', `a rule without alert: ${JSON.stringify(r)}`);
        assert.ok(!names.has(name), `${name} twice`);
        names.add(name);
        assert.ok(typeof r.expr === 'string' && r.expr.trim(), `${name}: expr`);
        assert.ok(typeof r.for === 'string' && isDuration(r.for), `${name}: for must be a duration, is ${String(r.for)}`);
        assert.ok(['critical', 'warning', 'info'].includes(String(r.labels?.severity)), `${name}: severity`);
        assert.ok(typeof r.annotations?.summary === 'string' && r.annotations.summary.trim(), `${name}: summary`);
        assert.ok(typeof r.annotations?.description === 'string' && r.annotations.description.trim(), `${name}: description`);
      }
    }
  });

  it('has the alerts an operator needs', () => {
    const byName = new Map(allRules.map((r) => [String(r.alert), r]));
    const has = (metric: string): boolean => allRules.some((r) => metricNames(String(r.expr)).some((m) => m.startsWith(metric)));
    for (const m of ['tidings_engine_up', 'tidings_slow_consumer_disconnects_total', 'tidings_refusals_total', 'nodejs_eventloop_lag_p99_seconds',
      'tidings_scheduler_missed_total', 'tidings_publish_to_write_seconds', 'tidings_engine_errors_total', 'up', 'tidings_api_requests_total']) {
      assert.ok(has(m), `no alert on ${m}`);
    }
    const engine = byName.get('TidingsEngineDown');
    assert.equal(String(engine?.expr).trim(), 'tidings_engine_up == 0');
    assert.equal(engine?.for, '1m');
  });

  it('uses only known PromQL functions, and labels its annotations name are kept by the expression', () => {
    for (const r of allRules) {
      const expr = String(r.expr);
      for (const f of functionNames(expr)) assert.ok(PROMQL_FUNCTIONS.has(f), `${String(r.alert)}: unknown function ${f}`);
      const groupings = [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].map((m) => m[1]!.split(',').map((s) => s.trim()));
      const used = [...JSON.stringify(r.annotations).matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]!);
      for (const label of used) for (const g of groupings) assert.ok(g.includes(label), `${String(r.alert)}: $labels.${label} is dropped by by (${g.join(', ')})`);
    }
  });

  it('passes promtool check rules (when promtool is installed)', async (t) => {
    let promtool = true;
    try {
      execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    } catch {
      promtool = false;
    }
    if (!promtool) {
      console.warn('SKIPPED: promtool not found (Debian: apt-get install prometheus); the rule file was only checked structurally');
      t.skip('promtool not installed');
      return;
    }
    const { stdout } = await run('promtool', ['check', 'rules', `${root}docs/prometheus-rules.yml`]);
    assert.match(stdout, new RegExp(`SUCCESS: ${allRules.length} rules found`));
  });
});

describe('docs/grafana-dashboard.json', () => {
  it('is a dashboard whose panels use the datasource variable and fit the grid', () => {
    assert.ok(dashboard.schemaVersion >= 36);
    assert.equal(dashboard.uid, 'tidings');
    const vars = dashboard.templating.list.map((v) => v.name);
    assert.deepEqual(vars, ['datasource', 'instance']);
    const ids = new Set<number>();
    for (const p of dashboard.panels) {
      assert.ok(!ids.has(p.id), `panel id ${p.id} twice`);
      ids.add(p.id);
      assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: off the grid`);
      if (p.type === 'row') continue;
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
      assert.ok(p.targets && p.targets.length > 0, `${p.title}: no query`);
      for (const t of p.targets) assert.match(t.expr, /instance=~"\$instance"/, `${p.title}: ${t.expr} ignores the node selector`);
    }
    for (const f of targets.flatMap((t) => functionNames(t.expr))) assert.ok(PROMQL_FUNCTIONS.has(f), `unknown function ${f}`);
  });

  it('has a panel for each thing an operator watches', () => {
    const used = new Set(targets.flatMap((t) => metricNames(t.expr)));
    for (const m of ['tidings_connections', 'tidings_handshakes_total', 'tidings_refusals_total', 'tidings_subscriptions', 'tidings_channels',
      'tidings_publications_total', 'tidings_publication_size_bytes_bucket', 'tidings_messages_written_total', 'tidings_frames_written_total',
      'tidings_bytes_written_total', 'tidings_disconnects_total', 'tidings_slow_consumer_disconnects_total', 'tidings_recoveries_total',
      'tidings_publish_to_write_seconds_bucket', 'tidings_engine_up', 'tidings_engine_command_duration_seconds_bucket', 'tidings_engine_errors_total',
      'tidings_engine_gap_fills_total', 'tidings_store_operation_duration_seconds_bucket', 'tidings_scheduler_runs_total', 'tidings_scheduler_missed_total',
      'tidings_api_requests_total', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'process_resident_memory_bytes', 'process_open_fds']) {
      assert.ok(used.has(m), `no panel shows ${m}`);
    }
  });
});

describe('metric names in the docs are the ones a node exports', () => {
  let t: TidingsProcess;
  let exposition = '';
  before(async () => {
    t = await startTidings();
    await t.publish('news', { hello: 'world' });
    const res = await fetch(`${t.url}/metrics`);
    assert.equal(res.status, 200);
    exposition = await res.text();
  });
  after(async () => {
    await t?.stop();
  });

  it('every family is listed in # TYPE lines even before its first sample', () => {
    const fams = families(exposition);
    assert.equal(fams.get('tidings_engine_errors_total'), 'counter');
    assert.ok(!/^tidings_engine_errors_total\{/m.test(exposition), 'a fresh node has no engine error samples, yet its family is listed');
    assert.equal(fams.get('tidings_publish_to_write_seconds'), 'histogram');
  });

  it('every metric a rule or a dashboard query names is exported', () => {
    const known = seriesNames(families(exposition));
    const named = [
      ...allRules.map((r) => ({ where: `rule ${String(r.alert)}`, expr: String(r.expr) })),
      ...targets.map((x) => ({ where: `panel ${x.panel}`, expr: x.expr })),
      ...dashboard.templating.list.filter((v) => v.definition).map((v) => ({ where: `variable ${v.name}`, expr: String(v.definition).replace(/^label_values\((.*),\s*\w+\)$/, '$1') })),
    ];
    assert.ok(named.length > 40);
    for (const { where, expr } of named) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where}: no metric in ${expr}`);
      for (const n of names) assert.ok(known.has(n), `${where}: ${n} is not exported by the server`);
    }
  });

  it('docs/operations.md documents every tidings_ family with its type and labels', () => {
    const fams = families(exposition);
    const docs = documentedMetrics();
    const exported = [...fams.keys()].filter((n) => n.startsWith('tidings_'));
    assert.ok(exported.length >= 20);
    for (const name of exported) {
      const doc = docs.get(name);
      assert.ok(doc, `${name} is exported but not in the table of docs/operations.md`);
      assert.equal(doc.type, fams.get(name), `${name}: type`);
    }
    for (const name of docs.keys()) assert.ok(fams.has(name), `docs/operations.md lists ${name}, which the server does not export`);
    for (const m of exposition.matchAll(/^(tidings_\w+?)(?:_bucket|_sum|_count)?\{([^}]*)\}/gm)) {
      const family = fams.has(m[1]!) ? m[1]! : m[1]!.replace(/_(bucket|sum|count)$/, '');
      const labels = [...m[2]!.matchAll(/(\w+)="/g)].map((l) => l[1]!).filter((l) => l !== 'le');
      for (const l of labels) assert.ok(docs.get(family)?.labels.includes(l), `${family}: label ${l} is not documented`);
    }
  });
});
