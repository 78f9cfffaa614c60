/**
 * Bulk notification creation: one POST /api/notifications to 10,000 users, stored in SQLite
 * (synchronous = FULL) before the answer. Reports notifications stored per second.
 *
 *   npm run build && npx tsx --conditions=tidings-source bench/notifications-bulk.ts [--users 10000] [--rounds 5]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const USERS = Number(args.get('users') ?? 10_000);
const ROUNDS = Number(args.get('rounds') ?? 5);
const root = fileURLToPath(new URL('..', import.meta.url));

const port = await new Promise<number>((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const dataDir = mkdtempSync(join(tmpdir(), 'tidings-bench-'));
const child = spawn(process.execPath, [`${root}packages/cli/bin/tidings.js`, 'serve', '--port', String(port), '--host', '127.0.0.1',
  '--api-key', 'k', '--log-level', 'warn', '--data-dir', dataDir], { stdio: 'inherit' });
try {
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break; } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const body = JSON.stringify({ users, type: 'news', payload: { title: `Headline ${round}`, url: 'https://example.com/a' } });
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/notifications`, { method: 'POST', headers: { 'x-api-key': 'k', 'content-type': 'application/json' }, body });
    if (!res.ok) throw new Error(`create failed: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    rates.push(USERS / ((performance.now() - started) / 1000));
  }
  rates.sort((a, b) => a - b);
  console.log(JSON.stringify({ users: USERS, rounds: ROUNDS, storedPerSecondMedian: Math.round(rates[Math.floor(rates.length / 2)]!), storedPerSecond: rates.map(Math.round) }, null, 2));
} finally {
  child.kill('SIGKILL');
}
