/**
 * Turns benchmark runs into medians per peer, ratios against the targets of issues 8 and 19, a
 * markdown section and an SVG chart. Pure functions: no I/O, so they can be unit-tested.
 */

export interface RunRecord {
  kind: 'suite' | 'fanout' | 'idle' | 'handshake' | 'per-user' | 'cluster';
  peer: string;
  conns: number;
  round: number;
  result?: Record<string, unknown>;
  error?: string;
  /** Share of the CPUs other work used just before the run (0–1). */
  busyBefore?: number;
}

export interface PeerInfo {
  id: string;
  label: string;
}

export interface PeerSummary {
  /** Delivered messages per second at saturation, one message per broadcast, by subscriber count. */
  fanout: Record<string, number>;
  overload?: number;
  p50?: number;
  p99?: number;
  p999?: number;
  /** True when a latency quantile is only a lower bound (copies still missing after the drain). */
  latencyLowerBound?: boolean;
  delivered?: number;
  /** RSS per idle connection right after connecting, and after the hold (V8 has shrunk its heap). */
  idleBytes?: number;
  idleSettledBytes?: number;
  /** Connections made usable per second (the protocol's own handshake included), and bare WebSocket upgrades. */
  handshakes?: number;
  upgrades?: number;
  /** Delivered messages per second of server CPU (fan-out at the main size, overload): robust to other load on the machine. */
  fanoutPerCpu?: number;
  overloadPerCpu?: number;
  /** The best round's fan-out rate at the main size: other work on the machine only ever slows a round down. */
  fanoutBest?: number;
  /** Server CPU use (cores) during the fan-out phase at the main size. */
  fanoutCpu?: number;
  /** Connections the server closed during the publishing phases (slow consumers), summed over rounds. */
  closedByServer: number;
  errors: string[];
}

export type Summary = Record<string, PeerSummary>;

export function median(values: number[]): number | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1]! + v[mid]!) / 2;
}

function num(obj: unknown, ...path: string[]): number | undefined {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : undefined;
}

function bool(obj: unknown, ...path: string[]): boolean {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return false;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur === true;
}

/** Medians over rounds, per peer. */
export function summarize(runs: readonly RunRecord[]): Summary {
  const out: Summary = {};
  const acc = new Map<string, Map<string, number[]>>();
  const push = (peer: string, key: string, v: number | undefined): void => {
    if (v === undefined || v < 0) return;
    let m = acc.get(peer);
    if (!m) acc.set(peer, (m = new Map<string, number[]>()));
    let list = m.get(key);
    if (!list) m.set(key, (list = []));
    list.push(v);
  };
  for (const run of runs) {
    if (run.kind === 'per-user' || run.kind === 'cluster') continue; // bench/lib/scenario-report.ts
    const s = (out[run.peer] ??= { fanout: {}, closedByServer: 0, errors: [] });
    if (run.error !== undefined) {
      s.errors.push(`${run.kind} ${run.conns}: ${run.error}`);
      continue;
    }
    const r = run.result;
    if (run.kind === 'handshake') {
      const upgradeOnly = bool(r, 'handshake', 'upgradeOnly');
      push(run.peer, upgradeOnly ? 'upgrades' : 'handshakes', num(r, 'handshake', 'perSec'));
      continue;
    }
    push(run.peer, `fanout:${run.conns}`, num(r, 'fanout', 'msgsPerSec'));
    push(run.peer, 'idleBytes', num(r, 'idle', 'bytesPerConn'));
    push(run.peer, 'idleSettledBytes', num(r, 'idle', 'settledBytesPerConn'));
    if (run.kind === 'suite') {
      const perCpu = (phase: string): number | undefined => {
        const m = num(r, phase, 'msgsPerSec');
        const c = num(r, phase, 'serverCpu');
        return m !== undefined && c !== undefined && c > 0 ? m / c : undefined;
      };
      push(run.peer, 'fanoutPerCpu', perCpu('fanout'));
      push(run.peer, 'overloadPerCpu', perCpu('overload'));
      push(run.peer, 'fanoutCpu', num(r, 'fanout', 'serverCpu'));
      const rate = num(r, 'fanout', 'msgsPerSec');
      if (rate !== undefined) s.fanoutBest = Math.max(s.fanoutBest ?? 0, rate);
      push(run.peer, 'overload', num(r, 'overload', 'msgsPerSec'));
      push(run.peer, 'p50', num(r, 'latency', 'p50Ms'));
      push(run.peer, 'p99', num(r, 'latency', 'p99Ms'));
      push(run.peer, 'p999', num(r, 'latency', 'p999Ms'));
      push(run.peer, 'delivered', num(r, 'latency', 'delivered'));
      if (bool(r, 'latency', 'p99LowerBound') || bool(r, 'latency', 'p999LowerBound')) push(run.peer, 'lowerBound', 1);
    }
    s.closedByServer += num(r, 'closedByServer') ?? 0;
  }
  for (const [peer, m] of acc) {
    const s = out[peer]!;
    for (const [key, list] of m) {
      const v = median(list);
      if (v === undefined) continue;
      if (key.startsWith('fanout:')) s.fanout[key.slice(7)] = v;
      else if (key === 'lowerBound') s.latencyLowerBound = true;
      else (s as unknown as Record<string, number>)[key] = v;
    }
  }
  return out;
}

