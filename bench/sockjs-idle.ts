/**
 * Idle memory per SockJS session, next to Tidings' own WebSocket and SSE measured the same way in
 * the same run: for each kind a fresh server (the same command line as in bench/run.ts), N clients
 * that connect and subscribe to `bench` and then sit idle, and (RSS after − RSS before) ÷ N, both
 * readings after a forced full GC (SIGUSR2 → gc(), bench/peers/gc-hook.mjs).
 *
 *   npm run build && node --import tsx bench/sockjs-idle.ts [--conns 10000] [--kinds a,b]
 *
 * Kinds: `ws` (/ws?connect=1&channel=bench), `sse` (/sse?channel=bench), `sockjs-ws` (SockJS
 * framed WebSocket, JSON protocol), `sockjs-xhr-streaming` (an xhr_streaming response held open,
 * the commands sent by xhr_send on a keep-alive agent). The clients run in this process (Node, not
 * the C load generator), so they are slower to connect; the figure is the server's memory only.
 */
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { PEERS, startServer } from './lib/peers.js';
import { freePort } from '../test/helpers/tidings.js';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const N = Number(opt('--conns') ?? 10_000);
const KINDS = ['ws', 'sse', 'sockjs-ws', 'sockjs-xhr-streaming'] as const;
type Kind = (typeof KINDS)[number];
const kinds = (opt('--kinds')?.split(',') ?? [...KINDS]) as Kind[];
const BATCH = 200;
const CONNECT = JSON.stringify({ id: 1, type: 'connect' });
const SUBSCRIBE = JSON.stringify({ id: 2, type: 'subscribe', channel: 'bench' });

async function collectedRssKb(pid: number): Promise<number> {
  process.kill(pid, 'SIGUSR2');
  await sleep(1000);
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** Resolves once `socket` has received text matching `done`. */
function readUntil(socket: Socket, done: (text: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      if (!done(text)) return;
      socket.off('data', onData);
      resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

const sessionId = (i: number): string => `${i.toString(36).padStart(4, '0')}${Math.random().toString(36).slice(2, 14)}`;

function post(agent: http.Agent, port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens one client of `kind`, subscribed to `bench`; returns something to keep it referenced. */
async function open(kind: Kind, port: number, i: number, agent: http.Agent): Promise<Socket | WebSocket> {
  if (kind === 'ws' || kind === 'sockjs-ws') {
    const url = kind === 'ws' ? `ws://127.0.0.1:${port}/ws?connect=1&channel=bench` : `ws://127.0.0.1:${port}/sockjs/${i % 1000}/${sessionId(i)}/websocket`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        if (kind === 'sockjs-ws' && text === 'o') ws.send(JSON.stringify([CONNECT, SUBSCRIBE]));
        if (kind === 'ws' ? text.includes('"subscribed"') : text.includes('\\"id\\":2')) resolve();
      });
      ws.once('error', reject);
    });
    return ws;
  }
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  if (kind === 'sse') {
    const subscribed = readUntil(socket, (t) => t.includes('"subscribed"'));
    socket.write('GET /sse?channel=bench HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await subscribed;
    return socket;
  }
  const path = `/sockjs/${i % 1000}/${sessionId(i)}`;
  const opened = readUntil(socket, (t) => t.includes('\no\n'));
  socket.write(`POST ${path}/xhr_streaming HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`);
  await opened;
  const subscribed = readUntil(socket, (t) => t.includes('\\"id\\":2'));
  const status = await post(agent, port, `${path}/xhr_send`, JSON.stringify([CONNECT, SUBSCRIBE]));
  if (status !== 204) throw new Error(`xhr_send answered ${status}`);
  await subscribed;
  return socket;
}

async function measure(kind: Kind): Promise<number> {
  const peer = PEERS.find((p) => p.id === 'tidings-ws')!;
  const port = await freePort();
  const server = await startServer(root, peer, port, undefined, '/dev/null');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const clients: Array<Socket | WebSocket> = [];
  try {
    await sleep(2000);
    const before = await collectedRssKb(server.pid);
    for (let i = 0; i < N; i += BATCH) {
      clients.push(...await Promise.all(Array.from({ length: Math.min(BATCH, N - i) }, (_, k) => open(kind, port, i + k, agent))));
    }
    agent.destroy();
    await sleep(2000);
    const after = await collectedRssKb(server.pid);
    return ((after - before) * 1024) / N;
  } finally {
    for (const c of clients) {
      if (c instanceof WebSocket) c.terminate();
      else c.destroy();
    }
    agent.destroy();
    await server.stop();
  }
}

const results: Array<{ kind: Kind; bytesPerConn: number }> = [];
for (const kind of kinds) {
  const started = Date.now();
  const bytesPerConn = await measure(kind);
  results.push({ kind, bytesPerConn });
  console.log(`${kind}: ${(bytesPerConn / 1024).toFixed(2)} KB per idle connection (${N} connections, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
console.log(JSON.stringify({ conns: N, node: process.version, results }));
