import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { SETTINGS, envName } from 'tidings';
import { freePort, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { until } from '../helpers/until.js';
import { ReplyError, WsClient } from '../helpers/ws-client.js';

const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));

function tidings(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=tidings-source', '--import', 'tsx', bin, ...args], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same as `tidings`, without blocking, so a table of cases runs a few at a time. */
function tidingsAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--conditions=tidings-source', '--import', 'tsx', bin, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    }, (_err, _stdout, stderr) => resolve({ status: child.exitCode, stderr }));
  });
}

interface BadCase {
  /** A config file's contents, or flags, or environment variables. */
  file?: unknown;
  args?: string[];
  env?: Record<string, string>;
  /** The line stderr must hold after `tidings: invalid setting ` (the file's path is prefixed for file cases). */
  line: string;
}

const BAD: BadCase[] = [
  // issue 12: these three started a server
  { file: { namespaces: { chat: { publish: 'false' } } }, line: 'namespaces.chat.publish: expected boolean, got string' },
  { file: { namespaces: { chat: { histroySize: 5 } } }, line: 'namespaces.chat.histroySize: unknown key' },
  { file: { namespaces: { 'bad ns': {} } }, line: 'namespaces["bad ns"]: invalid namespace name "bad ns"' },
  // every namespace option kind
  { file: { namespaces: { chat: { historySize: '10' } } }, line: 'namespaces.chat.historySize: expected an integer ≥ 0, got string' },
  { file: { namespaces: { chat: { historySize: 2.5 } } }, line: 'namespaces.chat.historySize: expected an integer ≥ 0, got 2.5' },
  { file: { namespaces: { chat: { historyTtl: 0 } } }, line: 'namespaces.chat.historyTtl: expected a number of seconds > 0, got 0' },
  { file: { namespaces: { chat: { presence: 1 } } }, line: 'namespaces.chat.presence: expected boolean, got number' },
  { file: { namespaces: { chat: { joinLeave: 'true' } } }, line: 'namespaces.chat.joinLeave: expected boolean, got string' },
  { file: { namespaces: { chat: { subscribe: 'everyone' } } }, line: 'namespaces.chat.subscribe: expected one of anyone, authenticated, owner, got "everyone"' },
  { file: { namespaces: { '': { publish: null } } }, line: 'namespaces[""].publish: expected boolean, got null' },
  { file: { namespaces: { chat: true } }, line: 'namespaces.chat: expected an object, got boolean' },
  { file: { namespaces: { 'chat:x': {} } }, line: 'namespaces["chat:x"]: invalid namespace name' },
  { file: { namespaces: ['chat'] }, line: 'namespaces: expected an object, got array' },
  // JSON.parse makes `__proto__` an own key, which object assignment would turn into the prototype
  { file: JSON.parse('{"namespaces":{"__proto__":{"subscribe":"owner","publish":true}}}'), line: 'namespaces.__proto__: namespace name "__proto__" is reserved' },
  // every setting kind in the file: int, string, file, list, enum; unknown keys; not an object
  { file: { port: '8080' }, line: 'port: expected an integer from 0 to 65535, got string' },
  { file: { maxDepth: 1.5 }, line: 'maxDepth: expected an integer from 1 to 1000, got 1.5' },
  { file: { maxMessageSize: 10 }, line: 'maxMessageSize: expected an integer ≥ 64, got 10' },
  { file: { host: '' }, line: 'host: expected a non-empty string, got ""' },
  { file: { jwtSecret: 12345 }, line: 'jwtSecret: expected a non-empty string, got number' },
  { file: { jwtPublicKey: true }, line: 'jwtPublicKey: expected a file path, got boolean' },
  { file: { allowedOrigins: ['https://a.example', 7] }, line: 'allowedOrigins[1]: expected a string, got number' },
  { file: { redisCluster: { host: 'a' } }, line: 'redisCluster: expected a list of strings (an array, or one comma-separated string), got object' },
  { file: { engine: 'postgres' }, line: 'engine: expected one of memory, redis, got "postgres"' },
  { file: { logLevel: true }, line: 'logLevel: expected one of debug, info, warn, error, silent, got true' },
  { file: { prot: 1 }, line: 'prot: unknown key' },
  { file: { config: 'other.json' }, line: 'config: unknown key' },
  { file: ['port', 1], line: 'expected a JSON object, got array' },
  // environment variables and flags: strings parsed by type, then the same checks
  { env: { TIDINGS_STOMP_PORT: 'x' }, line: 'TIDINGS_STOMP_PORT: expected an integer from 0 to 65535, got "x"' },
  { env: { TIDINGS_HISTORY_SIZE: '-3' }, line: 'TIDINGS_HISTORY_SIZE: expected an integer ≥ 0, got -3' },
  { env: { TIDINGS_ENGINE: 'postgres' }, line: 'TIDINGS_ENGINE: expected one of memory, redis, got "postgres"' },
  { args: ['--port', '1.5'], line: '--port: expected an integer from 0 to 65535, got "1.5"' },
  { args: ['--stomp-port=70000'], line: '--stomp-port: expected an integer from 0 to 65535, got 70000' },
  { args: ['--store', 'disk'], line: '--store: expected one of sqlite, memory, postgres, got "disk"' },
  { args: ['--store', 'postgres'], line: '--store: postgres needs --postgres-url (or TIDINGS_POSTGRES_URL)' },
  { env: { TIDINGS_POSTGRES_STATEMENT_TIMEOUT: '5' }, line: 'TIDINGS_POSTGRES_STATEMENT_TIMEOUT: expected an integer from 100 to 600000, got 5' },
  { args: ['--redis-prefix='], line: '--redis-prefix: expected a non-empty string, got ""' },
  { args: ['--histroy-size', '5'], line: '--histroy-size: unknown option' },
  { args: ['--jwt-secret'], line: '--jwt-secret: a value is required' },
  { env: { TIDINGS_MAX_QUEUE_BYTES: '-5' }, line: 'TIDINGS_MAX_QUEUE_BYTES: expected an integer ≥ 1024, got -5' },
  { env: { TIDINGS_LOG_LEVEL: 'loud' }, line: 'TIDINGS_LOG_LEVEL: expected one of debug, info, warn, error, silent, got "loud"' },
  // a bad env var is refused even when a flag overrides it, as a bad file value is
  { args: ['--log-level', 'warn'], env: { TIDINGS_LOG_LEVEL: 'loud' }, line: 'TIDINGS_LOG_LEVEL: expected one of debug, info, warn, error, silent, got "loud"' },
  { args: ['--config', '/nonexistent/tidings.json'], line: '--config: cannot read /nonexistent/tidings.json' },
  { args: ['--jwt-public-key', '/nonexistent.pem'], line: '--jwt-public-key: /nonexistent.pem is not a readable PEM public key' },
  { args: ['--engine', 'redis', '--redis-cluster', 'a:1,b'], line: '--redis-cluster: expected host:port seeds, got "b"' },
];

