/**
 * The report of issue 19's per-user delivery and 100k-subscriber scenarios
 * (bench/scenarios/per-user.ts, bench/scenarios/cluster-100k.ts): medians per peer and mode,
 * target rows and markdown sections. Pure functions, unit-tested in test/bench/report.test.ts.
 */
import { fmtNum, MEASURED, median, type Panel, type RunRecord, type TargetResult } from './report.js';

/** Medians over rounds of one per-user peer in one mode (`tidings/batch`). */
export interface PerUserRow {
  /** Saturation: delivered copies per second, publish calls per second, server CPU µs per call. */
  rate?: number;
  callsPerSec?: number;
  cpuPerCallUs?: number;
  /** At the fixed offered rate: delivered copies per second, latency, the calls' mean answer time. */
  offeredRate?: number;
  p50?: number;
  p99?: number;
  latencyLowerBound?: boolean;
  callMeanMs?: number;
  errors: string[];
}

export type PerUserSummary = Record<string, PerUserRow>;

function field(obj: unknown, ...path: string[]): number | undefined {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'number' && Number.isFinite(cur) && cur >= 0 ? cur : undefined;
}

/** Medians per `peer/mode` over the per-user runs. */
export function summarizePerUser(runs: readonly RunRecord[]): PerUserSummary {
  const lists = new Map<string, Map<keyof PerUserRow, number[]>>();
  const out: PerUserSummary = {};
  for (const run of runs) {
    if (run.kind !== 'per-user') continue;
    const row = (out[run.peer] ??= { errors: [] });
    if (run.error !== undefined) {
      row.errors.push(run.error);
      continue;
    }
    const r = run.result;
    let m = lists.get(run.peer);
    if (!m) lists.set(run.peer, (m = new Map<keyof PerUserRow, number[]>()));
    const push = (k: keyof PerUserRow, v: number | undefined): void => {
      if (v === undefined) return;
      const l = m.get(k) ?? [];
      l.push(v);
      m.set(k, l);
    };
    const seconds = field(r, 'overload', 'seconds');
    const published = field(r, 'overload', 'published');
    const cpu = field(r, 'overload', 'serverCpu');
    const calls = seconds !== undefined && published !== undefined && seconds > 0 ? published / seconds : undefined;
    push('rate', field(r, 'overload', 'msgsPerSec'));
    push('callsPerSec', calls);
    push('cpuPerCallUs', calls !== undefined && calls > 0 && cpu !== undefined ? (cpu / calls) * 1e6 : undefined);
    push('offeredRate', field(r, 'latency', 'msgsPerSec'));
    push('p50', field(r, 'latency', 'p50Ms'));
    push('p99', field(r, 'latency', 'p99Ms'));
    push('callMeanMs', field(r, 'latency', 'callMeanMs'));
    if ((r?.latency as Record<string, unknown> | undefined)?.p99LowerBound === true) row.latencyLowerBound = true;
  }
  for (const [peer, m] of lists) {
    for (const [k, l] of m) (out[peer] as unknown as Record<string, number | undefined>)[k] = median(l);
  }
  return out;
}

const MODES = [['single', 'one user per call (`/api/publish`)'], ['batch', '1,000 users per call (`/api/broadcast`)']] as const;

function us(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${fmtNum(v)} µs`;
}

/**
 * Target 3 of issue 19: Tidings ≥ 2× Socket.IO and ≥ 0.8× the raw ws map, per mode, at saturation;
 * the server CPU per publish call of both sides (the API's per-call cost) beside the rates.
 */
export function perUserTargets(s: PerUserSummary, users: number): TargetResult[] {
  const out: TargetResult[] = [];
  for (const [mode, words] of MODES) {
    const tidings = s[`tidings/${mode}`];
    const t = tidings?.rate;
    for (const [peer, name, min] of [['socketio', 'Socket.IO (room per user)', 2], ['ws-map', 'raw ws (Map user → socket)', 0.8]] as const) {
      const other = s[`${peer}/${mode}`];
      const o = other?.rate;
      const value = t !== undefined && o !== undefined && o > 0 ? t / o : undefined;
      out.push({
        id: `per-user-${mode}-${peer}`, issue: '19.3', text: `Per-user delivery, ${users.toLocaleString('en-US')} users, ${words}: Tidings vs ${name}`,
        value, goal: `≥ ${min}×`, met: value === undefined ? undefined : value >= min,
        measured: `${fmtNum(t)} vs ${fmtNum(o)} msg/s; server CPU per call ${us(tidings?.cpuPerCallUs)} vs ${us(other?.cpuPerCallUs)}`,
      });
    }
  }
  return out;
}

function ms(v: number | undefined, lower = false): string {
  if (v === undefined) return 'n/a';
  const s = v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 10 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`;
  return lower ? `≥ ${s}` : s;
}

