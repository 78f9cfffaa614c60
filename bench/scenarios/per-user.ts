/**
 * Per-user delivery (issue 19, target 3): the notification workload. Every subscriber is one
 * user on its own channel; the backend sends each user its own message, one user per publish call
 * ("single": Tidings `POST /api/publish`, the peers `POST /publish?to=<id>`) or one payload to
 * 1,000 users per call ("batch": Tidings `POST /api/broadcast`, the peers
 * `POST /publish?from=<id>&count=1000`). Two phases on the same connections:
 *
 * - saturation: 64 publisher connections call back to back, at most LAG_COPIES copies not yet
 *   delivered; delivered messages per second at the clients, calls per second;
 * - latency: a fixed offered rate of OFFERED copies per second (single: that many calls; batch:
 *   OFFERED / 1,000 calls), publish → receive p50/p99 over every copy, and the calls' answer time.
 *
 * Peers: Tidings (the built-in `user` namespace opened to anonymous subscribers by a config file,
 * since the C load generator signs no tokens), Socket.IO with one room per user, raw `ws` with a
 * `Map` from user to socket.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLoadgen } from '../lib/loadgen.js';
import { API_KEY, nodeArgv, startArgv, type LoadgenProto } from '../lib/peers.js';
import { errorText, type ScenarioContext } from './context.js';

/** Users per `POST /api/broadcast` (its maximum) and per peer batch call. */
export const BATCH = 1000;
/**
 * Offered copies per second in the latency phase: each of 10k users a message every 5 s. One
 * user per call, that is 2,000 calls/s, which every peer answers on one core (Tidings' API took
 * ~190 µs of CPU per call, fan-out included, in a profile here); 10k/s was more than they could.
 */
export const OFFERED = 2_000;
/**
 * Saturation: copies published but not yet delivered, at most (4 per user; with 10k, 10 calls of
 * 1,000 in flight left the server idle between them). One-user calls are bounded by PUBLISHERS.
 */
const LAG_COPIES = 40_000;
/** Publisher connections, each waiting for its answer: enough that the round trip does not bound one-user calls. */
const PUBLISHERS = 64;

export type PerUserMode = 'single' | 'batch';

interface PerUserPeer {
  id: string;
  label: string;
  proto: LoadgenProto;
  /** The load generator's subscribe path, %d = user id (undefined: its default). */
  path?: string;
  argv(root: string, port: number, config: string): string[];
  health: string;
  tidings: boolean;
}

export const PER_USER_PEERS: readonly PerUserPeer[] = [
  {
    id: 'tidings', label: 'Tidings WebSocket (JSON), channel `user:<id>`', proto: 'tws', tidings: true, health: '/healthz',
    argv: (root, port, config) => [...nodeArgv(root), join(root, 'packages/cli/bin/tidings.js'), 'serve', '--port', String(port), '--host', '127.0.0.1',
      '--api-key', API_KEY, '--log-level', 'warn', '--max-connections', '200000', '--config', config],
  },
  {
    id: 'socketio', label: 'Socket.IO 4, room `user:<id>`', proto: 'sio', path: '/socket.io/?EIO=4&transport=websocket&user=%d', tidings: false, health: '/',
    argv: (root, port) => [...nodeArgv(root), join(root, 'bench/peers/socketio.mjs'), '--port', String(port)],
  },
  {
    id: 'ws-map', label: 'raw ws, Map user → socket', proto: 'ws', path: '/?user=%d', tidings: false, health: '/',
    argv: (root, port) => [...nodeArgv(root), join(root, 'bench/peers/ws.mjs'), '--port', String(port), '--mode', 'map'],
  },
];

export const PER_USER_MODES: readonly PerUserMode[] = ['single', 'batch'];

/** The record's peer field for a peer in a mode: `tidings/batch`. */
export function perUserKey(peer: string, mode: PerUserMode): string {
  return `${peer}/${mode}`;
}

/** Load generator arguments of one run (without --port/--pid). */
export function perUserArgs(peer: PerUserPeer, mode: PerUserMode, users: number, t: { warmup: number; saturation: number; latency: number; drain: number }): string[] {
  const batch = mode === 'batch' ? BATCH : 1;
  const pub = peer.tidings
    ? ['--pub-path', mode === 'batch' ? '/api/broadcast' : '/api/publish', '--pub-key', API_KEY, '--pub-tidings', '--sub-channel', 'user:%d']
    : ['--pub-path', '/publish', ...(peer.path === undefined ? [] : ['--path', peer.path])];
  return ['--proto', peer.proto, '--conns', String(users), '--sources', '16', '--warmup', String(t.warmup), ...pub,
    '--pub-users', String(users), '--pub-batch', String(batch), '--publishers', String(PUBLISHERS),
    '--lag-cap', String(Math.min(20_000, Math.floor(LAG_COPIES / batch))), '--rate', String(OFFERED / batch), '--drain', String(t.drain),
    '--phase', `overload:${t.saturation}`, '--phase', `latency:${t.latency}`];
}

/** One round: every peer in both modes, the peers alternating (order rotated by round). */
export async function runPerUser(ctx: ScenarioContext, round: number, users: number): Promise<void> {
  const t = ctx.quick ? { warmup: 1, saturation: 2, latency: 3, drain: 4 } : { warmup: 1, saturation: 5, latency: 10, drain: 15 };
  const config = join(ctx.resultsDir, 'per-user.config.json');
  // the built-in `user` namespace is `subscribe: owner`; the load generator connects anonymously
  writeFileSync(config, JSON.stringify({ namespaces: { user: { subscribe: 'anyone' } } }));
  const k = (round - 1) % PER_USER_PEERS.length;
  const peers = [...PER_USER_PEERS.slice(k), ...PER_USER_PEERS.slice(0, k)];
  for (const mode of PER_USER_MODES) {
    for (const peer of peers) {
      const busyBefore = await ctx.waitQuiet();
      const key = perUserKey(peer.id, mode);
      ctx.log(`per-user ${key} ${users} (round ${round})`);
      const port = ctx.port();
      try {
        const server = await startArgv(ctx.root, peer.argv(ctx.root, port, config), port, peer.health, ctx.serverCpu, ctx.serverLog, peer.id);
        try {
          const args = [...perUserArgs(peer, mode, users, t), '--port', String(port), '--pid', String(server.pid)];
          const result = await runLoadgen(ctx.loadgen, args, ctx.clientCpu, ctx.root, 300_000);
          ctx.record({ kind: 'per-user', peer: key, conns: users, round, result, busyBefore });
          ctx.log(`  ${brief(result)}`);
        } finally {
          await server.stop();
        }
      } catch (err) {
        ctx.record({ kind: 'per-user', peer: key, conns: users, round, error: errorText(err) });
        ctx.log(`  failed: ${errorText(err).slice(0, 400)}`);
      }
    }
  }
}

function brief(r: Record<string, unknown>): string {
  const o = r.overload as Record<string, number> | undefined;
  const l = r.latency as Record<string, number> | undefined;
  const calls = o?.published !== undefined && o.seconds ? (o.published / o.seconds).toFixed(0) : '?';
  return `connected ${String(r.connected)}, saturation ${o?.msgsPerSec ?? '?'} msg/s (${calls} calls/s), `
    + `at ${l?.msgsPerSec ?? '?'} msg/s p99 ${l?.p99Ms ?? '?'} ms, call ${l?.callMeanMs ?? '?'} ms`;
}
