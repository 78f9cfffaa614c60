/**
 * Cross-node fan-out against single-node fan-out, on this machine, in one run.
 *
 *   npx tsx --conditions=tidings-source bench/redis-fanout.ts [--subscribers 1000] [--messages 2000] [--rounds 3]
 *
 * Three setups, alternating, each round:
 *   single/memory  publisher (HTTP API) and subscribers on one node, memory engine
 *   single/redis   publisher and subscribers on one node, Redis engine
 *   cross/redis    publisher on node A, subscribers on node B, through Redis pub/sub
 * Reports delivered messages per second at the subscribers (median of rounds) and the ratios.
 * Needs redis-server on PATH. Subscribers are `ws` clients in this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const SUBSCRIBERS = Number(args.get('subscribers') ?? 1000);
const MESSAGES = Number(args.get('messages') ?? 2000);
const ROUNDS = Number(args.get('rounds') ?? 3);
const KEY = 'bench-key';
const root = fileURLToPath(new URL('..', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

async function startNode(extra: string[]): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [`${root}packages/cli/bin/tidings.js`, 'serve', '--port', String(port), '--host', '127.0.0.1',
    '--api-key', KEY, '--log-level', 'warn', '--max-queue-bytes', String(64 * 1024 * 1024), ...extra], { stdio: 'inherit' });
  await waitHttp(`http://127.0.0.1:${port}/readyz`);
  return { port, child };
}

async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  return { url: `redis://127.0.0.1:${port}`, child };
}

async function subscribe(port: number, channel: string, n: number): Promise<{ sockets: WebSocket[]; received: () => number }> {
  let received = 0;
  const sockets = await Promise.all(Array.from({ length: n }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
    ws.on('open', () => {
      ws.send(`{"id":1,"type":"connect"}\n{"id":2,"type":"subscribe","channel":"${channel}"}`);
    });
    let subscribed = false;
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (!subscribed && text.includes('"id":2')) {
        subscribed = true;
        resolve(ws);
      }
      let i = -1;
      while ((i = text.indexOf('"type":"publication"', i + 1)) >= 0) received++;
    });
    ws.on('error', reject);
  })));
  return { sockets, received: () => received };
}

async function publishAll(port: number, channel: string): Promise<void> {
  const data = { text: 'x'.repeat(60), n: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < MESSAGES) {
      data.n = next++;
      const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
        method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify({ channel, data }),
      });
      if (!res.ok) throw new Error(`publish ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function measure(pubPort: number, subPort: number, channel: string): Promise<number> {
  const subs = await subscribe(subPort, channel, SUBSCRIBERS);
  const expected = SUBSCRIBERS * MESSAGES;
  const started = performance.now();
  await publishAll(pubPort, channel);
  while (subs.received() < expected) {
    if (performance.now() - started > 120_000) throw new Error(`only ${subs.received()} of ${expected} delivered`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  subs.sockets.forEach((s) => s.terminate());
  return expected / seconds;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const redis = await startRedis();
  const memory = await startNode([]);
  const a = await startNode(['--engine', 'redis', '--redis-url', redis.url]);
  const b = await startNode(['--engine', 'redis', '--redis-url', redis.url]);
  const results: Record<string, number[]> = { 'single/memory': [], 'single/redis': [], 'cross/redis': [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      results['single/memory']!.push(await measure(memory.port, memory.port, `m${round}`));
      results['single/redis']!.push(await measure(a.port, a.port, `s${round}`));
      results['cross/redis']!.push(await measure(a.port, b.port, `c${round}`));
    }
  } finally {
    for (const p of [memory, a, b, redis]) p.child.kill('SIGKILL');
  }
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
  const summary = {
    subscribers: SUBSCRIBERS, messages: MESSAGES, rounds: ROUNDS,
    deliveredPerSecond: m,
    ratios: {
      'cross/redis ÷ single/memory': m['cross/redis']! / m['single/memory']!,
      'cross/redis ÷ single/redis': m['cross/redis']! / m['single/redis']!,
    },
    runs: results,
  };
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
