import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCommand, decodeFrame, decodeServerFrame, encodePublication } from './codec.js';
import type { Publication } from './messages.js';
import { CLOSE_CODES, ERROR_CODES, shouldReconnect } from './codes.js';
import { isValidChannel, isValidNamespace, namespaceOf, channelKey } from './channel.js';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('decodeCommand', () => {
  it('accepts every well-formed command and keeps only known fields', () => {
    assert.deepEqual(decodeCommand({ id: 1, type: 'connect', token: 't', extra: 1 }), { ok: true, command: { type: 'connect', id: 1, token: 't' } });
    assert.deepEqual(decodeCommand({ id: 2, type: 'subscribe', channel: 'a:b', since: { offset: 3, epoch: 'e' } }),
      { ok: true, command: { type: 'subscribe', id: 2, channel: 'a:b', since: { offset: 3, epoch: 'e' } } });
    assert.deepEqual(decodeCommand({ id: 3, type: 'publish', channel: 'x', data: null }), { ok: true, command: { type: 'publish', id: 3, channel: 'x', data: null } });
    assert.deepEqual(decodeCommand({ id: 3, type: 'publish', channel: 'x', data: 1, idempotencyKey: 'k' }),
      { ok: true, command: { type: 'publish', id: 3, channel: 'x', data: 1, idempotencyKey: 'k' } });
    assert.deepEqual(decodeCommand({ id: 4, type: 'history', channel: 'x', limit: 0 }), { ok: true, command: { type: 'history', id: 4, channel: 'x', limit: 0 } });
    assert.equal(decodeCommand({ id: 5, type: 'ping' }).ok, true);
    assert.deepEqual(decodeCommand({ id: 6, type: 'connect', data: { app: 1 } }), { ok: true, command: { type: 'connect', id: 6, data: { app: 1 } } });
    assert.deepEqual(decodeCommand({ id: 8, type: 'rpc', method: 'rooms.list', data: [1] }), { ok: true, command: { type: 'rpc', id: 8, method: 'rooms.list', data: [1] } });
    assert.deepEqual(decodeCommand({ id: 9, type: 'rpc', method: 'm' }), { ok: true, command: { type: 'rpc', id: 9, method: 'm' } });
  });

  it('refuses an rpc without a method of 1 to 255 characters', () => {
    for (const method of [undefined, '', 7, 'x'.repeat(256)]) {
      assert.deepEqual(decodeCommand({ id: 3, type: 'rpc', method }), { ok: false, id: 3, error: { code: 107, message: '`method` must be a string of 1 to 255 characters' } });
    }
  });

  it('refuses bad shapes with a code, keeping the id when there is one', () => {
    const cases: Array<[unknown, number | undefined, number]> = [
      [null, undefined, 107],
      [[1], undefined, 107],
      [{ type: 'ping' }, undefined, 107],
      [{ id: 0, type: 'ping' }, undefined, 107],
      [{ id: 1.5, type: 'ping' }, undefined, 107],
      [{ id: 7, type: 'nope' }, 7, 104],
      [{ id: 7, type: 'subscribe' }, 7, 107],
      [{ id: 7, type: 'subscribe', channel: 'bad channel' }, 7, 111],
      [{ id: 7, type: 'subscribe', channel: 'x', since: { offset: -1, epoch: 'e' } }, 7, 107],
      [{ id: 7, type: 'subscribe', channel: 'x', since: { offset: 1 } }, 7, 107],
      [{ id: 7, type: 'publish', channel: 'x' }, 7, 107],
      [{ id: 7, type: 'publish', channel: 'x', data: 1, idempotencyKey: '' }, 7, 107],
      [{ id: 7, type: 'publish', channel: 'x', data: 1, idempotencyKey: 5 }, 7, 107],
      [{ id: 7, type: 'publish', channel: 'x', data: 1, idempotencyKey: 'k'.repeat(256) }, 7, 107],
      [{ id: 7, type: 'refresh', token: '' }, 7, 107],
      [{ id: 7, type: 'history', channel: 'x', limit: 'all' }, 7, 107],
    ];
    for (const [input, id, code] of cases) {
      const d = decodeCommand(input);
      assert.equal(d.ok, false, JSON.stringify(input));
      if (!d.ok) {
        assert.equal(d.id, id, JSON.stringify(input));
        assert.equal(d.error.code, code, JSON.stringify(input));
      }
    }
  });

  it('splits a frame into commands by newline and reports bad JSON lines', () => {
    const d = decodeFrame('{"id":1,"type":"ping"}\n\n{oops\n{"id":2,"type":"ping"}');
    assert.deepEqual(d.map((x) => x.ok), [true, false, true]);
  });

  it('encodes a publication with its data JSON given to the same text as without', () => {
    const pubs: Publication[] = [
      { channel: 'user:7', offset: 12, epoch: 'e-1', data: { text: 'é "quoted"\n', n: [1, null, true] }, time: 1700000000123 },
      { channel: 'c', offset: 1, epoch: 'e', data: 'plain', time: 5, info: { client: 'a', user: 'u' } },
      { channel: 'c', offset: 2, epoch: 'e', data: null, time: 6, info: { client: 'a', user: 'u' }, headers: { 'x-a': '1' } },
      { channel: 'c', offset: 3, epoch: 'e', data: 0, time: 7, headers: { h: 'v' } },
    ];
    for (const pub of pubs) assert.equal(encodePublication(pub, JSON.stringify(pub.data)), encodePublication(pub));
  });

  it('round-trips a publication through the server frame decoder', () => {
    const pub = { channel: 'c', offset: 1, epoch: 'e', data: { text: 'line\nbreak' }, time: 5 };
    const frame = `${encodePublication(pub)}\n${encodePublication({ ...pub, offset: 2 })}`;
    assert.deepEqual(decodeServerFrame(frame).map((m) => m.type === 'publication' && m.offset), [1, 2]);
  });
});