/** The per-user section: one row per peer and mode. `labels`: peer id → label. */
export function renderPerUser(s: PerUserSummary, labels: Record<string, string>, users: number, offered: number): string[] {
  if (Object.keys(s).length === 0) return [];
  const lines = [
    `### Per-user delivery, ${users.toLocaleString('en-US')} users`,
    '',
    `Each client subscribes only to its own channel; every message goes to one user. Saturation: 64 publisher connections back to back; latency at ${fmtNum(offered)} copies/s offered. Server CPU per call is the server's CPU time over the calls it answered at saturation (the copies' fan-out included); the answer time is the calls' mean at the offered rate.`,
    '',
    '| peer | per call | delivered msg/s | calls/s | server CPU per call | p50 | p99 | delivered at offered rate | call answer time |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [mode] of MODES) {
    for (const [peer, label] of Object.entries(labels)) {
      const r = s[`${peer}/${mode}`];
      if (!r) continue;
      lines.push(`| ${label} | ${mode === 'single' ? 'one user' : '1,000 users'} | ${fmtNum(r.rate)} | ${fmtNum(r.callsPerSec)} | `
        + `${r.cpuPerCallUs === undefined ? 'n/a' : `${fmtNum(r.cpuPerCallUs)} µs`} | ${ms(r.p50)} | ${ms(r.p99, r.latencyLowerBound)} | ${fmtNum(r.offeredRate)} | ${ms(r.callMeanMs)} |`);
    }
  }
  const errors = Object.entries(s).flatMap(([k, r]) => r.errors.map((e) => `${k}: ${e.slice(0, 200)}`));
  if (errors.length > 0) lines.push('', `Failed runs: ${errors.map((e) => `\`${e}\``).join('; ')}.`);
  lines.push('');
  return lines;
}

/** The chart's per-user panel: delivered msg/s at saturation, per peer and mode. */
export function perUserPanel(s: PerUserSummary, labels: Record<string, string>, users: number): Panel[] {
  const values = MODES.flatMap(([mode]) => Object.entries(labels).map(([peer, label]) => {
    const v = s[`${peer}/${mode}`]?.rate;
    return { label: `${label.split(',')[0]!}, ${mode === 'single' ? '1 user' : '1,000 users'}/call`, value: v, text: fmtNum(v), tidings: peer === 'tidings' };
  }));
  return values.some((v) => v.value !== undefined) ? [{ title: `Per-user delivery, ${users / 1000}k users (msg/s)`, log: false, values }] : [];
}

/** What the 100k scenario measured (bench/scenarios/cluster-100k.ts), or its error. */
export interface ClusterSummary {
  nodes?: number;
  wanted?: number;
  connected?: number;
  connectSeconds?: number;
  bytesPerConn?: number;
  userBytesPerConn?: number;
  kernelBytesPerConn?: number;
  slabBytesPerConn?: number;
  reachAllMs?: number;
  sustainedMsgsPerSec?: number;
  nodesCpu?: number;
  window?: number;
  peakRssKb?: number;
  seconds?: number;
  closedByServer?: number;
  error?: string;
}

export function summarizeCluster(runs: readonly RunRecord[]): ClusterSummary | undefined {
  const run = runs.find((r) => r.kind === 'cluster');
  if (!run) return undefined;
  if (run.error !== undefined) return { error: run.error };
  const c = run.result?.cluster;
  const get = (k: keyof ClusterSummary): number | undefined => field(c, k);
  return {
    nodes: get('nodes'), wanted: get('wanted'), connected: get('connected'), connectSeconds: get('connectSeconds'),
    bytesPerConn: get('bytesPerConn'), userBytesPerConn: get('userBytesPerConn'), kernelBytesPerConn: get('kernelBytesPerConn'),
    slabBytesPerConn: get('slabBytesPerConn'), reachAllMs: get('reachAllMs'), sustainedMsgsPerSec: get('sustainedMsgsPerSec'),
    nodesCpu: get('nodesCpu'), window: get('window'), peakRssKb: get('peakRssKb'), seconds: get('seconds'), closedByServer: get('closedByServer'),
  };
}

/**
 * Target 6: hold 100k WebSocket subscribers of one channel on this box; and the three figures the
 * issue asks for without a goal (memory per connection, one broadcast to all, sustained fan-out).
 */
export function clusterTargets(c: ClusterSummary | undefined, goal = 100_000): TargetResult[] {
  if (!c) return [];
  const n = c.connected;
  const where = `${fmtNum(c.connected ?? goal)} subscribers, ${c.nodes ?? '?'} nodes`;
  const failed = c.error !== undefined ? `failed: ${c.error.slice(0, 120)}` : undefined;
  const perCpu = c.sustainedMsgsPerSec !== undefined && c.nodesCpu !== undefined && c.nodesCpu > 0 ? c.sustainedMsgsPerSec / c.nodesCpu : undefined;
  return [{
    id: 'cluster-100k', issue: '19.6', text: `${fmtNum(goal)} WebSocket subscribers of one channel on this box (${c.nodes ?? '?'} nodes on one Redis)`,
    value: n, goal: `≥ ${fmtNum(goal)}`, met: n === undefined ? undefined : n >= goal && (c.closedByServer ?? 0) === 0,
    measured: failed ?? `${fmtNum(n)} held, ${fmtNum(c.closedByServer ?? 0)} closed by the server`,
  }, {
    id: 'cluster-memory', issue: '19.6', text: `Memory per connection, ${where}: node RSS + kernel socket memory`,
    value: c.bytesPerConn, valueText: kb(c.bytesPerConn), goal: MEASURED, met: undefined,
    measured: failed ?? `${kb(c.bytesPerConn)}: node RSS ${kb(c.userBytesPerConn)}, kernel socket objects ${kb(c.slabBytesPerConn)}, kernel TCP buffers ${kb(c.kernelBytesPerConn)}`,
  }, {
    id: 'cluster-reach', issue: '19.6', text: `Time for one broadcast to reach all, ${where}`,
    value: c.reachAllMs, valueText: ms(c.reachAllMs), goal: MEASURED, met: undefined,
    measured: failed ?? `${ms(c.reachAllMs)} from the publish call to the last copy (median of one-at-a-time broadcasts)`,
  }, {
    id: 'cluster-sustained', issue: '19.6', text: `Sustained fan-out across nodes, ${where}`,
    value: c.sustainedMsgsPerSec, goal: MEASURED, met: undefined,
    measured: failed ?? `${fmtNum(c.sustainedMsgsPerSec)} msg/s delivered; nodes' CPU ${c.nodesCpu?.toFixed(2) ?? 'n/a'}, ${fmtNum(perCpu)} msg per CPU-s`,
  }];
}

