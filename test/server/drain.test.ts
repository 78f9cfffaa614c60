import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawConnection } from '../helpers/raw-http.js';
import { startTidings } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

type ErrorBody = { error: { code: number; message: string } };

describe('draining (SIGTERM)', () => {
  it('keeps answering health checks: /readyz 503 (118), /healthz 200, new transport connections 503 (118)', async () => {
    const t = await startTidings({ args: ['--shutdown-timeout', '20'] });
    // a WebSocket client that never answers the server's close frame keeps the drain going (5 s close handshake)
    const stuck = await RawConnection.open(t.port);
    stuck.get('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n');
    assert.match(await stuck.read((text) => text.includes('\r\n\r\n')), /^HTTP\/1\.1 101 /);
    const polite = await WsClient.connect(t.wsUrl);
    assert.equal((await fetch(`${t.url}/readyz`)).status, 200);

    const exited = t.kill('SIGTERM');
    assert.equal(await polite.closed(), 3000);
    const started = Date.now();
    let ready: Response | undefined;
    while (Date.now() - started < 3000) {
      ready = await fetch(`${t.url}/readyz`);
      if (ready.status !== 200) break;
      await ready.arrayBuffer();
    }
    assert.equal(ready?.status, 503);
    assert.equal(((await ready.json()) as ErrorBody).error.code, 118);
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);

    const sse = await fetch(`${t.url}/sse?channel=news`);
    assert.equal(sse.status, 503);
    assert.equal(((await sse.json()) as ErrorBody).error.code, 118);
    const poll = await fetch(`${t.url}/poll?channel=news&wait=0`);
    assert.equal(poll.status, 503);
    assert.equal(((await poll.json()) as ErrorBody).error.code, 118);
    await assert.rejects(WsClient.open(t.wsUrl), /handshake refused: 503/);

    assert.equal(await exited, 0);
    stuck.close();
    await assert.rejects(fetch(`${t.url}/healthz`), 'the listener is closed once the drain is over');
  });
});
