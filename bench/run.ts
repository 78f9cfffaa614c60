/**
 * `npm run bench [-- --quick]`: Tidings side by side with raw ws, Socket.IO and a plain SSE server.
 *
 * Every server under test runs pinned to one core, the C load generator (bench/loadgen) to the
 * other. Peers alternate within a round, and the order rotates between rounds; the report gives
 * medians. Results: bench/results/<date>.json, docs/benchmarks.json, the generated section of
 * docs/benchmarks.md and docs/benchmarks.svg.
 *
 * Needs Linux, gcc, zlib's headers and taskset (Debian: `apt-get install -y gcc zlib1g-dev util-linux`), and a built tree
 * (`npm run build`, which this script runs).
 */
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLoadgen, runLoadgen, type LoadgenResult } from './lib/loadgen.js';
import { API_KEY, PEERS, SCRAPE_INTERVAL_MS, handshakeArgs, publishArgs, scraped, startServer, type Peer, type RunningServer } from './lib/peers.js';
import { wireBytesPerNotification } from './lib/wire-bytes.js';
import { fmtConns, renderMarkdown, renderSvg, summarize, type ReportMeta, type RunRecord } from './lib/report.js';
import { compressionPanel, compressionSummary, compressionTargets, type CompressionRun } from './lib/compression-report.js';
import { clusterPanel, clusterTargets, perUserPanel, perUserTargets, renderCluster, renderPerUser, summarizeCluster, summarizePerUser } from './lib/scenario-report.js';
import { runCluster } from './scenarios/cluster-100k.js';
import type { ScenarioContext } from './scenarios/context.js';
import { OFFERED, PER_USER_PEERS, runPerUser } from './scenarios/per-user.js';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

if (flag('--help')) {
  console.log(`usage: npm run bench [-- options]
  --quick             one round, short phases, 10k subscribers only, without the publishing runs of
                      the --metrics off, send-per-client ws and plain SSE peers (< 3 minutes)
  --rounds N          rounds of every scenario (default 3; --quick: 1)
  --conns N           subscribers in the main scenarios (default 10000)
  --peers a,b         only these peers (${PEERS.map((p) => p.id).join(', ')})
  --only a,b          only these scenarios: idle, suite, fanout, handshake, compression, per-user, cluster
                      (--quick runs compression, per-user and cluster only when --only names them)
  --cluster-conns N   subscribers of the cluster scenario (default 100000)
  --cluster-nodes K   Tidings nodes of the cluster scenario (default 6)
  --no-docs           do not touch docs/ (results still go to bench/results/)
A CPU profile of the Tidings server in one scenario: npm run bench:profile -- --help
Needs Linux, gcc, zlib headers and taskset (Debian: apt-get install -y gcc zlib1g-dev util-linux).`);
  process.exit(0);
}

const quick = flag('--quick');
const rounds = Number(opt('--rounds') ?? (quick ? 1 : 3));
const mainConns = Number(opt('--conns') ?? 10_000);
const onlyPeers = opt('--peers')?.split(',');
const onlyScenarios = opt('--only')?.split(',');
const writeDocs = !flag('--no-docs');
const clusterConns = Number(opt('--cluster-conns') ?? 100_000);
const clusterNodes = Number(opt('--cluster-nodes') ?? 6);

const T = quick
  ? { warmup: 1, fanout: 1.5, latency: 2, drain: 2, overload: 1.5, settle: 0.5, hold: 0, handshake: 1.5, handshakeWarmup: 1, extraFanout: 0 }
  : { warmup: 1, fanout: 5, latency: 10, drain: 15, overload: 5, settle: 1, hold: 30, handshake: 5, handshakeWarmup: 1, extraFanout: 3 };
