/**
 * 100k subscribers on one box (issue 19, target 6). This machine caps open files at 20,000 per
 * process, so: several Tidings nodes (`--engine redis`, all pinned to the server CPU) on one
 * redis-server started here, and one load generator process per node (`--listen`, pinned to the
 * client CPU), every subscriber on the channel `bench`. Measured:
 *
 * - memory per connection: (Σ node RSS + kernel socket objects + kernel TCP buffers) after
 *   connecting − before, ÷ connections; RSS read after a forced GC (SIGUSR2); socket objects: half
 *   the growth of the socket slab caches (/proc/slabinfo; both ends are on this box); TCP buffers:
 *   the growth of /proc/net/sockstat `TCP … mem` (pages, the whole machine's);
 * - time for one broadcast to reach all: a single publication (`POST /api/publish` to one node,
 *   stamped with CLOCK_MONOTONIC, which the load generators share) → the last of its copies, over
 *   REACH_SAMPLES publications one at a time;
 * - sustained fan-out: publications back to back, at most WINDOW not yet delivered to every
 *   subscriber, for the phase; delivered copies per second across the nodes, and their CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_KEY, nodeArgv, spawnPinned, startArgv, type RunningServer } from '../lib/peers.js';
import { errorText, type ScenarioContext } from './context.js';

const REACH_SAMPLES = 5;
/** Sustained phase: publications not yet delivered to every subscriber, at most. */
export const WINDOW = 4;
const SIGUSR2 = 12;

export interface ClusterOptions {
  nodes: number;
  conns: number;
  /** Seconds of the sustained phase. */
  sustained: number;
}

/** One load generator in --listen mode, with what its progress lines said so far. */
interface Listener {
  child: ChildProcess;
  ready: Promise<number>;
  done: number;
  copies: number;
  result: Promise<Record<string, unknown> | undefined>;
}

/** Monotonic µs, the clock the load generator stamps receive times with (CLOCK_MONOTONIC). */
function monoUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The kernel's TCP memory in bytes (/proc/net/sockstat `TCP: … mem <pages>`). */
export function sockstatTcpBytes(text: string, pageSize = 4096): number {
  const m = /^TCP:.*\bmem (\d+)/m.exec(text);
  return m ? Number(m[1]) * pageSize : 0;
}

/**
 * Slab caches every TCP socket a process holds uses one object of each (its sock, inode, file,
 * epoll item). Its dentry (192 bytes) is left out: the machine's other work moves the dentry cache
 * by far more than that.
 */
const SOCKET_SLABS = ['TCP', 'sock_inode_cache', 'filp', 'eventpoll_epi'];

/** Bytes in use in the socket slab caches (/proc/slabinfo: active objects × object size). */
export function socketSlabBytes(text: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (SOCKET_SLABS.includes(f[0] ?? '')) total += Number(f[1]) * Number(f[3]);
  }
  return total;
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const pong = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'));
      s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')); });
      s.once('error', () => resolve(false));
    });
    if (pong) return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

function listen(ctx: ScenarioContext, port: number, pid: number, conns: number, onProgress: () => void): Listener {
  const child = spawnPinned([ctx.loadgen, '--proto', 'tws', '--port', String(port), '--pid', String(pid), '--conns', String(conns),
    '--sources', '16', '--listen', '3600', '--ready-timeout', '600'], ctx.clientCpu, { cwd: ctx.root });
  let out = '';
  let partial = '';
  let ready!: (n: number) => void;
  const l: Listener = { child, ready: new Promise((r) => { ready = r; }), done: 0, copies: 0, result: Promise.resolve(undefined) };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const p = /^progress (\d+) (\d+) (\d+)/.exec(line);
      if (p) {
        const done = Number(p[1]);
        if (done > l.done) doneAt(l.done, done, Number(p[2]));
        l.done = done;
        l.copies = Number(p[3]);
        onProgress();
        continue;
      }
      const r = /subscribers ready/.exec(line) ? /: (\d+) of/.exec(line) : null;
      if (r) ready(Number(r[1]));
      else if (line.trim() !== '' && !line.includes('listening')) ctx.log(`  loadgen: ${line}`);
    }
  });
  l.result = new Promise((resolve) => child.once('exit', () => {
    ready(0);
    try {
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, unknown>);
    } catch {
      resolve(undefined);
    }
  }));
  return l;
}

