import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { SETTINGS, envName } from '@tidings/cli';
import { startTidings } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));

function tidings(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=tidings-source', '--import', 'tsx', bin, ...args], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tidings CLI', () => {
  it('prints help naming every flag and its environment variable', () => {
    const r = tidings(['serve', '--help']);
    assert.equal(r.status, 0);
    for (const s of SETTINGS) {
      assert.ok(r.stdout.includes(`--${s.flag}`), `--${s.flag} in help`);
      assert.ok(r.stdout.includes(envName(s.flag)), `${envName(s.flag)} in help`);
    }
  });

  it('exits with 2 and names the setting for a bad flag, env var or config file entry', () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['serve', '--port', 'abc'], {}, /--port/],
      [['serve', '--port', '70000'], {}, /--port/],
      [['serve', '--no-such-flag', '1'], {}, /--no-such-flag/],
      [['serve'], { TIDINGS_MAX_QUEUE_BYTES: '-5' }, /TIDINGS_MAX_QUEUE_BYTES/],
      [['serve'], { TIDINGS_LOG_LEVEL: 'loud' }, /TIDINGS_LOG_LEVEL/],
      [['serve', '--config', '/nonexistent/tidings.json'], {}, /--config/],
      [['serve', '--jwt-public-key', '/nonexistent.pem'], {}, /--jwt-public-key/],
      [['launch'], {}, /unknown command/],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'tidings-'));
    const badNs = join(dir, 'bad-ns.json');
    writeFileSync(badNs, JSON.stringify({ namespaces: { chat: { subscribe: 'everyone' } } }));
    cases.push([['serve', '--config', badNs], {}, /namespaces\.chat\.subscribe/]);
    const badKey = join(dir, 'bad-key.json');
    writeFileSync(badKey, JSON.stringify({ prot: 1 }));
    cases.push([['serve', '--config', badKey], {}, /prot/]);
    for (const [args, env, pattern] of cases) {
      const r = tidings(args, env);
      assert.equal(r.status, 2, `${args.join(' ')} ${JSON.stringify(env)} → ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
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
    const t = await startTidings({ env: { TIDINGS_LOG_LEVEL: 'info' } });
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
    assert.match(t.output, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: listening$/m);
    assert.match(t.output, /^\[[\d:.]+\] INFO: refused\n(    .*\n)*    reason: "origin"$/m);
    assert.match(t.output, /^\[[\d:.]+\] INFO: stopped$/m);
    assert.equal(tidings(['serve', '--log-format', 'xml']).status, 2);
  });
});
