import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Opcode } from '../websocket/receiver.js';
import { PartsCache, joinParts, writeParts } from './shared-writes.js';

/** A stream that records the chunks of each write or writev it is handed. */
function recorder(): { stream: Writable; calls: Buffer[][] } {
  const calls: Buffer[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => c.chunk as Buffer));
      cb();
    },
  });
  return { stream, calls };
}

const PREFIX = Buffer.from('MESSAGE\nsubscription:7\n');
const ACK = Buffer.from('ack:12\n');
const TAIL = Buffer.from('destination:/topic/a\nmessage-id:e-1\ncontent-length:3\n\nabc\0');

describe('STOMP shared writes', () => {
  it('writes a WebSocket frame as one writev: header and own lines copied together, the shared tail by reference', () => {
    const { stream, calls } = recorder();
    const parts = [PREFIX, ACK, TAIL, PREFIX, TAIL];
    const bytes = parts.reduce((n, p) => n + p.length, 0);
    writeParts(stream, parts, parts.length, bytes, Opcode.Text);
    assert.equal(calls.length, 1, 'one writev');
    const [chunks] = calls;
    assert.equal(chunks!.length, 4);
    assert.equal(chunks![1], TAIL, 'the tail itself, not a copy');
    assert.equal(chunks![3], TAIL);
    assert.deepEqual(Buffer.concat(chunks!), joinParts(parts, parts.length, bytes, Opcode.Text));
    const frame = Buffer.concat(chunks!);
    assert.equal(frame[0], 0x80 | Opcode.Text);
    assert.equal(frame[1], 126);
    assert.equal(frame.readUInt16BE(2), bytes);
    assert.deepEqual(frame.subarray(4), Buffer.concat(parts));
  });

  it('over TCP writes the same parts without a frame header, and only the first `count`', () => {
    const { stream, calls } = recorder();
    writeParts(stream, [PREFIX, TAIL, ACK], 2, PREFIX.length + TAIL.length, undefined);
    assert.deepEqual(calls[0]!.map((c) => c.toString()), [PREFIX.toString(), TAIL.toString()]);
    assert.equal(calls[0]![1], TAIL);
  });

  it('remembers a value only for the same Buffers in the same order and the same tag', () => {
    const cache = new PartsCache<string>();
    const parts = [PREFIX, TAIL];
    cache.remember(parts, 2, 1, 'frame');
    assert.equal(cache.get([PREFIX, TAIL], 2, 1), 'frame');
    assert.equal(cache.get([PREFIX, TAIL], 2, 2), undefined, 'another opcode');
    assert.equal(cache.get([Buffer.from(PREFIX), TAIL], 2, 1), undefined, 'equal bytes, another Buffer');
    assert.equal(cache.get([TAIL, PREFIX], 2, 1), undefined);
    assert.equal(cache.get([PREFIX, TAIL, TAIL], 3, 1), undefined);
    assert.equal(cache.get([PREFIX, TAIL, TAIL], 2, 1), 'frame', 'entries past count are not parts');
    cache.remember([PREFIX], 1, 1, undefined);
    assert.equal(cache.matches([PREFIX], 1, 1), true);
    assert.equal(cache.get([PREFIX], 1, 1), undefined);
  });

  it('keeps its own copy of the parts: the caller may reuse the array', () => {
    const cache = new PartsCache<string>();
    const queue = [PREFIX, TAIL];
    cache.remember(queue, 2, 1, 'frame');
    queue[0] = ACK;
    queue[1] = TAIL;
    assert.equal(cache.get(queue, 2, 1), undefined, 'the array now holds other parts');
    assert.equal(cache.get([PREFIX, TAIL], 2, 1), 'frame');
  });
});
