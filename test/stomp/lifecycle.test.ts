import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_KEY, makeToken } from '../helpers/tidings.js';
import { RawStomp, header, startStompTidings, stompJs } from './helpers.js';

describe('STOMP connection lifecycle', () => {
  it('closes STOMP clients on graceful shutdown (ERROR, close 3000) and exits cleanly', async () => {
    const s = await startStompTidings();
    const tcp = await RawStomp.tcp(s.stompPort);
    await tcp.connect();
    const ws = await RawStomp.ws(s.t.wsUrl);
    await ws.connect();
    const started = Date.now();
    const exit = s.t.kill('SIGTERM');
    const [tcpError, wsError] = await Promise.all([tcp.errorThenClose(), ws.errorThenClose()]);
    for (const e of [tcpError, wsError]) {
      assert.equal(header(e, 'message'), 'server shutting down');
      assert.equal(header(e, 'x-close-code'), '3000');
      assert.equal(header(e, 'x-reconnect'), 'true');
    }
    assert.equal(ws.closeCode, 3000);
    assert.equal(await exit, 0);
    assert.ok(Date.now() - started < 5000);
  });

  it('refuses STOMP connections over the connection limit, counting every protocol', async () => {
    const s = await startStompTidings(['--max-connections', '2']);
    try {
      const a = await RawStomp.tcp(s.stompPort);
      await a.connect();
      const b = await stompJs(s.t.wsUrl);
      const c = await RawStomp.tcp(s.stompPort);
      const refused = await c.errorThenClose();
      assert.equal(header(refused, 'message'), 'connection limit reached');
      assert.equal(header(refused, 'x-close-code'), '3006');
      a.end();
      await b.client.deactivate();
    } finally {
      await s.t.stop();
    }
  });

  it('carries out POST /api/disconnect and ends a session whose token expires', async () => {
    const s = await startStompTidings();
    try {
      const carol = await RawStomp.tcp(s.stompPort);
      await carol.connect([['passcode', await makeToken('carol')]]);
      const res = await fetch(`${s.t.url}/api/disconnect`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ user: 'carol', reason: 'banned' }) });
      assert.equal(res.status, 200);
      const kicked = await carol.errorThenClose();
      assert.equal(header(kicked, 'message'), 'banned');
      assert.equal(header(kicked, 'x-reconnect'), 'false');

      const dave = await RawStomp.ws(s.t.wsUrl);
      await dave.connect([['Authorization', `Bearer ${await makeToken('dave', { expiresIn: 2 })}`]]);
      const expired = await dave.errorThenClose(5000);
      assert.equal(header(expired, 'message'), 'token expired');
      assert.equal(dave.closeCode, 3005);
    } finally {
      await s.t.stop();
    }
  });
});