describe('tidings CLI', () => {
  it('refuses a config that is not what it says: exit 2, naming the source and path of each bad setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-bad-'));
    const runs = BAD.map((c, i) => async () => {
      let args = c.args ?? [];
      let line = c.line;
      if (c.file !== undefined) {
        const file = join(dir, `bad-${i}.json`);
        writeFileSync(file, JSON.stringify(c.file));
        args = ['--config', file];
        line = `${file}: ${line}`;
      }
      const r = await tidingsAsync(['serve', '--port', '0', '--store', 'memory', ...args], c.env);
      return { c, line, r };
    });
    const results = [];
    for (let i = 0; i < runs.length; i += 4) results.push(...await Promise.all(runs.slice(i, i + 4).map((run) => run())));
    for (const { c, line, r } of results) {
      assert.equal(r.status, 2, `${JSON.stringify(c)} → ${r.status}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`tidings: invalid setting ${line}`), `${JSON.stringify(c)}: stderr lacks ${line}:\n${r.stderr}`);
    }
  });

  it('reports every bad setting at once, from flags, env and the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-bad-'));
    const file = join(dir, 'tidings.json');
    writeFileSync(file, JSON.stringify({ namespaces: { chat: { publish: 'false', histroySize: 5 } } }));
    const r = tidings(['serve', '--config', file, '--port', 'x'], { TIDINGS_MAX_DEPTH: '0' });
    assert.equal(r.status, 2);
    assert.deepEqual(r.stderr.trim().split('\n'), [
      'tidings: invalid setting --port: expected an integer from 0 to 65535, got "x"',
      'tidings: invalid setting TIDINGS_MAX_DEPTH: expected an integer from 1 to 1000, got 0',
      `tidings: invalid setting ${file}: namespaces.chat.publish: expected boolean, got string`,
      `tidings: invalid setting ${file}: namespaces.chat.histroySize: unknown key`,
    ]);
  });

  it('starts with a config using every kind of value, and its namespaces mean what they say', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-'));
    const config = join(dir, 'tidings.json');
    writeFileSync(config, JSON.stringify({
      maxDepth: 8,
      logLevel: 'warn',
      engine: 'memory',
      allowedOrigins: 'https://a.example, https://b.example',
      redisCluster: [],
      namespaces: {
        chat: { publish: false, presence: true, joinLeave: false, subscribe: 'anyone', historySize: 5, historyTtl: 60 },
        game: { publish: true },
        'team-1.x': { publish: true, subscribe: 'authenticated' },
      },
    }));
    const t = await startTidings({ args: ['--config', config], env: { TIDINGS_HISTORY_SIZE: '2' } });
    try {
      const c = await WsClient.connect(t.wsUrl);
      await assert.rejects(c.command('publish', { channel: 'chat:x', data: 'hi' }), (err: unknown) => err instanceof ReplyError && err.error.code === 103);
      await c.command('publish', { channel: 'game:1', data: 'move' });
      await assert.rejects(c.command('publish', { channel: 'team-1.x:a', data: 'hi' }), ReplyError);
      for (let i = 0; i < 3; i++) await t.publish('news', i);
      const h = await t.api('GET', '/api/history?channel=news');
      assert.equal((h.body as { publications: unknown[] }).publications.length, 2);
      c.close();
    } finally {
      await t.stop();
    }
  });

  it('prints help naming every flag and its environment variable', () => {
    const r = tidings(['serve', '--help']);
    assert.equal(r.status, 0);
    for (const s of SETTINGS) {
      assert.ok(r.stdout.includes(`--${s.flag}`), `--${s.flag} in help`);
      assert.ok(r.stdout.includes(envName(s.flag)), `${envName(s.flag)} in help`);
    }
  });

  it('exits with 2 for an unknown command or a stray argument', () => {
    const launch = tidings(['launch']);
    assert.equal(launch.status, 2);
    assert.match(launch.stderr, /unknown command "launch"/);
    const stray = tidings(['serve', 'now']);
    assert.equal(stray.status, 2);
    assert.match(stray.stderr, /invalid setting now: unexpected argument/);
  });

  it('takes settings from a config file and lets flags override it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-'));
    const config = join(dir, 'tidings.json');
    writeFileSync(config, JSON.stringify({ historySize: 1, namespaces: { game: { publish: true } } }));
    const t = await startTidings({ args: ['--config', config] });
    try {
      const c = await WsClient.connect(t.wsUrl);
      await c.command('publish', { channel: 'game:1', data: 'move' });
      for (let i = 0; i < 3; i++) await t.publish('news', i);
      const h = await t.api('GET', '/api/history?channel=news');
      assert.equal((h.body as { publications: unknown[] }).publications.length, 1);
      c.close();
    } finally {
      await t.stop();
    }
  });

  it('drains on SIGTERM: clients are told to reconnect (3000) and the process exits 0', async () => {
    const t = await startTidings({ args: ['--shutdown-timeout', '5'] });
    const clients = await Promise.all([1, 2, 3].map(() => WsClient.connect(t.wsUrl)));
    const started = Date.now();
    const code = await t.kill('SIGTERM');
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 6000, 'exited within the shutdown timeout');
    for (const c of clients) {
      assert.equal(await c.closed(), 3000);
      const d = c.pushes('disconnect')[0];
      assert.equal(d?.code, 3000);
      assert.equal(d?.reconnect, true);
    }
  });

  it('logs start, drain and engine up and down at info, one JSON object per line on stderr', async () => {
    const t = await startTidings({ args: ['--allowed-origins', 'https://app.example'], env: { TIDINGS_LOG_LEVEL: 'info' } });
    const c = await WsClient.connect(t.wsUrl);
    assert.equal(await t.kill('SIGTERM'), 0);
    assert.equal(await c.closed(), 3000);
    const lines = t.output.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; connections?: number });
    assert.deepEqual(lines.map((l) => l.msg), ['engine up', 'listening', 'shutting down', 'draining', 'drained', 'engine down', 'stopped']);
    assert.ok(lines.every((l) => l.level === 'info'));
    assert.equal(lines.find((l) => l.msg === 'draining')?.connections, 1);
  });

  it('--log-format pretty writes readable lines, not JSON', async () => {
    const t = await startTidings({ args: ['--log-format', 'pretty'], env: { TIDINGS_LOG_LEVEL: 'info' } });
    assert.equal((await fetch(`${t.url}/sse?channel=news`, { headers: { origin: 'https://evil.example' } })).status, 403);
    assert.equal(await t.kill('SIGTERM'), 0);
    const lines = t.output.split('\n').filter((l) => l !== '');
    assert.ok(!lines.some((l) => l.startsWith('{')), `no JSON lines:\n${t.output}`);
    assert.match(t.output, /^Tidings [\d.]+ is listening$/m);
    assert.match(t.output, /^\[[\d:.]+\] INFO: refused\n(    .*\n)*    reason: "origin"$/m);
    assert.match(t.output, /^\[[\d:.]+\] INFO: stopped$/m);
    assert.equal(tidings(['serve', '--log-format', 'xml']).status, 2);
  });

  it('prints a banner whose URLs answer, with the engine, the store and a warning per foot-gun (pretty)', async () => {
    const stompPort = await freePort();
    const t = await startTidings({ args: ['--log-format', 'pretty', '--stomp-port', String(stompPort), '--store', 'memory'], env: { TIDINGS_LOG_LEVEL: 'info' } });
    try {
      const banner = await bannerOf(t);
      const url = (name: string): string => new RegExp(`^  ${name} +(\\S+)`, 'm').exec(banner)?.[1] ?? assert.fail(`no ${name} in\n${banner}`);
      assert.equal(url('WebSocket'), `ws://127.0.0.1:${t.port}/ws`);
      assert.equal(url('STOMP TCP'), `stomp://127.0.0.1:${stompPort}`);
      assert.match(banner, /^  Engine +memory +\(one process, a single node;/m);
      assert.match(banner, /^  Store +memory +\(notifications are gone/m);
      // the server the helper starts has an API key and a JWT secret, not allowed origins
      assert.deepEqual(banner.split('\n').filter((l) => l.startsWith('  warning: ')).map((l) => l.slice(11, 32)), ['no --allowed-origins:']);
      (await WsClient.connect(url('WebSocket'))).close();
      await new Promise<void>((resolve, reject) => connect(stompPort, '127.0.0.1', resolve).on('error', reject).unref());
      for (const [name, path] of [['Health', ''], ['Metrics', ''], ['SockJS', '/info']] as const) {
        assert.equal((await fetch(url(name) + path)).status, 200, name);
      }
      assert.equal((await fetch(`${url('Server API')}openapi.json`)).status, 200);
      assert.equal((await fetch(url('SSE'), { headers: { origin: 'https://app.example' } })).status, 403, 'the warning is true: a page is refused');
    } finally {
      await t.stop();
    }
  });

  it('JSON log mode: the endpoints in the `listening` line and each foot-gun as one warn line naming its setting', async () => {
    const t = await startTidings({ apiKey: null, env: { TIDINGS_LOG_LEVEL: 'info' } });
    try {
      await until(() => t.output.includes('"setting":"api-key"'), 5000, 'the api-key warning');
      const lines = t.output.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; setting?: string; endpoints?: Record<string, string> });
      const listening = lines.find((l) => l.msg === 'listening');
      assert.equal(listening?.endpoints?.SSE, `http://127.0.0.1:${t.port}/sse`);
      assert.equal(listening?.endpoints?.Health, `http://127.0.0.1:${t.port}/healthz`);
      assert.deepEqual(lines.filter((l) => l.level === 'warn').map((l) => l.setting), ['allowed-origins', 'api-key']);
    } finally {
      await t.stop();
    }
  });
});

/** The banner on the server's stderr, once it is complete (its `Store` row follows every endpoint). */
async function bannerOf(t: TidingsProcess): Promise<string> {
  await until(() => /^ {2}Store .*\n(( {2}warning: .*)?\n)*/m.test(t.output) && t.output.endsWith('\n'), 5000, 'the banner');
  return t.output.slice(t.output.indexOf('Tidings '));
}
