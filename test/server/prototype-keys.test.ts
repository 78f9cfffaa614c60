import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_KEY, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { ReplyError, WsClient } from '../helpers/ws-client.js';

type ErrorBody = { error: { code: number; message: string } };

/** Names of Object.prototype members: as namespaces they must be unknown like any other unconfigured name. */
const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

describe('namespace names that are Object.prototype members', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings();
  });
  after(async () => {
    await t.stop();
  });

  for (const name of PROTOTYPE_NAMES) {
    it(`${name}:x is an unknown channel on /poll, /api/publish and the WebSocket`, async () => {
      const poll = await fetch(`${t.url}/poll?channel=${encodeURIComponent(`${name}:x`)}&wait=0`);
      assert.equal(poll.status, 404, `/poll ${name}:x`);
      assert.equal(((await poll.json()) as ErrorBody).error.code, 102);

      const api = await fetch(`${t.url}/api/publish`, {
        method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: `${name}:x`, data: 1 }),
      });
      assert.equal(api.status, 404, `/api/publish ${name}:x`);
      assert.equal(((await api.json()) as ErrorBody).error.code, 102);

      const c = await WsClient.connect(t.wsUrl);
      try {
        await assert.rejects(c.command('subscribe', { channel: `${name}:x` }), (err: unknown) => err instanceof ReplyError && err.error.code === 102);
      } finally {
        c.close();
      }
    });
  }
});
