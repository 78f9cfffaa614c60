/**
 * One node on the memory engine: a long-poll client with a `lease` is present and announced while
 * it polls, and leaves once its lease runs out; `GET /api/channels` is this node, complete.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configFile, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

describe('long-poll presence on the memory engine', () => {
  let t: TidingsProcess;

  before(async () => {
    const config = configFile({ namespaces: { room: { presence: true, joinLeave: true } } });
    t = await startTidings({ args: ['--config', config, '--ping-interval', '1'] });
  });
  after(async () => {
    await t.stop();
  });

  it('a poller with a lease joins once, is present, and leaves when it stops polling', async () => {
    const watcher = await WsClient.connect(t.wsUrl);
    await watcher.command('subscribe', { channel: 'room:m' });
    const lease = 'memory-engine-lease-0123456789';
    let cursor = '';
    for (let i = 0; i < 3; i++) {
      const query = cursor === '' ? 'channel=room:m' : `cursor=${encodeURIComponent(cursor)}`;
      const res = await fetch(`${t.url}/poll?${query}&wait=1&lease=${lease}`);
      assert.equal(res.status, 200);
      cursor = ((await res.json()) as { cursor: string }).cursor;
    }
    const present = (await t.api('GET', '/api/presence?channel=room:m')).body as { clients: Record<string, unknown> };
    const poller = Object.keys(present.clients).find((id) => id.startsWith('poll-'));
    assert.ok(poller, JSON.stringify(present));
    await watcher.until(() => watcher.pushes('leave').some((l) => l.info.client === poller), 10_000, 'the poller\'s leave');
    assert.equal(watcher.pushes('join').filter((j) => j.info.client === poller).length, 1);
    const after = (await t.api('GET', '/api/presence?channel=room:m')).body as { clients: Record<string, unknown> };
    assert.equal(after.clients[poller], undefined);
    assert.equal(Object.keys(after.clients).length, 1, 'the watcher stays: sessions renew their presence');

    const view = (await t.api('GET', '/api/channels')).body as { channels: Array<{ channel: string; subscribers: number }>; answered: string[]; missing: string[]; complete: boolean };
    assert.deepEqual(view.channels.find((c) => c.channel === 'room:m'), { channel: 'room:m', subscribers: 1 });
    assert.equal(view.answered.length, 1);
    assert.deepEqual(view.missing, []);
    assert.equal(view.complete, true);
    watcher.close();
  });
});