/** When each publication had reached every subscriber of every listener: seq → latest µs. */
const reachedAt = new Map<number, number>();

function doneAt(from: number, to: number, t: number): void {
  for (let s = from + 1; s <= to; s++) reachedAt.set(s, Math.max(reachedAt.get(s) ?? 0, t));
}

/** Runs the scenario once and records its result (kind `cluster`). */
export async function runCluster(ctx: ScenarioContext, opts: ClusterOptions): Promise<void> {
  const started = Date.now();
  const perNode = Math.ceil(opts.conns / opts.nodes);
  const procs: { redis?: ChildProcess; nodes: RunningServer[]; listeners: Listener[] } = { nodes: [], listeners: [] };
  let waiters: Array<() => void> = [];
  const progressed = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const nextProgress = (ms: number): Promise<void> => new Promise((resolve) => {
    waiters.push(resolve);
    setTimeout(resolve, ms);
  });
  const minDone = (): number => Math.min(...procs.listeners.map((l) => l.done));
  let peakKb = 0;
  const allPids = (): number[] => [...procs.nodes.map((n) => n.pid), ...procs.listeners.map((l) => l.child.pid ?? 0), procs.redis?.pid ?? 0]
    .filter((p) => p > 0);
  const samplePeak = (): void => {
    try {
      peakKb = Math.max(peakKb, allPids().reduce((a, p) => a + rssKb(p), 0));
    } catch { /* a process just ended */ }
  };
  const peakTimer = setInterval(samplePeak, 1000);
  reachedAt.clear();
  try {
    const redisPort = ctx.port();
    procs.redis = await startRedis(redisPort);
    for (let i = 0; i < opts.nodes; i++) {
      const port = ctx.port();
      const argv = [...nodeArgv(ctx.root), join(ctx.root, 'packages/cli/bin/tidings.js'), 'serve', '--port', String(port), '--host', '127.0.0.1',
        '--api-key', API_KEY, '--log-level', 'warn', '--max-connections', '200000', '--engine', 'redis', '--redis-url', `redis://127.0.0.1:${redisPort}`];
      procs.nodes.push(await startArgv(ctx.root, argv, port, '/healthz', ctx.serverCpu, ctx.serverLog, `cluster node ${i}`));
    }
    await ctx.waitQuiet();
    const memory = async (): Promise<{ rssKb: number; kernelBytes: number; slabBytes: number }> => {
      for (const n of procs.nodes) process.kill(n.pid, SIGUSR2);
      await sleep(1500);
      return { rssKb: procs.nodes.reduce((a, n) => a + rssKb(n.pid), 0), kernelBytes: sockstatTcpBytes(readOr('/proc/net/sockstat')),
        slabBytes: socketSlabBytes(readOr('/proc/slabinfo')) };
    };
    const before = await memory();
    ctx.log(`cluster: ${opts.nodes} nodes on one redis-server, connecting ${perNode * opts.nodes} subscribers`);
    const tConnect = Date.now();
    procs.listeners = procs.nodes.map((n) => listen(ctx, n.port, n.pid, perNode, progressed));
    const connected = (await Promise.all(procs.listeners.map((l) => l.ready))).reduce((a, b) => a + b, 0);
    const connectSeconds = (Date.now() - tConnect) / 1000;
    ctx.log(`  ${connected} connected in ${connectSeconds.toFixed(1)} s`);
    samplePeak();
    const after = await memory();
    const userBytes = (after.rssKb - before.rssKb) * 1024;
    // the kernel's TCP memory is the whole machine's: other work moves it too, so a drop counts as 0
    const kernelBytes = Math.max(0, after.kernelBytes - before.kernelBytes);
    // both ends of a loopback connection hold the same socket objects: half is the server's
    const slabBytes = (after.slabBytes - before.slabBytes) / 2;

    let seq = 0;
    const data = (s: number): string => {
      const head = `{"bt":${monoUs()},"seq":${s},"p":"`;
      return `${head}${'x'.repeat(Math.max(0, 98 - head.length))}"}`;
    };
    const publish = async (): Promise<void> => {
      const s = ++seq;
      const node = procs.nodes[s % procs.nodes.length]!;
      const res = await fetch(`http://127.0.0.1:${node.port}/api/publish`, {
        method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: `{"channel":"bench","data":${data(s)}}`,
      });
      if (!res.ok) throw new Error(`publish answered ${res.status}`);
      await res.arrayBuffer();
    };

    // one broadcast at a time: publish → its last copy anywhere
    const reachMs: number[] = [];
    for (let i = 0; i < REACH_SAMPLES; i++) {
      const t0 = monoUs();
      await publish();
      const deadline = Date.now() + 60_000;
      while (minDone() < seq && Date.now() < deadline) await nextProgress(500);
      const t = reachedAt.get(seq);
      if (minDone() >= seq && t !== undefined) reachMs.push((t - t0) / 1000);
      await sleep(300);
    }
    ctx.log(`  one broadcast reaches all in ${reachMs.map((v) => v.toFixed(0)).join(', ')} ms`);

    // sustained: at most WINDOW publications not yet everywhere
    const cpu0 = procs.nodes.reduce((a, n) => a + cpuSeconds(n.pid), 0);
    const w0 = Date.now();
    const tStart = monoUs();
    const seqStart = seq;
    const until = Date.now() + opts.sustained * 1000;
    while (Date.now() < until) {
      if (seq - minDone() < WINDOW) await publish();
      else await nextProgress(1000);
    }
    const seqEnd = minDone();
    const cpu1 = procs.nodes.reduce((a, n) => a + cpuSeconds(n.pid), 0);
    const wallS = (Date.now() - w0) / 1000;
    const tEnd = reachedAt.get(seqEnd);
    const sustained = tEnd !== undefined && tEnd > tStart && seqEnd > seqStart ? ((seqEnd - seqStart) * connected) / ((tEnd - tStart) / 1e6) : undefined;
    samplePeak();
    ctx.log(`  sustained ${sustained?.toFixed(0) ?? 'n/a'} msg/s (${seqEnd - seqStart} broadcasts), nodes' CPU ${((cpu1 - cpu0) / wallS).toFixed(2)}`);

    for (const l of procs.listeners) l.child.kill('SIGTERM');
    const results = await Promise.all(procs.listeners.map((l) => l.result));
    const closed = results.reduce((a, r) => a + (typeof r?.closedByServer === 'number' ? r.closedByServer : 0), 0);
    const sorted = [...reachMs].sort((a, b) => a - b);
    ctx.record({
      kind: 'cluster', peer: 'tidings-cluster', conns: connected, round: 1,
      result: {
        cluster: {
          nodes: opts.nodes, wanted: perNode * opts.nodes, connected, connectSeconds,
          rssBeforeKb: before.rssKb, rssAfterKb: after.rssKb, kernelBeforeBytes: before.kernelBytes, kernelAfterBytes: after.kernelBytes,
          slabBeforeBytes: before.slabBytes, slabAfterBytes: after.slabBytes,
          userBytesPerConn: connected > 0 ? userBytes / connected : undefined,
          kernelBytesPerConn: connected > 0 ? kernelBytes / connected : undefined,
          slabBytesPerConn: connected > 0 ? slabBytes / connected : undefined,
          bytesPerConn: connected > 0 ? (userBytes + kernelBytes + slabBytes) / connected : undefined,
          reachAllMs: sorted[Math.floor(sorted.length / 2)], reachAllSamplesMs: reachMs,
          sustainedMsgsPerSec: sustained, sustainedBroadcasts: seqEnd - seqStart, window: WINDOW,
          nodesCpu: (cpu1 - cpu0) / wallS, closedByServer: closed, peakRssKb: peakKb,
          seconds: (Date.now() - started) / 1000,
        },
      },
    });
  } catch (err) {
    ctx.record({ kind: 'cluster', peer: 'tidings-cluster', conns: opts.conns, round: 1, error: errorText(err) });
    ctx.log(`  cluster failed: ${errorText(err).slice(0, 400)}`);
  } finally {
    clearInterval(peakTimer);
    for (const l of procs.listeners) l.child.kill('SIGKILL');
    for (const n of procs.nodes) await n.stop();
    procs.redis?.kill('SIGKILL');
  }
}
