/**
 * `npm run bench:profile -- --scenario S [--peer P] [--seconds N] [--out FILE]`: a CPU profile of
 * the Tidings server in one benchmark scenario, summarized as markdown (self time by category and
 * by function).
 *
 * The server (built CLI, the bench's flags) runs under `node --cpu-prof` pinned to CPU 0, the C
 * load generator drives the scenario's load phase alone from CPU 1; then the server gets SIGTERM,
 * shuts down and exits normally, which is when node writes the profile. Only the samples taken in
 * the load generator's measured window count (connecting and closing the subscribers are left
 * out): the profile's clock and process.hrtime are both CLOCK_MONOTONIC.
 */
import { execFileSync, execSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderProfile, summarizeProfile, type CpuProfile } from './lib/cpuprofile.js';
import { buildLoadgen, runLoadgen, type LoadgenResult } from './lib/loadgen.js';
import { API_KEY, nodeArgv, PEERS, publishArgs, startArgv, type Peer } from './lib/peers.js';
import { fmtNum } from './lib/report.js';
import { PER_USER_PEERS, perUserArgs, type PerUserMode } from './scenarios/per-user.js';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

const SCENARIOS = ['fanout', 'latency', 'per-user-single', 'per-user-batch', 'compression'] as const;
type Scenario = (typeof SCENARIOS)[number];
const FANOUT_PEERS = ['tidings-ws', 'tidings-stomp', 'tidings-sse'];
const WARMUP = 1;
const PUBLISHERS = 16;

const HELP = `usage: npm run bench:profile -- --scenario S [options]
  --scenario S     fanout           saturated fan-out, one 100-byte message per broadcast (--peer)
                   latency          10 broadcasts/s, publish → receive (--peer)
                   per-user-single  per-user delivery at saturation, one user per POST /api/publish
                   per-user-batch   the same, 1,000 users per POST /api/broadcast
                   compression      fan-out of a ~1 KB notification with --ws-compression on
  --peer P         fanout, latency: ${FANOUT_PEERS.join(', ')} (default tidings-ws)
  --seconds N      the load phase, profiled (default 10)
  --conns N        subscribers or users (default 10000)
  --out FILE       the markdown summary (default bench/results/profiles/<scenario>-<peer>-<date>.md)
  --no-build       skip npm run build (the server runs packages/*/dist)
Writes the summary and keeps the raw .cpuprofile beside it in bench/results/profiles/ (open it in
Chrome DevTools or speedscope). Needs Linux, gcc, zlib headers and taskset, like npm run bench.`;

