/**
 * Summarizes a V8 CPU profile (the `.cpuprofile` JSON `node --cpu-prof` writes) into self time by
 * function and by category, and renders it as markdown. Pure functions, unit-tested in
 * test/bench/cpuprofile.test.ts; bench/profile.ts records the profiles.
 */

/** Where a profile node's code is: V8's call frame (lineNumber 0-based, -1 for native code). */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

/** The parts of a `.cpuprofile` used here. Times in µs of the monotonic clock; `samples[i]` is a node id, taken `timeDeltas[i]` µs after sample i − 1 (the first after startTime). */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** One row of a table: self samples and their share of all samples and of the busy (non-idle) ones, 0–1. */
export interface SelfRow {
  name: string;
  /** Function rows: `path:line` (repository path, `node:` module, `node_modules/…`) or `native`. */
  where?: string;
  samples: number;
  share: number;
  busyShare: number;
}

export interface ProfileSummary {
  /** Samples counted (those in the window, when one was given). */
  samples: number;
  /** All samples of the profile. */
  totalSamples: number;
  /** Wall time the counted samples span, µs. */
  spanUs: number;
  /** Whether the window held no sample, so the whole profile was counted instead. */
  windowMissed: boolean;
  idleShare: number;
  functions: SelfRow[];
  categories: SelfRow[];
}

export interface SummaryOptions {
  /** The repository root (absolute): `file://<root>/` is cut from script URLs. */
  root: string;
  /** Count only samples taken in [startUs, endUs) (the profile's clock); all of them when absent. */
  window?: { startUs: number; endUs: number };
  /** Function rows kept, the largest first (default 25). */
  top?: number;
}

const IDLE = '(idle)';
const GC = '(garbage collector)';

/** Native stream-handle writes: each is a `write(2)`/`writev(2)` system call (on loopback, with the receiver's TCP work). */
const WRITE_CALLS = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String']);
const JSON_CALLS = new Set(['stringify', 'parse']);
/** Native methods of a zlib handle. */
const ZLIB_CALLS = new Set(['writeSync', 'write', 'params', 'reset']);
const HTTP_CALLS = new Set(['execute', 'finish', 'consume', 'unconsume']);
const STREAM_MODULES = ['node:net', 'node:stream', 'node:internal/streams/', 'node:internal/stream_base_commons', 'node:internal/net'];

export const CATEGORY = {
  idle: 'idle',
  write: 'write/writev system calls',
  gc: 'garbage collection',
  streams: 'node streams and net internals',
  http: 'node:http (parser, requests, responses)',
  json: 'JSON.parse / JSON.stringify',
  zlib: 'zlib',
  crypto: 'node:crypto (hashes, random ids)',
  async: 'microtasks and process.nextTick',
  node: 'other node: internals (events, timers, buffers, url)',
  program: '(program): native code outside JS functions',
  other: 'other',
} as const;

/** A script URL as a short path: the repository path, a `node:` module, `node_modules/<package>/…`. */
export function shortUrl(url: string, root: string): string {
  const base = `file://${root.replace(/\/$/, '')}/`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 1);
  if (url.startsWith(base)) return url.slice(base.length);
  return url.startsWith('file://') ? url.slice('file://'.length) : url;
}

/**
 * The category of a frame: one of CATEGORY, `Tidings: <file>` for the repository's packages,
 * `library: <package>` for node_modules.
 */
export function categorize(frame: CallFrame, root: string): string {
  const { functionName: name, url } = frame;
  if (url === '') {
    if (name === IDLE) return CATEGORY.idle;
    if (name === GC) return CATEGORY.gc;
    if (WRITE_CALLS.has(name)) return CATEGORY.write;
    if (JSON_CALLS.has(name)) return CATEGORY.json;
    if (ZLIB_CALLS.has(name)) return CATEGORY.zlib;
    if (HTTP_CALLS.has(name)) return CATEGORY.http;
    if (name === '(program)') return CATEGORY.program;
    if (name === 'runMicrotasks') return CATEGORY.async;
    return CATEGORY.other;
  }
  if (url.startsWith('node:_http_') || url === 'node:http' || url.startsWith('node:internal/http')) return CATEGORY.http;
  if (url === 'node:zlib' || url.startsWith('node:internal/zlib')) return CATEGORY.zlib;
  if (url === 'node:crypto' || url.startsWith('node:internal/crypto/')) return CATEGORY.crypto;
  if (url === 'node:internal/process/task_queues') return CATEGORY.async;
  if (STREAM_MODULES.some((m) => (m.endsWith('/') ? url.startsWith(m) : url === m))) return CATEGORY.streams;
  if (url.startsWith('node:')) return CATEGORY.node;
  const path = shortUrl(url, root);
  if (path.startsWith('node_modules/')) {
    const parts = path.split('/');
    return `library: ${parts[1]?.startsWith('@') === true ? `${parts[1]}/${parts[2] ?? ''}` : parts[1] ?? ''}`;
  }
  if (path.startsWith('packages/')) return `Tidings: ${path}`;
  return CATEGORY.other;
}

