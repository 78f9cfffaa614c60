import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventEmitter } from 'node:events';
import * as ws from 'ws';
import { textFrame } from './websocket.js';

// ws's frame parser (exported by ws's ESM entry; @types/ws does not declare it).
type ReceiverClass = new (opts: { isServer: boolean; skipUTF8Validation: boolean; maxPayload: number }) => EventEmitter & { write(b: Buffer): void };
const { Receiver } = ws as unknown as { Receiver: ReceiverClass };

/** Parses frames the way a client does (ws's own Receiver, client side: unmasked frames allowed). */
function parse(frame: Buffer): string[] {
  const out: string[] = [];
  const receiver = new Receiver({ isServer: false, skipUTF8Validation: false, maxPayload: 0 });
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    assert.equal(isBinary, false);
    out.push(data.toString('utf8'));
  });
  receiver.on('error', (err: Error) => assert.fail(err));
  receiver.write(frame);
  return out;
}

describe('textFrame', () => {
  it('frames messages joined by newlines at every length encoding', () => {
    for (const size of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
      const a = Buffer.alloc(size, 'a');
      assert.deepEqual(parse(textFrame(a)), [a.toString()], `one message of ${size}`);
      const b = Buffer.from('{"b":1}');
      assert.deepEqual(parse(textFrame(a, [b])), [`${a.toString()}\n{"b":1}`], `two messages, ${size}`);
      assert.deepEqual(parse(textFrame(b, [a, b])), [`{"b":1}\n${a.toString()}\n{"b":1}`], `three messages, ${size}`);
    }
  });

  it('reuses the frame for the same messages and rebuilds for others', () => {
    const m1 = Buffer.from('{"x":1}');
    const m2 = Buffer.from('{"x":2}');
    const f1 = textFrame(m1, [m2]);
    assert.equal(textFrame(m1, [m2]), f1);
    const single = textFrame(m1);
    assert.notEqual(single, f1);
    assert.equal(textFrame(m1), single);
    assert.notEqual(textFrame(m1, [Buffer.from('{"x":2}')]), f1);
    assert.notEqual(textFrame(m1, [m2, m2]), textFrame(m1, [m2]));
    assert.deepEqual(parse(textFrame(m2, [m1])), ['{"x":2}\n{"x":1}']);
  });
});