const PUBLISHERS = 16;
const HANDSHAKE_CONCURRENCY = 128;
/** The largest fan-out run, when the open-files limit allows it (16 source addresses give ~450k ports). */
const MAX_CONNS = 50_000;
/** How long a run waits for other work on the machine to calm down before it starts anyway. */
const QUIET_WAIT_MS = quick ? 2000 : 20_000;
const LAG_CAP = 200;
const SIGUSR2 = 12;

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function has(cmd: string): boolean {
  try {
    execSync(`command -v ${cmd}`, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function preflight(): { serverCpu: number | undefined; clientCpu: number | undefined; nofile: number } {
  if (process.platform !== 'linux') throw new Error('the benchmarks need Linux (epoll, /proc, taskset)');
  const missing = ['gcc', 'taskset'].filter((c) => !has(c));
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: on Debian/Ubuntu run \`apt-get install -y gcc util-linux\``);
  const n = cpus().length;
  const nofile = Number(execSync('ulimit -Hn', { shell: '/bin/sh' }).toString().trim()) || 1024;
  if (n < 2) log('only one CPU: server and load generator will share it, figures are not comparable with the docs');
  return { serverCpu: n >= 2 ? 0 : undefined, clientCpu: n >= 2 ? 1 : undefined, nofile };
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function machine(): string[] {
  const cpu = cpus();
  const load = loadavg().map((l) => l.toFixed(2)).join(', ');
  return [
    `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free), Linux ${release()}, Node.js ${process.version}`,
    `Libraries: ws ${version('ws')}, socket.io ${version('socket.io')}; load generator: bench/loadgen (C, gcc -O2, epoll, one thread)`,
    `Load average when the run ended: ${load} (other work on the machine adds noise)`,
  ];
}

let nextPort = 19_000 + Math.floor(Math.random() * 2000);

/**
 * Scrapes `/metrics` every SCRAPE_INTERVAL_MS (as Prometheus would, only more often) until the
 * returned function is called, which resolves with the number of good scrapes.
 */
function scrapeEvery(port: number): () => Promise<number> {
  let ok = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    fetch(`http://127.0.0.1:${port}/metrics`)
      .then(async (res) => { if ((await res.text()).includes('tidings_connections')) ok++; })
      .catch(() => undefined)
      .finally(() => { busy = false; });
  }, SCRAPE_INTERVAL_MS);
  return async () => {
    clearInterval(timer);
    return ok;
  };
}

async function withServer<R>(peer: Peer, serverCpu: number | undefined, logFile: string, fn: (pid: number, port: number) => Promise<R>): Promise<R> {
  const port = nextPort++;
  const server = await startServer(root, peer, port, serverCpu, logFile);
  const stopScraping = scraped(peer) ? scrapeEvery(port) : undefined;
  try {
    return await fn(server.pid, port);
  } finally {
    if (stopScraping) log(`  /metrics scraped ${await stopScraping()} times`);
    await server.stop();
    await sleep(100);
  }
}

/** Busy share of all CPUs over `ms` (from /proc/stat), 0–1. */
async function cpuBusy(ms: number): Promise<number> {
  const read = (): number[] => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return [f.reduce((a, b) => a + b, 0), idle];
  };
  const [t0, i0] = read();
  await sleep(ms);
  const [t1, i1] = read();
  return t1! > t0! ? 1 - (i1! - i0!) / (t1! - t0!) : 0;
}

/**
 * Waits (up to `maxMs`) until other work on the machine leaves the CPUs mostly idle, so a run
 * starts on a quiet machine when there is one. Returns the busy share seen last.
 */
async function waitQuiet(maxMs: number): Promise<number> {
  const deadline = Date.now() + Math.min(maxMs, quietBudgetMs);
  const started = Date.now();
  let busy = await cpuBusy(quick ? 250 : 500);
  while (busy > 0.1 && Date.now() < deadline) busy = await cpuBusy(1000);
  if (quick) quietBudgetMs = Math.max(0, quietBudgetMs - (Date.now() - started));
  if (busy > 0.1) log(`  the machine is busy (${(busy * 100).toFixed(0)}% CPU used by other work); running anyway`);
  return busy;
}

/** --quick spends at most this long waiting for quiet in the whole run, to stay under 3 minutes. */
let quietBudgetMs = quick ? 8_000 : Infinity;

