import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { it } from 'node:test';
import { API_KEY, makeToken, startTidings } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const run = promisify(execFile);
const example = fileURLToPath(new URL('../../examples/news-alerts.mjs', import.meta.url));

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
    const env = { ...process.env, TIDINGS_URL: t.url, TIDINGS_API_KEY: API_KEY, CRAWL_ONCE: '1' };
    const first = await run(process.execPath, [example, join(dir, 'news.json'), join(dir, 'subscribers.json')], { env });
    assert.match(first.stdout, /notified 3 users/);
    const second = await run(process.execPath, [example, join(dir, 'news.json'), join(dir, 'subscribers.json')], { env });
    assert.match(second.stdout, /notified 0 users/, 're-crawling notifies nobody twice');
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=42')).body, { unread: 1 });
    assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=43')).body, { unread: 2 });
    await device.until(() => device.pushes('publication').some((p) => (p.data as { type: string; unread?: number }).type === 'unread.count' && (p.data as { unread: number }).unread === 2));
    device.close();
  } finally {
    await t.stop();
  }
});