function log(msg: string): void {
  process.stderr.write(`[profile ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function fail(msg: string): never {
  process.stderr.write(`${msg}\n\n${HELP}\n`);
  process.exit(2);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The server's argv with node's profiling flags; the Tidings flags are those of bench/lib/peers.ts. */
function serverArgv(scenario: Scenario, peer: Peer | undefined, port: number, profDir: string, config: string): string[] {
  const [node, ...rest] = scenario.startsWith('per-user')
    ? PER_USER_PEERS.find((p) => p.tidings)!.argv(root, port, config)
    : [...nodeArgv(root), join(root, 'packages/cli/bin/tidings.js'), 'serve', '--port', String(port), '--host', '127.0.0.1',
      '--api-key', API_KEY, '--log-level', 'warn', '--max-connections', '200000', ...(peer?.serverArgs ?? []),
      ...(scenario === 'compression' ? ['--ws-compression', 'on'] : [])];
  return [node!, '--cpu-prof', '--cpu-prof-dir', profDir, ...rest];
}

/** The load generator's arguments (without --port/--pid) and the result field of the profiled phase. */
function loadArgs(scenario: Scenario, peer: Peer | undefined, conns: number, seconds: number): { args: string[]; phase: string } {
  if (scenario === 'per-user-single' || scenario === 'per-user-batch') {
    const mode: PerUserMode = scenario === 'per-user-single' ? 'single' : 'batch';
    const args = perUserArgs(PER_USER_PEERS.find((p) => p.tidings)!, mode, conns, { warmup: WARMUP, saturation: seconds, latency: 0, drain: 4 });
    // the saturation phase alone
    const i = args.findIndex((a, k) => a === '--phase' && args[k + 1]?.startsWith('latency:') === true);
    if (i >= 0) args.splice(i, 2);
    return { args, phase: 'overload' };
  }
  const p = peer!;
  const common = ['--proto', p.proto, '--conns', String(conns), '--sources', '16', '--warmup', String(WARMUP), ...publishArgs(p), '--publishers', String(PUBLISHERS)];
  if (scenario === 'latency') return { args: [...common, '--phase', `latency:${seconds}`, '--rate', '10', '--lag-cap', '200', '--drain', '5'], phase: 'latency' };
  if (scenario === 'compression') return { args: [...common, '--phase', `fanout:${seconds}`, '--deflate', '--notification'], phase: 'fanout' };
  return { args: [...common, '--phase', `fanout:${seconds}`], phase: 'fanout' };
}

/** The load generator's figures of the profiled phase, in words. */
function loadNote(result: LoadgenResult, phase: string): string {
  const r = (result[phase] ?? {}) as Record<string, number | undefined>;
  const parts = [`${fmtNum(r.msgsPerSec)} msg/s delivered`, `server CPU ${r.serverCpu?.toFixed(2) ?? 'n/a'} cores`];
  if (r.msgsPerSec !== undefined && r.serverCpu !== undefined && r.serverCpu > 0) parts.push(`${fmtNum(r.msgsPerSec / r.serverCpu)} msg per CPU-s`);
  if (r.published !== undefined && r.seconds) parts.push(`${fmtNum(r.published / r.seconds)} publish calls/s`);
  if (r.callMeanMs !== undefined && r.callMeanMs >= 0) parts.push(`calls answered in ${r.callMeanMs.toFixed(1)} ms on average`);
  if (phase === 'latency') parts.push(`p50 ${fmtNum(r.p50Ms, 1)} ms, p99 ${fmtNum(r.p99Ms, 1)} ms`);
  if (r.subBytesPerMsg !== undefined && r.subBytesPerMsg > 0) parts.push(`${fmtNum(r.subBytesPerMsg, 0)} B read per message`);
  return `Load (the load generator's measured window): ${String(result.connected)} of ${String(result.conns)} connected; ${parts.join(', ')}.`;
}

async function main(): Promise<void> {
  if (argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  const scenario = opt('--scenario') as Scenario | undefined;
  if (scenario === undefined || !SCENARIOS.includes(scenario)) fail(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const perUser = scenario.startsWith('per-user');
  const peerId = perUser ? 'tidings' : scenario === 'compression' ? 'tidings-ws' : opt('--peer') ?? 'tidings-ws';
  if (!perUser && !FANOUT_PEERS.includes(peerId)) fail(`--peer must be one of ${FANOUT_PEERS.join(', ')}`);
  if (perUser && opt('--peer') !== undefined) fail('--peer applies to fanout and latency');
  const peer = perUser ? undefined : PEERS.find((p) => p.id === peerId);
  const seconds = Number(opt('--seconds') ?? 10);
  const conns = Number(opt('--conns') ?? 10_000);
  if (!(seconds > 0 && seconds <= 600) || !(Number.isInteger(conns) && conns > 0 && conns <= 50_000)) fail('--seconds must be in (0, 600] and --conns in 1..50000');
  if (process.platform !== 'linux') throw new Error('the profiler needs Linux (taskset, /proc)');
  execSync('command -v taskset', { stdio: 'ignore' });

  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const name = `${scenario}${perUser || scenario === 'compression' ? '' : `-${peerId}`}-${stamp.replace(/:/g, '-')}`;
  const profilesDir = join(root, 'bench/results/profiles');
  const out = opt('--out') ?? join(profilesDir, `${name}.md`);
  mkdirSync(profilesDir, { recursive: true });
  mkdirSync(dirname(out), { recursive: true });
  if (!argv.includes('--no-build')) {
    log('building (npm run build) and the load generator');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  }
  const loadgen = buildLoadgen(root, join(root, 'bench/results/bin'));
  const [serverCpu, clientCpu] = cpus().length >= 2 ? [0, 1] : [undefined, undefined];
  const work = mkdtempSync(join(tmpdir(), 'tidings-profile-'));
  const profDir = join(work, 'prof');
  const config = join(work, 'per-user.config.json');
  // the built-in `user` namespace is `subscribe: owner`; the load generator connects anonymously (as in the bench)
  writeFileSync(config, JSON.stringify({ namespaces: { user: { subscribe: 'anyone' } } }));
  const serverLog = join(profilesDir, 'server.log');
  try {
    const port = await freePort();
    const server = await startArgv(root, serverArgv(scenario, peer, port, profDir, config), port, '/healthz', serverCpu, serverLog, 'tidings');
    const { args, phase } = loadArgs(scenario, peer, conns, seconds);
    let window: { startUs: number; endUs: number } | undefined;
    let result: LoadgenResult;
    try {
      log(`${scenario} ${peerId}: ${conns} subscribers, ${seconds} s under load (server pid ${server.pid}, CPU ${serverCpu ?? '-'}; load generator CPU ${clientCpu ?? '-'})`);
      result = await runLoadgen(loadgen, [...args, '--port', String(port), '--pid', String(server.pid)], clientCpu, root, 300_000 + seconds * 1000, (line) => {
        if (!line.includes('subscribers ready')) return;
        // the load generator then opens its publishers, waits 0.2 s, warms up and measures `seconds`
        const ready = Number(process.hrtime.bigint() / 1000n);
        const startUs = ready + (0.2 + WARMUP + 0.1) * 1e6;
        window = { startUs, endUs: startUs + (seconds - 0.1) * 1e6 };
        log(`  ${line.replace(/^loadgen: /, '')}`);
      });
    } finally {
      // a normal exit writes the profile: SIGTERM → graceful shutdown → process.exit(0)
      if (alive(server.pid)) process.kill(server.pid, 'SIGTERM');
      const deadline = Date.now() + 30_000;
      while (alive(server.pid) && Date.now() < deadline) await sleep(100);
      await server.stop();
    }
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length !== 1) throw new Error(`expected one .cpuprofile in ${profDir}, found ${files.length}; see ${serverLog}`);
    const raw = join(profilesDir, `${name}.cpuprofile`);
    copyFileSync(join(profDir, files[0]!), raw);
    const profile = JSON.parse(readFileSync(raw, 'utf8')) as CpuProfile;
    const summary = summarizeProfile(profile, { root, ...(window ? { window } : {}) });
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const server0 = serverArgv(scenario, peer, port, '<dir>', '<config>').map((a) => (a.startsWith(root) ? relative(root, a) : a));
    const markdown = renderProfile(summary, {
      title: `CPU profile of the Tidings server: ${scenario}${perUser ? '' : `, ${peerId}`}`,
      command: `npm run bench:profile -- ${argv.join(' ')}`,
      date: stamp,
      machine: `${cpus().length} × ${cpu}, Linux ${release()}, Node.js ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(', ')} at the end (other work on the machine adds noise)`,
      notes: [
        `Server: \`${server0.slice(1).join(' ').replace(/^--cpu-prof --cpu-prof-dir <dir> /, 'node --cpu-prof … ')}\`, pinned to CPU ${serverCpu ?? '-'}; `
          + `the C load generator (bench/loadgen) pinned to CPU ${clientCpu ?? '-'}, ${fmtNum(conns)} ${perUser ? 'users' : 'subscribers'}, ${WARMUP} s warm-up, then ${seconds} s measured.`,
        loadNote(result, phase),
        `Raw profile: ${relative(root, raw)} (not committed; Chrome DevTools or speedscope open it).`,
      ],
    });
    writeFileSync(out, markdown);
    log(`wrote ${out.startsWith(`${root}/`) ? relative(root, out) : out} (${summary.samples} samples, idle ${(summary.idleShare * 100).toFixed(1)}%)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