function kb(v: number | undefined): string {
  return v === undefined ? 'n/a' : `${(v / 1024).toFixed(1)} KB`;
}

/** The chart's 100k panel: memory per connection and its parts (KB), when the scenario ran. */
export function clusterPanel(c: ClusterSummary | undefined): Panel[] {
  if (!c || c.bytesPerConn === undefined) return [];
  const bar = (label: string, v: number | undefined): Panel['values'][number] => ({ label, value: v, text: kb(v), tidings: true });
  return [{
    title: `${fmtNum(c.connected)} subscribers, ${c.nodes ?? '?'} nodes: memory per connection (KB)`, log: false,
    values: [bar('total', c.bytesPerConn), bar('node RSS', c.userBytesPerConn), bar('kernel socket objects', c.slabBytesPerConn),
      bar('kernel TCP buffers', c.kernelBytesPerConn)],
  }];
}

/** The 100k section. */
export function renderCluster(c: ClusterSummary | undefined): string[] {
  if (!c) return [];
  const lines = [`### ${fmtNum(c.wanted)} subscribers, ${c.nodes ?? '?'} nodes on one Redis`, ''];
  if (c.error !== undefined) return [...lines, `Failed: \`${c.error.slice(0, 300)}\``, ''];
  lines.push(
    '| connected | connect time | memory / conn | of which node RSS | kernel socket objects | kernel TCP buffers | one broadcast reaches all | sustained fan-out | nodes\' CPU | peak RSS (all processes) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${fmtNum(c.connected)} | ${c.connectSeconds?.toFixed(1) ?? 'n/a'} s | ${kb(c.bytesPerConn)} | ${kb(c.userBytesPerConn)} | ${kb(c.slabBytesPerConn)} | ${kb(c.kernelBytesPerConn)} | `
      + `${ms(c.reachAllMs)} | ${fmtNum(c.sustainedMsgsPerSec)} msg/s | ${c.nodesCpu?.toFixed(2) ?? 'n/a'} | ${c.peakRssKb === undefined ? 'n/a' : `${(c.peakRssKb / 1024 ** 2).toFixed(2)} GiB`} |`,
    '',
    `Every node pinned to the server CPU, one load generator per node on the other; sustained: at most ${c.window ?? '?'} broadcasts not yet delivered to every subscriber. Kernel socket objects: half the growth of the TCP, socket inode, file and epoll slab caches (both ends of a loopback connection hold the same); kernel TCP buffers: the growth of /proc/net/sockstat \`mem\` (the whole machine's, 0 when other work shrank it). The scenario took ${c.seconds?.toFixed(0) ?? '?'} s.`,
    '',
  );
  return lines;
}