/** Self samples by function and by category, largest first; idle samples count in the total but not in "busy". */
export function summarizeProfile(profile: CpuProfile, opts: SummaryOptions): ProfileSummary {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const times: number[] = [];
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    times.push(t);
  }
  const inWindow = (i: number): boolean => opts.window === undefined || (times[i]! >= opts.window.startUs && times[i]! < opts.window.endUs);
  let picked = samples.map((_, i) => i).filter(inWindow);
  const windowMissed = opts.window !== undefined && picked.length === 0;
  if (windowMissed) picked = samples.map((_, i) => i);

  const byFunction = new Map<string, { name: string; where: string; samples: number }>();
  const byCategory = new Map<string, number>();
  let idle = 0;
  for (const i of picked) {
    const frame = nodes.get(samples[i]!)?.callFrame ?? { functionName: '(unknown)', url: '', lineNumber: -1 };
    const category = categorize(frame, opts.root);
    if (category === CATEGORY.idle) idle++;
    byCategory.set(category, (byCategory.get(category) ?? 0) + 1);
    const where = frame.url === '' ? 'native' : `${shortUrl(frame.url, opts.root)}:${frame.lineNumber + 1}`;
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const key = `${name}\u0000${where}`;
    const row = byFunction.get(key) ?? { name, where, samples: 0 };
    row.samples++;
    byFunction.set(key, row);
  }
  const total = picked.length;
  const busy = total - idle;
  const row = (name: string, count: number, where?: string): SelfRow => ({
    name, ...(where === undefined ? {} : { where }), samples: count, share: total > 0 ? count / total : 0,
    busyShare: busy > 0 && name !== IDLE && name !== CATEGORY.idle ? count / busy : 0,
  });
  const bySize = (a: SelfRow, b: SelfRow): number => b.samples - a.samples || a.name.localeCompare(b.name);
  const functions = [...byFunction.values()].map((r) => row(r.name, r.samples, r.where)).sort(bySize).slice(0, opts.top ?? 25);
  const categories = [...byCategory].map(([name, count]) => row(name, count)).sort(bySize);
  const span = picked.length > 0 ? times[picked[picked.length - 1]!]! - (times[picked[0]!]! - (deltas[picked[0]!] ?? 0)) : 0;
  return { samples: total, totalSamples: samples.length, spanUs: span, windowMissed, idleShare: total > 0 ? idle / total : 0, functions, categories };
}

function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** What bench/profile.ts tells about the run, for the markdown file. */
export interface ProfileMeta {
  title: string;
  command: string;
  date: string;
  machine: string;
  /** Lines on the setup and the load generator's figures. */
  notes: string[];
}

/** The markdown file: the run, then self time by category and the top functions. */
export function renderProfile(s: ProfileSummary, meta: ProfileMeta): string {
  const lines = [
    `# ${meta.title}`,
    '',
    `\`${meta.command}\`, ${meta.date}.`,
    '',
    `- Machine: ${meta.machine}`,
    ...meta.notes.map((n) => `- ${n}`),
    `- Profile: ${s.samples.toLocaleString('en-US')} samples over ${(s.spanUs / 1e6).toFixed(1)} s`
      + `${s.windowMissed ? ' (the whole profile: no sample fell in the load window)' : ` in the load window (of ${s.totalSamples.toLocaleString('en-US')} in the whole profile)`}`
      + `; the server was idle in ${pct(s.idleShare)} of them. “Self”: samples with the function on top of the stack; “of busy”: share of the non-idle samples.`,
    '',
    '## Self time by category',
    '',
    '| category | samples | self | of busy |',
    '|---|---:|---:|---:|',
    ...s.categories.map((r) => `| ${cell(r.name)} | ${r.samples.toLocaleString('en-US')} | ${pct(r.share)} | ${r.name === CATEGORY.idle ? '' : pct(r.busyShare)} |`),
    '',
    `## Self time by function (top ${s.functions.length})`,
    '',
    '| function | where | samples | self | of busy |',
    '|---|---|---:|---:|---:|',
    ...s.functions.map((r) => `| \`${cell(r.name)}\` | ${cell(r.where ?? '')} | ${r.samples.toLocaleString('en-US')} | ${pct(r.share)} | ${r.name === IDLE ? '' : pct(r.busyShare)} |`),
    '',
  ];
  return lines.join('\n');
}
