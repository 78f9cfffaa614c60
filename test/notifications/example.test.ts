import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { it } from 'node:test';
import { API_KEY, JWT_SECRET, makeToken, startTidings } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const run = promisify(execFile);
const example = fileURLToPath(new URL('../../examples/news-alerts.mjs', import.meta.url));
const bell = fileURLToPath(new URL('../../examples/news-bell.mjs', import.meta.url));
const clientDir = fileURLToPath(new URL('../../packages/client/', import.meta.url));

it('docs/notifications.md example: the crawler notifies each topic\'s subscribers once, live', async () => {
  const t = await startTidings();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-example-'));
    writeFileSync(join(dir, 'news.json'), JSON.stringify([
      { id: 'a1', topic: 'markets', title: 'KOSPI closes higher', url: 'https://example.com/a1' },
      { id: 'b2', topic: 'tech', title: 'New chip', url: 'https://example.com/b2' },
    ]));
    writeFileSync(join(dir, 'subscribers.json'), JSON.stringify({ markets: ['42', '43'], tech: ['43'] }));
    const device = await WsClient.connect(t.wsUrl, await makeToken('43'));
    await device.command('subscribe', { channel: 'inbox:43' });
    const env = { ...process.env, TIDINGS_URL: t.url, TIDINGS_API_KEY: API_KEY };
    const first = await run(process.execPath, [example, '--once', join(dir, 'news.json'), join(dir, 'subscribers.json')], { env });
    assert.match(first.stdout, /notified 3 users/);
    const second = await run(process.execPath, [example, join(dir, 'news.json'), '--once', join(dir, 'subscribers.json')], { env });
    assert.match(second.stdout, /notified 0 users/, 're-crawling notifies nobody twice');
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=42')).body, { unread: 1 });
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=43')).body, { unread: 2 });
    await device.until(() => device.pushes('publication').some((p) => (p.data as { type: string; unread?: number }).type === 'unread.count' && (p.data as { unread: number }).unread === 2));
    device.close();
  } finally {
    await t.stop();
  }
});

it('examples run once and exit: the crawler on its own data, then the bell page server shows the count', async () => {
  const built = await run(process.execPath, [`${clientDir}scripts/bundle.mjs`]);
  assert.match(built.stdout, /tidings-fallback\.min\.js/);
  const t = await startTidings();
  try {
    const env = { ...process.env, TIDINGS_URL: t.url, TIDINGS_API_KEY: API_KEY, TIDINGS_JWT_SECRET: JWT_SECRET, PORT: '0' };
    const crawled = await run(process.execPath, [example, '--once'], { env, timeout: 20_000 });
    // examples/data: two markets headlines for users 42 and 43, one tech headline for 43
    assert.match(crawled.stdout, /crawled 3 headlines, notified 5 users/);
    const page = await run(process.execPath, [bell, '--once'], { env, timeout: 20_000 });
    assert.match(page.stdout, /bell page for user 43 at http:\/\/localhost:\d+\//);
    assert.match(page.stdout, /served the page \(\d+ bytes\), the SDK \(\d{4,} bytes\) and a token for user 43/);
    assert.match(page.stdout, /the bell shows 3 unread for user 43/);
    await assert.rejects(run(process.execPath, [bell, '--once'], { env: { ...env, TIDINGS_JWT_SECRET: '' } }), { code: 2 });
  } finally {
    await t.stop();
  }
});
