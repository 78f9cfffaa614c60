import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode, ErrorCode, type ServerMessage } from '@tidings/protocol';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

/** The ids of the replies and errors received, in the order they arrived. */
function answered(c: WsClient): number[] {
  return c.messages.filter((m): m is Extract<ServerMessage, { type: 'reply' | 'error' }> => m.type === 'reply' || m.type === 'error').map((m) => m.id);
}

/** One WebSocket text frame holding several messages, `\n`-separated. */
function frame(...lines: unknown[]): string {
  return lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
}

describe('WebSocket: replies in arrival order, decode failures included', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings();
  });
  after(async () => {
    await t.stop();
  });

  it('answers connect, a subscribe to an invalid channel and ping sent in one frame as 1, 2, 3', async () => {
    const c = await WsClient.open(t.wsUrl);
    c.sendRaw(frame({ id: 1, type: 'connect' }, { id: 2, type: 'subscribe', channel: 'not a channel!' }, { id: 3, type: 'ping' }));
    await c.until(() => answered(c).length === 3, 5000, 'three answers');
    assert.deepEqual(answered(c), [1, 2, 3]);
    const bad = c.messages.find((m) => m.type === 'error');
    assert.equal(bad?.type === 'error' && bad.error.code, ErrorCode.InvalidChannel);
    assert.equal(c.closeCode, undefined);
    c.close();
  });

  it('answers an undecodable command with an id in its turn between good ones', async () => {
    const c = await WsClient.open(t.wsUrl);
    c.sendRaw(frame({ id: 1, type: 'connect' }, { id: 2, type: 'ping' }, { id: 3, type: 'no-such-command' }, { id: 4, type: 'ping' }));
    await c.until(() => answered(c).length === 4, 5000, 'four answers');
    assert.deepEqual(answered(c), [1, 2, 3, 4]);
    assert.deepEqual(c.messages.map((m) => m.type), ['reply', 'reply', 'error', 'reply']);
    c.close();
  });

  it('closes with 3501 for a message without an id, after answering the commands before it, and runs none after it', async () => {
    const c = await WsClient.open(t.wsUrl);
    c.sendRaw(frame({ id: 1, type: 'connect' }, { id: 2, type: 'ping' }, 'this is not JSON', { id: 3, type: 'ping' }));
    assert.equal(await c.closed(), CloseCode.BadRequest);
    assert.deepEqual(answered(c), [1, 2]);
    assert.deepEqual(c.messages.map((m) => m.type), ['reply', 'reply', 'disconnect']);
  });
});