/** The server's RSS in KB after a full collection (SIGUSR2, see bench/peers/gc-hook.mjs). */
async function collectedRssKb(pid: number): Promise<number> {
  process.kill(pid, SIGUSR2);
  await sleep(1000);
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

function rotate<T>(list: readonly T[], by: number): T[] {
  const k = list.length === 0 ? 0 : by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

async function main(): Promise<void> {
  const { serverCpu, clientCpu, nofile } = preflight();
  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  log('building (npm run build) and the load generator');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const loadgen = buildLoadgen(root, join(resultsDir, 'bin'));
  const serverLog = join(resultsDir, 'servers.log');
  writeFileSync(serverLog, '');

  // Both sides need one descriptor per connection plus a few; the hard limit decides the largest run.
  const maxConns = Math.min(MAX_CONNS, Math.floor((nofile - 300) / 1000) * 1000);
  if (maxConns < mainConns) throw new Error(`the open-files hard limit (${nofile}) allows ${maxConns} connections; pass --conns ${maxConns}`);
  const extraSizes = quick ? [] : [1000, maxConns].filter((n) => n !== mainConns);
  const peers = PEERS.filter((p) => !onlyPeers || onlyPeers.includes(p.id));
  const want = (s: string): boolean => !onlyScenarios || onlyScenarios.includes(s);
  // issue 19's heavier scenarios: full runs, or --quick when named
  const wantHeavy = (s: string): boolean => (quick ? onlyScenarios?.includes(s) === true : want(s));
  const runs: RunRecord[] = [];
  const compressionRuns: CompressionRun[] = [];
  const wireBytes: Record<string, number> = {};
  const started = Date.now();
  const ctx: ScenarioContext = {
    root, loadgen, serverCpu, clientCpu, serverLog, resultsDir, quick,
    port: () => nextPort++, waitQuiet: () => waitQuiet(QUIET_WAIT_MS), log, record: (run) => runs.push(run),
  };
  const common = ['--warmup', String(T.warmup), '--sources', '16'];

  const record = async (kind: RunRecord['kind'], peer: Peer, conns: number, round: number, args: string[], timeoutMs: number): Promise<void> => {
    const busyBefore = await waitQuiet(QUIET_WAIT_MS);
    log(`${kind} ${peer.id} ${conns} (round ${round})`);
    try {
      const result: LoadgenResult = await withServer(peer, serverCpu, serverLog, (pid, port) =>
        runLoadgen(loadgen, ['--proto', peer.proto, '--port', String(port), '--pid', String(pid), ...common, ...args], clientCpu, root, timeoutMs));
      runs.push({ kind, peer: peer.id, conns, round, result, busyBefore });
      log(`  ${brief(result)}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      runs.push({ kind, peer: peer.id, conns, round, error: message });
      log(`  failed: ${message.slice(0, 400)}`);
    }
  };

  /**
   * Idle memory. Every peer's server starts; with a hold time they first sit idle for it (so V8's
   * memory reducer has shrunk the start-up heap); then each in turn is read (the baseline, right
   * before its connections), gets its connections and is read again right after connecting (as in
   * the issue's baseline); with
   * a hold time all then stay idle together for it and are measured again ("settled").
   */
  const idleStage = async (round: number): Promise<void> => {
    const list = rotate(peers.filter((p) => p.idle), round - 1);
    await waitQuiet(QUIET_WAIT_MS);
    const servers: Array<{ peer: Peer; server: RunningServer }> = [];
    try {
      for (const peer of list) servers.push({ peer, server: await startServer(root, peer, nextPort++, serverCpu, serverLog) });
      let settledBefore: number[] = [];
      if (T.hold > 0) {
        log(`idle: ${servers.length} servers started, letting them settle for ${T.hold} s`);
        await sleep(T.hold * 1000);
        settledBefore = await Promise.all(servers.map(({ server }) => collectedRssKb(server.pid)));
      }
      const running: Array<Promise<void>> = [];
      for (const [i, { peer, server }] of servers.entries()) {
        // the baseline is read right before this server's connections, whatever it did since it started
        const before = await collectedRssKb(server.pid);
        log(`idle ${peer.id} ${mainConns} (round ${round})`);
        const args = ['--proto', peer.proto, '--port', String(server.port), '--pid', String(server.pid), '--conns', String(mainConns),
          '--idle', '--gc-signal', String(SIGUSR2), '--settle', String(T.settle), '--hold', String(T.hold),
          '--rss-before', String(before), ...(T.hold > 0 ? ['--rss-settled-before', String(settledBefore[i])] : []), ...common];
        let measured!: () => void;
        const first = new Promise<void>((resolve) => { measured = resolve; });
        running.push(runLoadgen(loadgen, args, clientCpu, root, 300_000, (line) => { if (line.includes('idle measured')) measured(); })
          .then((result) => {
            runs.push({ kind: 'idle', peer: peer.id, conns: mainConns, round, result });
            log(`  ${peer.id}: ${brief(result)}`);
          }, (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            runs.push({ kind: 'idle', peer: peer.id, conns: mainConns, round, error: message });
            log(`  ${peer.id} failed: ${message.slice(0, 400)}`);
          })
          .finally(() => measured()));
        await first;
      }
      if (T.hold > 0) log(`  holding every peer's connections idle for ${T.hold} s`);
      await Promise.all(running);
    } finally {
      for (const { server } of servers) await server.stop();
    }
  };

  /**
   * permessage-deflate: saturated fan-out to mainConns subscribers of Tidings' JSON protocol with
   * `--ws-compression on` (the loadgen offers the extension and inflates) against the same without,
   * for the 100-byte bench message and a ~1 KB notification; bytes subscribers read per message.
   */
  const compressionStage = async (round: number): Promise<void> => {
    const base = PEERS.find((p) => p.id === 'tidings-ws')!;
    const deflate: Peer = { ...base, id: 'tidings-ws-deflate', label: 'Tidings WebSocket (JSON), --ws-compression on', serverArgs: ['--ws-compression', 'on'] };
    for (const notification of [false, true]) {
      for (const peer of rotate([base, deflate], round - 1)) {
        await waitQuiet(QUIET_WAIT_MS);
        const payload = notification ? 'notification' : 'message';
        log(`compression ${peer.id} ${payload} ${mainConns} (round ${round})`);
        const args = ['--proto', peer.proto, '--conns', String(mainConns), '--phase', `fanout:${T.fanout}`, ...publishArgs(peer), '--publishers', String(PUBLISHERS),
          ...(peer === deflate ? ['--deflate'] : []), ...(notification ? ['--notification'] : [])];
        try {
          const result = await withServer(peer, serverCpu, serverLog, (pid, port) =>
            runLoadgen(loadgen, ['--port', String(port), '--pid', String(pid), ...common, ...args], clientCpu, root, 300_000));
          const f = result.fanout as { msgsPerSec: number; subBytesPerMsg: number; serverCpu: number };
          compressionRuns.push({ peer: peer.id, payload, round, msgsPerSec: f.msgsPerSec, bytesPerMsg: f.subBytesPerMsg, serverCpu: f.serverCpu });
          log(`  ${brief(result)}, ${f.subBytesPerMsg} B/msg on the wire`);
        } catch (err) {
          log(`  failed: ${(err instanceof Error ? err.message : String(err)).slice(0, 400)}`);
        }
      }
    }
    if (round > 1) return;
    for (const mode of ['off', 'on', 'takeover']) {
      const peer: Peer = { ...base, id: `tidings-ws-${mode}`, serverArgs: ['--ws-compression', mode] };
      wireBytes[mode] = await withServer(peer, serverCpu, serverLog, (_pid, port) => wireBytesPerNotification(port, API_KEY, mode === 'off' ? undefined : 'permessage-deflate'));
      log(`  wire bytes per ~1 KB notification, --ws-compression ${mode}: ${wireBytes[mode]}`);
    }
  };

  for (let round = 1; round <= rounds; round++) {
    if (want('idle')) await idleStage(round);
    if (want('suite')) {
      // --quick: without the rows no target needs (the --metrics off row, send-per-client ws, plain SSE)
      for (const peer of rotate(peers.filter((p) => p.publishing && !(quick && p.fullOnly === true && !onlyPeers)), round - 1)) {
        const phases = ['--phase', `fanout:${T.fanout}`, '--phase', `latency:${T.latency}`, '--phase', `overload:${T.overload}`];
        const pub = [...publishArgs(peer), '--publishers', String(PUBLISHERS), '--lag-cap', String(LAG_CAP), '--rate', '10', '--drain', String(T.drain)];
        await record('suite', peer, mainConns, round, ['--conns', String(mainConns), ...phases, ...pub], 300_000);
      }
    }
    if (want('fanout')) {
      for (const size of extraSizes) {
        for (const peer of rotate(peers.filter((p) => p.publishing), round - 1)) {
          const args = ['--conns', String(size), '--phase', `fanout:${T.extraFanout}`, ...publishArgs(peer), '--publishers', String(PUBLISHERS)];
          await record('fanout', peer, size, round, args, 300_000);
        }
      }
    }
    // --quick stays under 3 minutes: the compression stage runs there only when asked for (--only compression)
    if (want('compression') && (!quick || onlyScenarios !== undefined)) await compressionStage(round);
    if (want('handshake')) {
      for (const peer of rotate(peers.filter((p) => p.handshake), round - 1)) {
        const args = ['--mode', 'handshake', '--duration', String(T.handshake), '--warmup', String(T.handshakeWarmup),
          '--concurrency', String(HANDSHAKE_CONCURRENCY)];
        await record('handshake', peer, 0, round, [...args, ...handshakeArgs(peer)], 60_000);
        // STOMP and Socket.IO need a second round trip before the connection is usable; this is the upgrade alone
        // (--quick: for Tidings' JSON protocol only, the one the target is about)
        if (peer.proto !== 'ws' && (!quick || peer.id === 'tidings-ws')) await record('handshake', peer, 0, round, [...args, '--upgrade-only'], 60_000);
      }
    }
    if (wantHeavy('per-user')) await runPerUser(ctx, round, mainConns);
  }
  if (wantHeavy('cluster')) {
    const perNode = Math.ceil(clusterConns / clusterNodes);
    if (perNode > nofile - 300) {
      const error = `${perNode} subscribers per node exceed the open-files limit (${nofile}); pass --cluster-nodes ${Math.ceil(clusterConns / (nofile - 300))}`;
      log(`cluster: ${error}`);
      runs.push({ kind: 'cluster', peer: 'tidings-cluster', conns: clusterConns, round: 1, error });
    } else {
      await runCluster(ctx, { nodes: clusterNodes, conns: clusterConns, sustained: quick ? 3 : 20 });
    }
  }

  const summary = summarize(runs);
  const perUser = summarizePerUser(runs);
  const cluster = summarizeCluster(runs);
  const perUserLabels = Object.fromEntries(PER_USER_PEERS.map((p) => [p.id, p.label]));
  const compression = compressionSummary(compressionRuns);
  const extra = {
    sections: [...renderPerUser(perUser, perUserLabels, mainConns, OFFERED), ...renderCluster(cluster)],
    targets: [...perUserTargets(perUser, mainConns), ...compressionTargets(compression, wireBytes, fmtConns(mainConns)), ...clusterTargets(cluster, clusterConns)],
  };
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const meta: ReportMeta = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    command,
    quick,
    rounds,
    conns: mainConns,
    fanoutSizes: [...new Set([...extraSizes, mainConns])].sort((a, b) => a - b),
    machine: machine(),
    notes: [
      `Server pinned to CPU ${serverCpu ?? '-'} and the load generator to CPU ${clientCpu ?? '-'} (taskset); open-files hard limit ${nofile}, so at most ${maxConns} connections per run.`,
      `Tidings: built CLI (\`packages/cli/bin/tidings.js serve\`), memory engine, default limits (--max-queue-bytes 1 MiB) except --max-connections 200000; metrics on and \`/metrics\` scraped every ${SCRAPE_INTERVAL_MS / 1000} s during each run, except the \`--metrics off\` row.`,
      `Idle memory: (RSS after − RSS before) ÷ connections, each after a forced GC (SIGUSR2 → gc() in every server); ${T.hold > 0 ? `“settled”: the same with both readings taken after ${T.hold} s idle (by then V8 has shrunk the young generation the connection burst grew).` : '“settled” is measured by full runs only.'} Handshakes: ${HANDSHAKE_CONCURRENCY} concurrent connect → handshake → close loops.`,
      `Publishing over HTTP keep-alive: the Tidings server API (POST /api/publish) or the peer's POST /publish; ${PUBLISHERS} publisher connections; overload keeps at most ${LAG_CAP} broadcasts not yet delivered to every subscriber.`,
      `Took ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    ],
  };
  const output = { meta, summary, perUser, cluster, runs, ...(compressionRuns.length > 0 ? { compression: { fanout: compression, wireBytesPerNotification: wireBytes } } : {}) };
  const stamp = meta.date.replace(/[:]/g, '-');
  writeFileSync(join(resultsDir, `${stamp}.json`), JSON.stringify(output, null, 2));
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(output, null, 2));
  const markdown = renderMarkdown(PEERS, summary, meta, 'benchmarks.svg', extra);
  if (writeDocs) {
    writeFileSync(join(root, 'docs/benchmarks.json'), JSON.stringify(output, null, 2) + '\n');
    const panels = [...perUserPanel(perUser, perUserLabels, mainConns), ...compressionPanel(wireBytes), ...clusterPanel(cluster)];
    writeFileSync(join(root, 'docs/benchmarks.svg'), renderSvg(PEERS, summary, mainConns, panels) + '\n');
    updateDoc(join(root, 'docs/benchmarks.md'), markdown);
    log('wrote docs/benchmarks.md, docs/benchmarks.svg, docs/benchmarks.json');
  }
  process.stdout.write(markdown + '\n');
  if (compressionRuns.length > 0) process.stdout.write(`\npermessage-deflate (medians): ${JSON.stringify({ fanout: compression, wireBytesPerNotification: wireBytes })}\n`);
}

const START = '<!-- bench:start (generated by npm run bench; edits between these markers are overwritten) -->';
const END = '<!-- bench:end -->';

/** Replaces the generated section of the doc, keeping the hand-written text around it. */
function updateDoc(file: string, section: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  const next = a >= 0 && b > a ? `${text.slice(0, a + START.length)}\n${section}\n${text.slice(b)}` : `${text.trimEnd()}\n\n${START}\n${section}\n${END}\n`;
  writeFileSync(file, next);
}

function brief(r: LoadgenResult): string {
  const parts: string[] = [];
  const get = (k: string, f: string): unknown => (r[k] as Record<string, unknown> | undefined)?.[f];
  if (r.connected !== undefined) parts.push(`connected ${String(r.connected)}/${String(r.conns)}`);
  if (r.idle) parts.push(`idle ${String(get('idle', 'bytesPerConn'))} B/conn, settled ${String(get('idle', 'settledBytesPerConn'))}`);
  if (r.fanout) parts.push(`fanout ${String(get('fanout', 'msgsPerSec'))} msg/s (cpu ${String(get('fanout', 'serverCpu'))})`);
  if (r.latency) parts.push(`p50 ${String(get('latency', 'p50Ms'))} p99 ${String(get('latency', 'p99Ms'))} ms`);
  if (r.overload) parts.push(`overload ${String(get('overload', 'msgsPerSec'))} msg/s`);
  if (r.handshake) parts.push(`${get('handshake', 'upgradeOnly') === true ? 'upgrades' : 'handshakes'} ${String(get('handshake', 'perSec'))}/s`);
  if (r.closedByServer) parts.push(`closed by server ${String(r.closedByServer)}`);
  return parts.join(', ');
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
