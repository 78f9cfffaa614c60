import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventEmitter } from 'node:events';
import * as ws from 'ws';
import { PING_FRAME, closeFrame, frame, pongFrame } from './frames.js';

// ws's frame parser, client side (unmasked frames allowed); @types/ws does not declare it.
type ReceiverClass = new (opts: { isServer: boolean; skipUTF8Validation: boolean; maxPayload: number }) => EventEmitter & { write(b: Buffer): void };
const { Receiver } = ws as unknown as { Receiver: ReceiverClass };

/** What a client sees: [event, ...values]. */
function parse(bytes: Buffer): unknown[][] {
  const out: unknown[][] = [];
  const receiver = new Receiver({ isServer: false, skipUTF8Validation: false, maxPayload: 0 });
  receiver.on('message', (data: Buffer, binary: boolean) => out.push(['message', binary, data.length, data.toString('utf8').slice(0, 20)]));
  receiver.on('conclude', (code: number, reason: Buffer) => out.push(['close', code, reason.toString('utf8')]));
  receiver.on('ping', (data: Buffer) => out.push(['ping', data.toString()]));
  receiver.on('pong', (data: Buffer) => out.push(['pong', data.toString()]));
  receiver.on('error', (err: Error) => out.push(['error', err.message]));
  receiver.write(bytes);
  return out;
}

describe('server frames', () => {
  it('frames data at every length encoding', () => {
    for (const size of [0, 125, 126, 65535, 65536]) {
      assert.deepEqual(parse(frame(2, Buffer.alloc(size, 'b'))), [['message', true, size, 'b'.repeat(Math.min(size, 20))]]);
    }
    assert.deepEqual(parse(frame(1, Buffer.from('hi'))), [['message', false, 2, 'hi']]);
  });

  it('frames ping, pong and close', () => {
    assert.deepEqual(parse(PING_FRAME), [['ping', '']]);
    assert.deepEqual(parse(pongFrame(Buffer.from('p'))), [['pong', 'p']]);
    assert.deepEqual(parse(closeFrame(3001, 'slow')), [['close', 3001, 'slow']]);
    assert.deepEqual(parse(closeFrame(1005)), [['close', 1005, '']]);
  });

  it('cuts a long close reason to 123 bytes at a character boundary', () => {
    const bytes = closeFrame(1000, 'é'.repeat(100));
    assert.ok(bytes.length <= 2 + 125);
    assert.deepEqual(parse(bytes), [['close', 1000, 'é'.repeat(61)]]);
  });
});
