import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

describe('slow consumers', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings({ args: ['--max-queue-bytes', '262144', '--history-size', '1000'], env: { TIDINGS_LOG_LEVEL: 'info' } });
  });
  after(async () => {
    await t.stop();
  });

  it('disconnects a client that stops reading with 3001 while a normal client keeps receiving', async () => {
    const slow = await WsClient.connect(t.wsUrl);
    const normal = await WsClient.connect(t.wsUrl);
    await slow.command('subscribe', { channel: 'flood' });
    await normal.command('subscribe', { channel: 'flood' });
    slow.ws.pause();

    const payload = 'x'.repeat(16 * 1024);
    const total = 800;
    for (let i = 1; i <= total; i++) {
      await t.publish('flood', { i, payload });
      if (i % 100 === 0) assert.equal((await fetch(`${t.url}/readyz`)).status, 200, 'the server keeps answering during the flood');
    }
    await normal.until(() => normal.pushes('publication').length === total, 20_000, 'all publications at the normal client');
    assert.deepEqual(normal.pushes('publication').map((p) => (p.data as { i: number }).i), Array.from({ length: total }, (_, i) => i + 1));
    assert.equal(normal.closeCode, undefined);

    slow.ws.resume();
    assert.equal(await slow.closed(10_000), 3001);
    assert.ok(slow.pushes('publication').length < total, 'the slow client was cut off before the end');
    assert.equal(t.output.split('\n').filter((l) => l.includes('"msg":"slow consumer disconnected"') && l.includes('"code":3001')).length, 1, 'one info line for the cut');
    normal.close();
  });
});
