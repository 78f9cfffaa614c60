/**
 * Bulk notification creation, store against store in one run: one POST /api/notifications to
 * 10,000 users, answered once every row is durable, on a node with `--store memory`, `sqlite`
 * (synchronous = FULL) and `postgres` (a local PostgreSQL from Debian's packages, fsync on).
 * Reports notifications stored per second (median of the rounds) and each store's ratio to SQLite.
 *
 *   npm run build && npx tsx --conditions=tidings-source bench/notifications-bulk.ts [--users 10000] [--rounds 5] [--stores memory,sqlite,postgres]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PostgresProcess, postgresBinDir } from '../test/helpers/postgres.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const USERS = Number(args.get('users') ?? 10_000);
const ROUNDS = Number(args.get('rounds') ?? 5);
const STORES = (args.get('stores') ?? 'memory,sqlite,postgres').split(',');
const root = fileURLToPath(new URL('..', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Median notifications stored per second, and every round's rate, for a node started with `storeArgs`. */
async function measure(storeArgs: string[]): Promise<{ median: number; rounds: number[] }> {
  const port = await freePort();
  const child = spawn(process.execPath, [`${root}packages/cli/bin/tidings.js`, 'serve', '--port', String(port), '--host', '127.0.0.1',
    '--api-key', 'k', '--log-level', 'warn', '--max-message-size', '1048576', ...storeArgs], { stdio: 'inherit' });
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
      // let the announcements of this round drain before the next is timed
      await new Promise((r) => setTimeout(r, 500));
    }
    const sorted = [...rates].sort((a, b) => a - b);
    return { median: Math.round(sorted[Math.floor(sorted.length / 2)]!), rounds: rates.map(Math.round) };
  } finally {
    child.kill('SIGKILL');
  }
}

const results: Record<string, { median: number; rounds: number[] }> = {};
let postgres: PostgresProcess | undefined;
try {
  for (const store of STORES) {
    if (store === 'memory') results.memory = await measure(['--store', 'memory']);
    else if (store === 'sqlite') results.sqlite = await measure(['--store', 'sqlite', '--data-dir', mkdtempSync(join(tmpdir(), 'tidings-bench-'))]);
    else if (store === 'postgres') {
      if (!postgresBinDir()) {
        console.error('postgres skipped: no /usr/lib/postgresql/*/bin (apt-get install -y postgresql)');
        continue;
      }
      postgres = await PostgresProcess.start({ fsync: true });
      results.postgres = await measure(['--store', 'postgres', '--postgres-url', postgres.url]);
    } else throw new Error(`unknown store ${store}`);
  }
} finally {
  await postgres?.destroy();
}
const sqlite = results.sqlite?.median;
const ratioToSqlite = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, sqlite ? Math.round((v.median / sqlite) * 100) / 100 : null]));
console.log(JSON.stringify({ users: USERS, rounds: ROUNDS, storedPerSecondMedian: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.median])), ratioToSqlite, storedPerSecond: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.rounds])) }, null, 2));