describe('codes', () => {
  it('has unique codes and reconnect flags that agree with the ranges', () => {
    assert.equal(new Set(ERROR_CODES.map((e) => e.code)).size, ERROR_CODES.length);
    for (const c of CLOSE_CODES) assert.equal(shouldReconnect(c.code), c.reconnect, String(c.code));
    assert.equal(shouldReconnect(1006), true);
    assert.equal(shouldReconnect(1009), false);
    assert.equal(shouldReconnect(4100), true);
    assert.equal(shouldReconnect(4600), false);
  });
});

describe('channel names', () => {
  it('validates charset and length and splits namespaces', () => {
    assert.equal(isValidChannel('chat:room-1.a_b@c=d,e/f'), true);
    assert.equal(isValidChannel(''), false);
    assert.equal(isValidChannel('a'.repeat(255)), true);
    assert.equal(isValidChannel('a'.repeat(256)), false);
    assert.equal(isValidChannel('a b'), false);
    assert.equal(isValidNamespace(''), true);
    assert.equal(isValidNamespace('team-1.x'), true);
    assert.equal(isValidNamespace('a:b'), false);
    assert.equal(isValidNamespace('bad ns'), false);
    assert.equal(isValidNamespace('a'.repeat(256)), false);
    assert.equal(namespaceOf('user:42'), 'user');
    assert.equal(namespaceOf('news'), '');
    assert.equal(channelKey('user:42:x'), '42:x');
  });
});

describe('cursor', () => {
  it('round-trips and refuses malformed text', () => {
    const c = new Map([['news', { offset: 12, epoch: 'Xc2mP0Qa' }], ['chat:lobby', { offset: 0, epoch: 'A-_b' }]]);
    const text = encodeCursor(c);
    assert.equal(text, 'news~12~Xc2mP0Qa!chat:lobby~0~A-_b');
    assert.deepEqual(decodeCursor(text), c);
    assert.deepEqual(decodeCursor(''), new Map());
    for (const bad of ['news', 'news~1', 'news~x~e', 'news~1~e~f', 'bad name~1~e', 'news~1~e!news~2~e', 'news~1~e/', '~1~e', 'news~-1~e']) {
      assert.equal(decodeCursor(bad), null, bad);
    }
  });
});
