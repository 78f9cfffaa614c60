import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildC } from './cbuild.js';

/** The loadgen protocol each peer is driven with (see the top of bench/loadgen/main.c). */
export type LoadgenProto = 'tws' | 'stomp' | 'tsse' | 'tpoll' | 'ws' | 'sio' | 'sse';

type ServerKind = 'tidings' | 'ws-naive' | 'ws-frame' | 'socketio' | 'sse' | 'c-writer';

export interface Peer {
  id: string;
  label: string;
  server: ServerKind;
  proto: LoadgenProto;
  /** Whether the peer takes part in the publishing scenarios (long polling is measured idle only). */
  publishing: boolean;
  /** Whether the peer is measured for WebSocket handshakes per second. */
  handshake: boolean;
  /** Whether idle memory is measured (the frame-once ws peer is the same server as the naive one when idle). */
  idle: boolean;
  /** Tidings started with `--metrics off` (the row that measures what metrics cost); others are scraped while measured. */
  metricsOff?: boolean;
  /**
   * Left out of `--quick`'s publishing runs (it keeps its idle and handshake runs): the rows no
   * quick target needs, so that `--quick` stays under 3 minutes.
   */
  fullOnly?: boolean;
  /** More `tidings serve` flags (the compression scenario's `--ws-compression on`). */
  serverArgs?: readonly string[];
}

/** How often the bench scrapes `/metrics` of a Tidings server with metrics on, during its runs (ms). */
export const SCRAPE_INTERVAL_MS = 1000;

/** Whether the peer is a Tidings server that serves `/metrics` (and is scraped while it is measured). */
export function scraped(peer: Peer): boolean {
  return peer.server === 'tidings' && peer.metricsOff !== true;
}

export const PEERS: readonly Peer[] = [
  { id: 'tidings-ws', label: 'Tidings WebSocket (JSON)', server: 'tidings', proto: 'tws', publishing: true, handshake: true, idle: true },
  { id: 'tidings-ws-nometrics', label: 'Tidings WebSocket (JSON), --metrics off', server: 'tidings', proto: 'tws', publishing: true, handshake: false, idle: false,
    metricsOff: true, fullOnly: true },
  { id: 'tidings-stomp', label: 'Tidings STOMP over WebSocket', server: 'tidings', proto: 'stomp', publishing: true, handshake: true, idle: true },
  { id: 'tidings-sse', label: 'Tidings SSE', server: 'tidings', proto: 'tsse', publishing: true, handshake: false, idle: true },
  { id: 'tidings-poll', label: 'Tidings long polling', server: 'tidings', proto: 'tpoll', publishing: false, handshake: false, idle: true },
  { id: 'ws-naive', label: 'raw ws, send per client', server: 'ws-naive', proto: 'ws', publishing: true, handshake: true, idle: true, fullOnly: true },
  { id: 'ws-frame', label: 'raw ws, frame built once', server: 'ws-frame', proto: 'ws', publishing: true, handshake: false, idle: false },
  { id: 'socketio', label: 'Socket.IO 4 (websocket only)', server: 'socketio', proto: 'sio', publishing: true, handshake: true, idle: true },
  { id: 'sse', label: 'plain node:http SSE', server: 'sse', proto: 'sse', publishing: true, handshake: false, idle: true, fullOnly: true },
  { id: 'c-writer', label: 'C writer (the physical limit)', server: 'c-writer', proto: 'ws', publishing: true, handshake: false, idle: false },
];

/** The peer every other is shown as a fraction of: one `write(2)` of a frame built once per connection (bench/peers/writer.c). */
export const LIMIT_PEER = 'c-writer';

export const API_KEY = 'bench';

/** How the loadgen publishes to this peer. */
export function publishArgs(peer: Peer): string[] {
  return peer.server === 'tidings' ? ['--pub-path', '/api/publish', '--pub-key', API_KEY, '--pub-tidings'] : ['--pub-path', '/publish'];
}

/**
 * Extra loadgen arguments for this peer's handshake run (not the upgrade-only one): Tidings JSON
 * connects in the handshake (`/ws?connect=1`), so it is usable after one round trip like raw ws.
 */
export function handshakeArgs(peer: Peer): string[] {
  return peer.id === 'tidings-ws' ? ['--connect-in-handshake'] : [];
}

export interface RunningServer {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/**
 * Runs `argv` with the open-files limit raised to the hard limit and pinned to `cpu` (when given).
 * Every benchmarked process starts through here.
 */
export function spawnPinned(argv: string[], cpu: number | undefined, opts: { cwd: string; stdout?: 'pipe' | 'ignore' }): ChildProcess {
  const pinned = cpu === undefined ? argv : ['taskset', '-c', String(cpu), ...argv];
  return spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...pinned], {
    cwd: opts.cwd,
    stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'],
  });
}

function serverArgv(root: string, peer: Peer, port: number): string[] {
  const node = nodeArgv(root);
  switch (peer.server) {
    case 'tidings':
      return [...node, join(root, 'packages/cli/bin/tidings.js'), 'serve', '--port', String(port), '--host', '127.0.0.1',
        '--api-key', API_KEY, '--log-level', 'warn', '--max-connections', '200000', ...(peer.metricsOff === true ? ['--metrics', 'off'] : []), ...(peer.serverArgs ?? [])];
    case 'ws-naive':
      return [...node, join(root, 'bench/peers/ws.mjs'), '--port', String(port), '--mode', 'naive'];
    case 'ws-frame':
      return [...node, join(root, 'bench/peers/ws.mjs'), '--port', String(port), '--mode', 'frame'];
    case 'socketio':
      return [...node, join(root, 'bench/peers/socketio.mjs'), '--port', String(port)];
    case 'sse':
      return [...node, join(root, 'bench/peers/sse.mjs'), '--port', String(port)];
    case 'c-writer':
      return [buildC(join(root, 'bench/peers/writer.c'), join(root, 'bench/results/bin/writer')), '--port', String(port)];
  }
}

async function waitHttp(port: number, path: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      await res.arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`server on port ${port} did not start`);
      await sleep(50);
    }
  }
}

/** Starts the peer's server pinned to `cpu`; its stderr goes to `logFile`. */
export async function startServer(root: string, peer: Peer, port: number, cpu: number | undefined, logFile: string): Promise<RunningServer> {
  return startArgv(root, serverArgv(root, peer, port), port, peer.server === 'tidings' ? '/healthz' : '/', cpu, logFile, peer.id);
}

/** The node that runs a server under test: `--expose-gc` and the SIGUSR2 → gc() hook preloaded. */
export function nodeArgv(root: string): string[] {
  return [process.execPath, '--expose-gc', '--import', join(root, 'bench/peers/gc-hook.mjs')];
}

/**
 * Starts `argv` (a server listening on `port`) pinned to `cpu`, its stderr going to `logFile`;
 * resolves once `GET <healthPath>` answers (any status), rejects when it exits first or after 15 s.
 */
export async function startArgv(
  root: string, argv: string[], port: number, healthPath: string, cpu: number | undefined, logFile: string, name: string,
): Promise<RunningServer> {
  const child = spawnPinned(argv, cpu, { cwd: root, stdout: 'ignore' });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stderr?.pipe(log);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  try {
    await Promise.race([
      waitHttp(port, healthPath, Date.now() + 15_000),
      exit.then(() => { throw new Error(`${name} server exited at start; see ${logFile}`); }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    pid: child.pid!,
    port,
    async stop() {
      if (exited) return;
      child.kill('SIGKILL');
      await exit;
    },
  };
}