export interface TargetResult {
  /** Stable id: a missed row links to `#why-<id>` in the hand-written part of docs/benchmarks.md. */
  id: string;
  /** The issue and target the row answers: `8`, `19.1`. */
  issue?: string;
  text: string;
  /** What was measured, in words with numbers. */
  measured: string;
  /** The ratio or value compared with the goal. */
  value: number | undefined;
  /** How the value column shows `value` (default: `1.23×` for ratio goals, the number otherwise). */
  valueText?: string;
  /** `≥ 0.9×`, `≤ 5 KB`, or MEASURED for a figure the issue asks for without a goal. */
  goal: string;
  /** undefined: not measured in this run, or no goal. */
  met: boolean | undefined;
}

/** The goal of a row the issue asks to measure without a goal: it gets no verdict. */
export const MEASURED = 'measured';

const KB = 1024;

/** The physical-limit peer (bench/peers/writer.c): every other peer's fan-out is also shown as a fraction of its. */
export const LIMIT = 'c-writer';

/** `peer`'s fan-out at `conns` subscribers as a fraction of the C writer's, when both were measured. */
export function ofLimit(s: Summary, peer: string, conns: number): number | undefined {
  const a = s[peer]?.fanout[String(conns)];
  const b = s[LIMIT]?.fanout[String(conns)];
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

/** The targets of issue 8, evaluated on a summary. `conns` is the subscriber count of the main runs. */
export function evaluateTargets(s: Summary, conns: number): TargetResult[] {
  const key = String(conns);
  const f = (peer: string): number | undefined => s[peer]?.fanout[key];
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  const results: TargetResult[] = [];
  const addRatio = (id: string, text: string, a: number | undefined, b: number | undefined, min: number, unit: string, issue = '8'): TargetResult => {
    const value = ratio(a, b);
    const row: TargetResult = {
      id, issue, text, value, goal: `≥ ${min}×`, met: value === undefined ? undefined : value >= min,
      measured: `${fmtNum(a)} vs ${fmtNum(b)} ${unit}`,
    };
    results.push(row);
    return row;
  };
  const perCpuNote = (row: TargetResult, a: string, b: string): void => {
    const perCpu = ratio(s[a]?.fanoutPerCpu, s[b]?.fanoutPerCpu);
    if (perCpu !== undefined) row.measured += `; per CPU-s ${fmtNum(s[a]?.fanoutPerCpu)} vs ${fmtNum(s[b]?.fanoutPerCpu)} = ${perCpu.toFixed(2)}×`;
  };
  addRatio('fanout-socketio', `Fan-out, ${fmtConns(conns)} subscribers: Tidings WS vs Socket.IO`, f('tidings-ws'), f('socketio'), 1.5, 'msg/s');
  addRatio('fanout-ws-frame', `Fan-out, ${fmtConns(conns)} subscribers: Tidings WS vs raw ws (frame built once)`, f('tidings-ws'), f('ws-frame'), 0.9, 'msg/s');
  addRatio('overload-socketio', 'Overload: Tidings WS vs Socket.IO', s['tidings-ws']?.overload, s.socketio?.overload, 8, 'msg/s');
  if (s[LIMIT] !== undefined) {
    const row = addRatio('fanout-c-writer', `Fan-out, ${fmtConns(conns)} subscribers: Tidings WS vs the C writer (one \`write(2)\` per connection)`,
      f('tidings-ws'), f(LIMIT), 0.9, 'msg/s', '19.4');
    perCpuNote(row, 'tidings-ws', LIMIT);
  }
  perCpuNote(addRatio('stomp-fanout', `Fan-out, ${fmtConns(conns)} subscribers: Tidings STOMP over WebSocket vs Tidings WS (JSON)`,
    f('tidings-stomp'), f('tidings-ws'), 0.9, 'msg/s', '19.1'), 'tidings-stomp', 'tidings-ws');
  const addMax = (id: string, text: string, v: number | undefined, max: number, unit: string, scale: number,
    o: { lowerBound?: boolean; note?: string; issue?: string } = {}): void => {
    const shown = v === undefined ? undefined : `${o.lowerBound === true ? '≥ ' : ''}${fmtNum(v / scale, 2)} ${unit}`;
    results.push({
      id, issue: o.issue ?? '8', text, value: v, valueText: shown, goal: `≤ ${max / scale} ${unit}`, met: v === undefined ? undefined : o.lowerBound !== true && v <= max,
      measured: shown === undefined ? 'n/a' : `${shown}${o.note ?? ''}`,
    });
  };
  const idle = (peer: string, ref: string, max: number, text: string, id: string, issue: string): void => {
    const p = s[peer];
    const settled = p?.idleSettledBytes;
    const r = ratio(p?.idleBytes, s[ref]?.idleBytes);
    const note = `${r === undefined ? '' : ` (${r.toFixed(2)}× ${ref})`}${settled === undefined ? '' : `; settled ${fmtNum(settled / KB, 2)} KB`}`;
    addMax(id, text, p?.idleBytes, max, 'KB', KB, { note, issue });
  };
  idle('tidings-ws', 'ws-naive', 6 * KB, 'RSS per idle WebSocket connection (Tidings)', 'idle-ws', '8');
  idle('tidings-stomp', 'tidings-ws', 6 * KB, 'RSS per idle STOMP over WebSocket connection (Tidings)', 'idle-stomp', '19.1');
  idle('tidings-sse', 'sse', 5 * KB, 'RSS per idle SSE connection (Tidings), right after connecting', 'idle-sse', '8, 19.2');
  idle('tidings-poll', 'sse', 5 * KB, 'RSS per waiting long poll (Tidings), right after connecting', 'idle-poll', '8, 19.2');
  // issue 19: what a connection retains once V8 has shrunk the young generation (full runs only)
  for (const [peer, id, text] of [['tidings-sse', 'idle-sse-settled', 'RSS per idle SSE connection (Tidings), settled'],
    ['tidings-poll', 'idle-poll-settled', 'RSS per waiting long poll (Tidings), settled']] as const) {
    const settled = s[peer]?.idleSettledBytes;
    if (settled !== undefined) addMax(id, text, settled, 2.5 * KB, 'KB', KB, { issue: '19.2' });
  }
  addMax('p99', `p99 publish → receive, ${fmtConns(conns)} × 10 Hz (Tidings WS)`, s['tidings-ws']?.p99, 100, 'ms', 1, { lowerBound: s['tidings-ws']?.latencyLowerBound });
  addMax('stomp-p99', `p99 publish → receive, ${fmtConns(conns)} × 10 Hz (Tidings STOMP over WebSocket)`, s['tidings-stomp']?.p99, 100, 'ms', 1,
    { lowerBound: s['tidings-stomp']?.latencyLowerBound, issue: '19.1' });
  addRatio('handshakes', 'WebSocket handshakes per second: Tidings (`/ws?connect=1` up to `connected`) vs raw ws (upgrade)', s['tidings-ws']?.handshakes, s['ws-naive']?.handshakes, 1.0, '/s');
  const up = ratio(s['tidings-ws']?.upgrades, s['ws-naive']?.handshakes);
  if (up !== undefined) results[results.length - 1]!.measured += `; upgrade alone ${fmtNum(s['tidings-ws']?.upgrades)}/s = ${up.toFixed(2)}×`;
  const on = s['tidings-ws'];
  const off = s['tidings-ws-nometrics'];
  if (off) {
    // issue 14: metrics on (scraped every second) cost at most 3% of the fan-out rate. Judged on
    // each row's best round, since other work on the machine only ever slows a round down; the
    // medians of the rates and of msg per CPU-s are shown beside it.
    const best = ratio(on?.fanoutBest, off.fanoutBest);
    const rate = ratio(f('tidings-ws'), f('tidings-ws-nometrics'));
    const perCpu = ratio(on?.fanoutPerCpu, off.fanoutPerCpu);
    results.push({
      id: 'metrics', issue: '14', text: `Fan-out, ${fmtConns(conns)} subscribers: Tidings WS with metrics on (scraped every 1 s) vs \`--metrics off\`, best rounds`,
      value: best, goal: '≥ 0.97×', met: best === undefined ? undefined : best >= 0.97,
      measured: `${fmtNum(on?.fanoutBest)} vs ${fmtNum(off.fanoutBest)} msg/s; medians ${fmtNum(f('tidings-ws'))} vs ${fmtNum(f('tidings-ws-nometrics'))} msg/s`
        + `${rate === undefined ? '' : ` (${rate.toFixed(2)}×)`}${perCpu === undefined ? '' : `, per CPU-s ${perCpu.toFixed(2)}×`}`,
    });
  }
  return results;
}

export function fmtNum(v: number | undefined, digits = 0): string {
  if (v === undefined) return 'n/a';
  if (digits === 0 && Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
}

export function fmtConns(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

function fmtMs(v: number | undefined, lower: boolean | undefined): string {
  if (v === undefined) return 'n/a';
  const s = v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 10 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`;
  return lower ? `≥ ${s}` : s;
}

function fmtRatio(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${v.toFixed(2)}×`;
}

function fmtKb(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${(v / KB).toFixed(1)} KB`;
}

export interface ReportMeta {
  date: string;
  command: string;
  quick: boolean;
  rounds: number;
  conns: number;
  fanoutSizes: number[];
  machine: string[];
  notes: string[];
}

/** Sections and target rows of scenarios reported elsewhere (bench/lib/scenario-report.ts). */
export interface ExtraReport {
  /** Markdown lines, placed before the targets table. */
  sections: string[];
  targets: TargetResult[];
}

/** The generated part of docs/benchmarks.md. */
export function renderMarkdown(peers: readonly PeerInfo[], s: Summary, meta: ReportMeta, chartFile: string,
  extra: ExtraReport = { sections: [], targets: [] }): string {
  const lines: string[] = [];
  const c = fmtConns(meta.conns);
  lines.push(`Run: ${meta.date}, \`${meta.command}\` (${meta.quick ? 'quick' : 'full'}: ${meta.rounds} round${meta.rounds === 1 ? '' : 's'}, medians).`);
  lines.push('');
  for (const m of meta.machine) lines.push(`- ${m}`);
  for (const n of meta.notes) lines.push(`- ${n}`);
  lines.push('');
  const sizes = meta.fanoutSizes;
  const limit = s[LIMIT]?.fanout[String(meta.conns)] !== undefined;
  const head = ['peer', ...sizes.map((n) => `fan-out ${fmtConns(n)} msg/s`), ...(limit ? [`fan-out ${c} × C writer`] : []), `overload ${c} msg/s`, 'p50', 'p99', 'p999',
    'idle RSS / conn', 'settled', 'handshakes/s', 'upgrades/s'];
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const p of peers) {
    const r = s[p.id];
    if (!r) continue;
    const row = [
      p.label,
      ...sizes.map((n) => fmtNum(r.fanout[String(n)])),
      ...(limit ? [fmtRatio(ofLimit(s, p.id, meta.conns))] : []),
      fmtNum(r.overload),
      fmtMs(r.p50, r.latencyLowerBound && r.p50 !== undefined && r.p99 !== undefined && r.p50 === r.p99),
      fmtMs(r.p99, r.latencyLowerBound),
      fmtMs(r.p999, r.latencyLowerBound),
      fmtKb(r.idleBytes),
      fmtKb(r.idleSettledBytes),
      fmtNum(r.handshakes),
      fmtNum(r.upgrades),
    ];
    lines.push(`| ${row.join(' | ')} |`);
  }
  if (limit) lines.push(`\n“× C writer”: the fan-out rate at ${c} subscribers as a fraction of the C writer's, which writes a frame built once with one \`write(2)\` per connection and nothing else (bench/peers/writer.c).`);
  lines.push('');
  lines.push(`Server CPU efficiency at ${c} subscribers (messages delivered per second of server CPU; less sensitive to other work on the machine than the rates above):`);
  lines.push('');
  lines.push('| peer | fan-out msg per CPU-s | server CPU in fan-out | overload msg per CPU-s |');
  lines.push('|---|---:|---:|---:|');
  for (const p of peers) {
    const r = s[p.id];
    if (!r || r.fanoutPerCpu === undefined) continue;
    lines.push(`| ${p.label} | ${fmtNum(r.fanoutPerCpu)} | ${r.fanoutCpu === undefined ? 'n/a' : r.fanoutCpu.toFixed(2)} | ${fmtNum(r.overloadPerCpu)} |`);
  }
  lines.push('');
  lines.push(`Latency: publish (HTTP API) → receive at ${c} subscribers × 10 broadcasts/s. Copies not delivered within the drain time count as slower than it (≥).`);
  const closed = peers.filter((p) => (s[p.id]?.closedByServer ?? 0) > 0).map((p) => `${p.label}: ${s[p.id]!.closedByServer}`);
  if (closed.length > 0) lines.push(`Connections closed by the server during publishing phases (slow consumers): ${closed.join(', ')}.`);
  const errors = peers.flatMap((p) => (s[p.id]?.errors ?? []).map((e) => `${p.id}: ${e}`));
  if (errors.length > 0) lines.push(`Failed runs: ${errors.map((e) => `\`${e.slice(0, 200)}\``).join('; ')}.`);
  lines.push('');
  lines.push(...extra.sections);
  lines.push('### Targets');
  lines.push('');
  lines.push('Issue: the issue and target number the row answers (issue 19: 19.1 STOMP, 19.2 idle memory, 19.3 per-user delivery, 19.4 the C writer, 19.5 permessage-deflate, 19.6 100k subscribers). A goal of “measured” is a figure the issue asks for without a goal; “—”: no verdict (no goal, or not measured in this run).');
  lines.push('');
  lines.push(...targetTable([...evaluateTargets(s, meta.conns), ...extra.targets]));
  lines.push('');
  lines.push(`![throughput and latency per peer](${chartFile})`);
  return lines.join('\n');
}

/** Sort key of a row: its first issue number (`8, 19.2` → 8, `19.3` → 19.3). */
function issueOrder(t: TargetResult): number {
  const n = Number.parseFloat(t.issue ?? '');
  return Number.isFinite(n) ? n : Infinity;
}

/** The targets table, rows ordered by issue and target; a missed row links to `#why-<id>`. */
export function targetTable(targets: readonly TargetResult[]): string[] {
  const rows = [...targets].sort((a, b) => issueOrder(a) - issueOrder(b));
  const lines = ['| issue | target | goal | measured | ratio / value | verdict | why |', '|---|---|---|---|---:|---|---|'];
  for (const t of rows) {
    const value = t.value === undefined ? 'n/a' : t.valueText ?? (t.goal.endsWith('×') ? `${t.value.toFixed(2)}×` : fmtNum(t.value));
    const verdict = t.met === undefined ? '—' : t.met ? 'met' : '**missed**';
    lines.push(`| ${t.issue ?? ''} | ${t.text} | ${t.goal} | ${t.measured} | ${value} | ${verdict} | ${t.met === false ? `[why](#why-${t.id})` : ''} |`);
  }
  return lines;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One panel of the chart: a title and a bar per value. */
export interface Panel {
  title: string;
  values: Array<{ label: string; value: number | undefined; text: string; tidings: boolean }>;
  log: boolean;
  /** A dashed line at the panel's target, when it has one. */
  target?: { value: number; label: string };
}

/** A horizontal bar chart, two panels a row: fan-out, overload, p99 latency (log scale), idle memory, then `extraPanels` (per-user, compression, 100k). */
export function renderSvg(peers: readonly PeerInfo[], s: Summary, conns: number, extraPanels: readonly Panel[] = []): string {
  const c = fmtConns(conns);
  const publishing = peers.filter((p) => s[p.id]);
  const isT = (id: string): boolean => id.startsWith('tidings');
  const panels: Panel[] = [
    { title: `Fan-out, ${c} subscribers, 1 msg/broadcast (msg/s)`, log: false,
      values: publishing.map((p) => ({ label: p.label, value: s[p.id]!.fanout[String(conns)], text: fmtNum(s[p.id]!.fanout[String(conns)]), tidings: isT(p.id) })) },
    { title: `Overload, ${c} subscribers (msg/s)`, log: false,
      values: publishing.map((p) => ({ label: p.label, value: s[p.id]!.overload, text: fmtNum(s[p.id]!.overload), tidings: isT(p.id) })) },
    { title: `p99 publish → receive, ${c} × 10 Hz (ms, log scale)`, log: true, target: { value: 100, label: 'target 100 ms' },
      values: publishing.map((p) => ({ label: p.label, value: s[p.id]!.p99, text: fmtMs(s[p.id]!.p99, s[p.id]!.latencyLowerBound), tidings: isT(p.id) })) },
    { title: `RSS per idle connection, ${c} (KB)`, log: false,
      values: publishing.map((p) => ({ label: p.label, value: s[p.id]!.idleBytes, text: fmtKb(s[p.id]!.idleBytes), tidings: isT(p.id) })) },
  ];
  const labelW = 210;
  const barW = 230;
  const panelW = labelW + barW + 90;
  const rowH = 22;
  const top = 40;
  panels.push(...extraPanels);
  const panelH = top + Math.max(...panels.map((p) => p.values.length)) * rowH + 24;
  const cols = 2;
  const width = panelW * cols;
  const height = panelH * Math.ceil(panels.length / cols);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  panels.forEach((panel, i) => {
    const x0 = (i % cols) * panelW;
    const y0 = Math.floor(i / cols) * panelH;
    out.push(`<text x="${x0 + 10}" y="${y0 + 20}" font-weight="bold">${esc(panel.title)}</text>`);
    const vals = panel.values.map((v) => v.value).filter((v): v is number => v !== undefined && v > 0);
    const max = vals.length ? Math.max(...vals) : 1;
    const minLog = panel.log ? Math.log10(Math.max(0.1, Math.min(...vals, 1))) : 0;
    const scale = (v: number): number => {
      if (!panel.log) return (v / max) * barW;
      const lo = Math.floor(minLog);
      const hi = Math.ceil(Math.log10(max)) || 1;
      return ((Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(1, hi - lo)) * barW;
    };
    if (panel.target && vals.length) {
      const x = x0 + labelW + scale(panel.target.value);
      out.push(`<line x1="${x.toFixed(1)}" y1="${y0 + top - 6}" x2="${x.toFixed(1)}" y2="${y0 + panelH - 14}" stroke="#c0392b" stroke-dasharray="4 3"/>`);
      out.push(`<text x="${(x + 3).toFixed(1)}" y="${y0 + panelH - 4}" fill="#c0392b" font-size="10">${esc(panel.target.label)}</text>`);
    }
    panel.values.forEach((v, j) => {
      const y = y0 + top + j * rowH;
      out.push(`<text x="${x0 + labelW - 6}" y="${y + 14}" text-anchor="end">${esc(v.label)}</text>`);
      if (v.value !== undefined && v.value > 0) {
        const w = Math.max(1, scale(v.value));
        out.push(`<rect x="${x0 + labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${v.tidings ? '#2f6fdf' : '#9aa3ad'}"/>`);
        out.push(`<text x="${(x0 + labelW + w + 4).toFixed(1)}" y="${y + 14}">${esc(v.text)}</text>`);
      } else {
        out.push(`<text x="${x0 + labelW + 4}" y="${y + 14}" fill="#888">n/a</text>`);
      }
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
