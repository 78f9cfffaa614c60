/**
 * The packages as npm users get them: every workspace package packed with `npm pack`, the tarballs
 * installed into an empty project (`npm install <tarballs>`, their npm dependencies from the
 * registry), imported and type-checked there, and `npx tidings serve` run there: publish through
 * the API, receive over WebSocket and SSE, the inbox, the SDK at /client/, the demo at /demo/ (`--demo`).
 *
 * Needs the npm registry (CI has it): without it, the install fails and so does this test, saying
 * so. Install scripts are skipped (`--ignore-scripts`): better-sqlite3 would compile for minutes
 * where its prebuilt binaries are out of reach; the clone's own build of the same version is
 * copied in instead (and `npm rebuild better-sqlite3` runs when the versions differ).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { freePort } from '../helpers/tidings.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const API_KEY = 'pack-test-key';
// without the registry, npm gives up after two retries, each waited for at most 10 s
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--fetch-retry-maxtimeout=10000'];

interface Packed {
  name: string;
  filename: string;
  files: { path: string }[];
}

interface Run { status: number | null; stdout: string; stderr: string }

/** Runs a command to its end (bounded by `timeoutMs`) and records how long it took under `label`. */
function run(label: string, command: string, args: string[], cwd: string, timeoutMs: number): Run {
  const started = Date.now();
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NODE_OPTIONS: '' } });
  timings.push(`${label} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

function tail(text: string): string {
  return text.split('\n').slice(-25).join('\n');
}

const timings: string[] = [];

/** The targets an `exports` entry names for a consumer (every condition but `tidings-source`). */
function exportTargets(entry: unknown): string[] {
  if (typeof entry === 'string') return [entry];
  if (typeof entry !== 'object' || entry === null) return [];
  return Object.entries(entry).filter(([condition]) => condition !== 'tidings-source').flatMap(([, v]) => exportTargets(v));
}

describe('npm pack → npm install → npx tidings serve', { timeout: 240_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'tidings-pack-'));
  const tarballs = join(work, 'tarballs');
  const project = join(work, 'project');
  let packed: Packed[] = [];
  let server: ChildProcess | undefined;
  let output = '';
  let url = '';

  before(async () => {
    const built = run('npm run build', 'npm', ['run', 'build'], root, 120_000);
    assert.equal(built.status, 0, `npm run build failed:\n${tail(built.stderr)}`);

    mkdirSync(tarballs);
    const pack = run('npm pack (all workspaces)', 'npm', ['pack', '--workspaces', '--json', '--pack-destination', tarballs], root, 60_000);
    assert.equal(pack.status, 0, `npm pack failed:\n${tail(pack.stderr)}`);
    packed = JSON.parse(pack.stdout) as Packed[];

    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'tidings-pack-smoke', private: true, type: 'module' }));
    const install = run('npm install <tarballs>', 'npm', ['install', ...NPM_FLAGS, '--ignore-scripts', ...packed.map((p) => join(tarballs, p.filename))], project, 150_000);
    assert.equal(install.status, 0,
      `npm install of the tarballs failed (exit ${install.status}). This test needs the npm registry for the packages' dependencies; is it reachable?\n${tail(install.stderr)}`);
    useNativeSqlite(project);

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const started = Date.now();
    server = spawn('npx', ['--no-install', 'tidings', 'serve', '--host', '127.0.0.1', '--port', String(port), '--api-key', API_KEY, '--data-dir', join(work, 'data'), '--demo'], {
      cwd: project,
      env: { ...process.env, NODE_OPTIONS: '', TIDINGS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group: npx runs the bin through a shell, and all three must go at the end
      detached: true,
    });
    server.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    server.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (server.exitCode !== null) assert.fail(`npx tidings serve exited with ${server.exitCode}:\n${output}`);
      if (Date.now() > deadline) assert.fail(`npx tidings serve did not answer /healthz within 30 s:\n${output}`);
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    timings.push(`npx tidings serve until /healthz ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  after(() => {
    if (server?.pid !== undefined) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(work, { recursive: true, force: true });
    console.log(`# pack test timings: ${timings.join(', ')}`);
  });

  it('packs every package with dist, README, LICENSE and every export target, and no tests or sources', () => {
    const names = packed.map((p) => p.name).sort();
    for (const name of ['@tidings/client', '@tidings/pages', '@tidings/protocol', '@tidings/redis', '@tidings/server', '@tidings/stomp', 'tidings']) assert.ok(names.includes(name), `${name} packed: ${names.join(', ')}`);
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      for (const required of ['package.json', 'README.md', 'LICENSE']) assert.ok(files.includes(required), `${p.name} has ${required}`);
      assert.deepEqual(files.filter((f) => /\.test\.|(^|\/)testing\.|^src\/|^test\/|tsbuildinfo/.test(f)), [], `${p.name}: no tests, sources or build state`);
      const manifest = JSON.parse(readFileSync(join(project, 'node_modules', p.name, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
      for (const [subpath, entry] of Object.entries(manifest.exports)) {
        for (const target of exportTargets(entry)) {
          const pattern = new RegExp(`^${target.slice(2).replace(/[.]/g, '\\.').replace('*', '.+')}$`);
          assert.ok(files.some((f) => pattern.test(f)), `${p.name} exports ${subpath} → ${target}, which is in the tarball`);
        }
      }
    }
    const pages = packed.find((p) => p.name === '@tidings/pages')?.files.map((f) => f.path) ?? [];
    for (const file of ['index.html', 'main.js', 'demo.css', 'sockjs.min.js']) assert.ok(pages.includes(`dist/demo/${file}`), `@tidings/pages has dist/demo/${file}`);
    const client = packed.find((p) => p.name === '@tidings/client')?.files.map((f) => f.path) ?? [];
    for (const bundle of ['tidings.min.js', 'tidings.iife.min.js', 'tidings-fallback.min.js', 'tidings-fallback.iife.min.js', 'tidings-inbox.min.js']) {
      assert.ok(client.includes(`dist/browser/${bundle}`) && client.includes(`dist/browser/${bundle}.map`), bundle);
    }
  });

  it('imports every package from the project and type-checks a consumer against their types', () => {
    const imports = run('node import', process.execPath, ['--input-type=module', '-e', [
      "import { TidingsNode } from '@tidings/server'; import { RedisEngine } from '@tidings/redis';",
      "import { Client } from '@tidings/client'; import * as fallback from '@tidings/client/fallback';",
      "import { StompParser } from '@tidings/stomp'; import { ErrorCode } from '@tidings/protocol'; import { SETTINGS } from 'tidings';",
      "const browser = import.meta.resolve('@tidings/client/browser');",
      "console.log(JSON.stringify([typeof TidingsNode, typeof RedisEngine, typeof Client, typeof fallback.Client, typeof StompParser, typeof ErrorCode, Array.isArray(SETTINGS), browser.endsWith('/dist/browser/tidings.min.js')]));",
    ].join('\n')], project, 30_000);
    assert.equal(imports.status, 0, imports.stderr);
    assert.deepEqual(JSON.parse(imports.stdout), ['function', 'function', 'function', 'function', 'function', 'object', true, true]);

    writeFileSync(join(project, 'consumer.ts'), [
      "import { TidingsNode, type TidingsNodeInit } from '@tidings/server';",
      "import { RedisEngine } from '@tidings/redis';",
      "import { Client, type Publication } from '@tidings/client';",
      "import { Client as FallbackClient } from '@tidings/client/fallback';",
      "import { Client as BrowserClient } from '@tidings/client/browser';",
      "import { StompParser } from '@tidings/stomp';",
      "import { ErrorCode } from '@tidings/protocol';",
      "import { SETTINGS } from 'tidings';",
      "const init: TidingsNodeInit = { apiKey: 'k' };",
      "export const node: TidingsNode = new TidingsNode(init);",
      "export const clients: Client[] = [new Client('ws://localhost/ws'), new FallbackClient('http://localhost'), new BrowserClient('ws://localhost/ws')];",
      "export const seen = (p: Publication): number => p.offset;",
      "export const rest: [typeof RedisEngine, typeof StompParser, number, number] = [RedisEngine, StompParser, ErrorCode.NotFound, SETTINGS.length];",
    ].join('\n'));
    const tsc = run('tsc consumer.ts', process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--skipLibCheck',
      '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node', 'consumer.ts'], project, 60_000);
    assert.equal(tsc.status, 0, `the consumer does not type-check against the packed types:\n${tsc.stdout}${tsc.stderr}`);
  });

  it('npx tidings --version prints the packages\' version', () => {
    const r = run('npx tidings --version', 'npx', ['--no-install', 'tidings', '--version'], project, 30_000);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), VERSION);
  });

  it('publishes through the API and delivers to a WebSocket and an SSE subscriber', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    const wsMessages: Message[] = [];
    ws.on('message', (m: Buffer) => {
      for (const line of m.toString().split('\n')) wsMessages.push(JSON.parse(line) as Message);
    });
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    ws.send(JSON.stringify({ id: 1, type: 'connect' }));
    ws.send(JSON.stringify({ id: 2, type: 'subscribe', channel: 'news' }));

    const es = new EventSource(`${url}/sse?channel=news`);
    const sseMessages: Message[] = [];
    es.onmessage = (e) => { sseMessages.push(JSON.parse(e.data as string) as Message); };
    try {
      // the WebSocket's subscribe command is answered {id: 2, result}; the SSE stream pushes `subscribed`
      await until(() => sseMessages.some((m) => m.type === 'subscribed') && wsMessages.some((m) => m.id === 2), 'both subscribed',
        () => `WebSocket ${JSON.stringify(wsMessages)}, SSE ${JSON.stringify(sseMessages)}`);
      assert.equal(wsMessages.find((m) => m.id === 2)?.error, undefined);
      const res = await fetch(`${url}/api/publish`, {
        method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'news', data: { title: 'from the tarballs' } }),
      });
      assert.equal(res.status, 200, await res.text());
      const isPub = (m: Message): boolean => m.type === 'publication' && m.channel === 'news';
      await until(() => wsMessages.some(isPub) && sseMessages.some(isPub), 'the publication on both',
        () => `WebSocket ${JSON.stringify(wsMessages)}, SSE ${JSON.stringify(sseMessages)}`);
      assert.deepEqual(wsMessages.find(isPub)?.data, { title: 'from the tarballs' });
      assert.deepEqual(sseMessages.find(isPub)?.data, { title: 'from the tarballs' });
    } finally {
      ws.close();
      es.close();
    }
  });

  it('keeps a notification in the inbox (SQLite under --data-dir) and lists it', async () => {
    const headers = { 'x-api-key': API_KEY, 'content-type': 'application/json' };
    const created = await fetch(`${url}/api/notifications`, { method: 'POST', headers, body: JSON.stringify({ user: 'ada', type: 'news', payload: { title: 'hi' } }) });
    assert.equal(created.status, 200, await created.clone().text());
    const { notifications } = (await created.json()) as { notifications: { id: string }[] };
    const list = (await (await fetch(`${url}/api/notifications?user=ada`, { headers })).json()) as { notifications: { id: string; payload: unknown }[] };
    assert.deepEqual(list.notifications.map((n) => [n.id, n.payload]), [[notifications[0]?.id, { title: 'hi' }]]);
    const unread = (await (await fetch(`${url}/api/notifications/unread-count?user=ada`, { headers })).json()) as { unread: number };
    assert.equal(unread.unread, 1);
    assert.ok(existsSync(join(work, 'data', 'tidings.db')), 'the SQLite store is where --data-dir says');
  });

  it('serves the installed @tidings/client bundles at /client/ and /client/<version>/', async () => {
    const installed = readFileSync(join(project, 'node_modules', '@tidings', 'client', 'dist', 'browser', 'tidings-fallback.min.js'));
    for (const path of ['/client/tidings-fallback.min.js', `/client/${VERSION}/tidings-fallback.min.js`]) {
      const res = await fetch(url + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(installed), path);
    }
    const map = await fetch(`${url}/client/tidings.iife.min.js.map`);
    assert.equal(map.status, 200);
    await map.arrayBuffer();
  });

  it('serves the demo page from the installed @tidings/pages with --demo, and signs a demo token', async () => {
    const installed = readFileSync(join(project, 'node_modules', '@tidings', 'pages', 'dist', 'demo', 'index.html'));
    const page = await fetch(`${url}/demo/`);
    assert.equal(page.status, 200);
    assert.ok(Buffer.from(await page.arrayBuffer()).equals(installed));
    const token = await fetch(`${url}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ada"}' });
    assert.equal(token.status, 200);
    assert.equal(((await token.json()) as { user: string }).user, 'ada');
  });
});

/** What the tests read of a protocol message. */
interface Message { id?: number; type?: string; channel?: string; data?: unknown; error?: unknown }

async function until(done: () => boolean, what: string, detail?: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${detail ? `: ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Puts a native better-sqlite3 into the project: the clone's build when the versions match, else `npm rebuild`. */
function useNativeSqlite(project: string): void {
  const version = (dir: string): string => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const ours = join(root, 'node_modules', 'better-sqlite3');
  const theirs = join(project, 'node_modules', 'better-sqlite3');
  const binary = join('build', 'Release', 'better_sqlite3.node');
  if (existsSync(join(ours, binary)) && version(ours) === version(theirs)) {
    mkdirSync(join(theirs, 'build', 'Release'), { recursive: true });
    cpSync(join(ours, binary), join(theirs, binary));
    return;
  }
  const rebuilt = run('npm rebuild better-sqlite3', 'npm', ['rebuild', 'better-sqlite3', ...NPM_FLAGS], project, 600_000);
  assert.equal(rebuilt.status, 0, `npm rebuild better-sqlite3 failed:\n${tail(rebuilt.stderr)}`);
}
