import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, deflateRawSync } from 'node:zlib';
import { Receiver, type ReceiverSink } from './receiver.js';

type Event = [kind: string, ...values: Array<string | number | boolean>];

/** Records what a receiver reports. */
class Recorder implements ReceiverSink {
  readonly events: Event[] = [];
  onMessage(data: Buffer, binary: boolean): void {
    this.events.push(['message', binary ? data.toString('hex') : data.toString('utf8'), binary]);
  }
  onPing(data: Buffer): void {
    this.events.push(['ping', data.toString('utf8')]);
  }
  onPong(data: Buffer): void {
    this.events.push(['pong', data.toString('utf8')]);
  }
  onClose(code: number, reason: string): void {
    this.events.push(['close', code, reason]);
  }
  onProtocolError(code: number): void {
    this.events.push(['error', code]);
  }
}

interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  masked?: boolean;
  rsv?: number;
  /** Force the 16- or 64-bit length encoding. */
  lengthBytes?: 0 | 2 | 8;
}

/** A client frame, masked with a fixed key unless `masked: false`. */
function clientFrame({ opcode, payload = '', fin = true, masked = true, rsv = 0, lengthBytes }: FrameSpec): Buffer {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const ext = lengthBytes ?? (data.length < 126 ? 0 : data.length < 65536 ? 2 : 8);
  const header = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  header[1] = (masked ? 0x80 : 0) | (ext === 0 ? data.length : ext === 2 ? 126 : 127);
  if (ext === 2) header.writeUInt16BE(data.length, 2);
  if (ext === 8) header.writeBigUInt64BE(BigInt(data.length), 2);
  if (!masked) return Buffer.concat([header, data]);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  key.copy(header, 2 + ext);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i & 3]!;
  return Buffer.concat([header, body]);
}

function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const r = Buffer.isBuffer(reason) ? reason : Buffer.from(reason);
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

/** Pushes `input` in the given pieces (copies: the receiver unmasks in place) and returns the events. */
function run(input: Buffer, cuts: number[], max = 1 << 20, inflate = false): Event[] {
  const receiver = new Receiver(max, inflate);
  const sink = new Recorder();
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    receiver.push(Buffer.from(input.subarray(from, cut)), sink);
    from = cut;
  }
  return sink.events;
}

/** The events for `input` whole, then asserts the same for every split in two and for byte-by-byte input. */
function everySplit(input: Buffer, max?: number, inflate = false): Event[] {
  const whole = run(input, [], max, inflate);
  for (let i = 1; i < input.length; i++) assert.deepEqual(run(input, [i], max, inflate), whole, `split at byte ${i}`);
  const bytes = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(run(input, bytes, max, inflate), whole, 'byte by byte');
  return whole;
}

const frames = (...specs: FrameSpec[]): Buffer => Buffer.concat(specs.map(clientFrame));

describe('Receiver', () => {
  it('reads text and binary messages at every length encoding', () => {
    for (const size of [0, 1, 125, 126, 300]) {
      const text = 'é'.repeat(Math.floor(size / 2)) + (size % 2 ? 'x' : '');
      assert.deepEqual(everySplit(frames({ opcode: 1, payload: text })), [['message', text, false]], `text of ${size}`);
    }
    const bin = Buffer.from([0, 0xff, 0x80, 7]);
    assert.deepEqual(everySplit(frames({ opcode: 2, payload: bin })), [['message', '00ff8007', true]]);
  });

  it('reads 16- and 64-bit lengths, also in non-minimal form', () => {
    assert.deepEqual(everySplit(frames({ opcode: 1, payload: 'short', lengthBytes: 8 })), [['message', 'short', false]]);
    assert.deepEqual(everySplit(frames({ opcode: 1, payload: 'short', lengthBytes: 2 })), [['message', 'short', false]]);
    const big = 'a'.repeat(70_000);
    const input = frames({ opcode: 1, payload: big }, { opcode: 9, payload: 'p' });
    const expected: Event[] = [['message', big, false], ['ping', 'p']];
    for (const cut of [1, 2, 5, 9, 13, 14, 15, 40_000, 70_013, 70_014, 70_015]) assert.deepEqual(run(input, [cut]), expected, `split at ${cut}`);
    assert.deepEqual(run(input, Array.from({ length: 700 }, (_, i) => (i + 1) * 100)), expected, 'in 100-byte pieces');
  });

  it('reads several messages from one chunk', () => {
    const input = frames({ opcode: 1, payload: 'one' }, { opcode: 1, payload: '' }, { opcode: 1, payload: 'three' });
    assert.deepEqual(everySplit(input), [['message', 'one', false], ['message', '', false], ['message', 'three', false]]);
  });

  it('assembles fragmented messages with control frames in between', () => {
    const input = frames(
      { opcode: 1, payload: 'Hel', fin: false },
      { opcode: 9, payload: 'are you there' },
      { opcode: 0, payload: '', fin: false },
      { opcode: 0, payload: 'lo ', fin: false },
      { opcode: 10, payload: '' },
      { opcode: 0, payload: 'world' },
      { opcode: 2, payload: Buffer.from([1]), fin: false },
      { opcode: 0, payload: Buffer.from([2]) },
    );
    assert.deepEqual(everySplit(input), [
      ['ping', 'are you there'], ['pong', ''], ['message', 'Hello world', false], ['message', '0102', true],
    ]);
  });

  it('accepts a UTF-8 character split between fragments', () => {
    const e = Buffer.from('é');
    const input = frames({ opcode: 1, payload: e.subarray(0, 1), fin: false }, { opcode: 0, payload: e.subarray(1) });
    assert.deepEqual(everySplit(input), [['message', 'é', false]]);
  });

  it('reports a close with its code and reason, or 1005 without one, and reads nothing after it', () => {
    const input = frames({ opcode: 8, payload: closePayload(1000, 'bye ✓') }, { opcode: 1, payload: 'after' });
    assert.deepEqual(everySplit(input), [['close', 1000, 'bye ✓']]);
    assert.deepEqual(everySplit(frames({ opcode: 8 }, { opcode: 1, payload: 'after' })), [['close', 1005, '']]);
    assert.deepEqual(everySplit(frames({ opcode: 8, payload: closePayload(4321) })), [['close', 4321, '']]);
  });

  it('refuses frame-level violations with 1002 and reads nothing after', () => {
    const after = clientFrame({ opcode: 1, payload: 'after' });
    const cases: Array<[string, FrameSpec]> = [
      ['unmasked', { opcode: 1, payload: 'hi', masked: false }],
      ['rsv1', { opcode: 1, payload: 'hi', rsv: 4 }],
      ['rsv3', { opcode: 1, payload: 'hi', rsv: 1 }],
      ['opcode 3', { opcode: 3 }],
      ['opcode 0xb', { opcode: 0xb }],
      ['fragmented ping', { opcode: 9, fin: false }],
      ['ping of 126 bytes', { opcode: 9, payload: 'x'.repeat(126) }],
      ['continuation first', { opcode: 0, payload: 'x' }],
      ['close of 1 byte', { opcode: 8, payload: Buffer.from([3]) }],
      ['close code 1005', { opcode: 8, payload: closePayload(1005) }],
      ['close code 999', { opcode: 8, payload: closePayload(999) }],
      ['close code 2000', { opcode: 8, payload: closePayload(2000) }],
      ['close code 5000', { opcode: 8, payload: closePayload(5000) }],
    ];
    for (const [name, spec] of cases) {
      assert.deepEqual(everySplit(Buffer.concat([clientFrame(spec), after])), [['error', 1002]], name);
    }
    const interrupted = frames({ opcode: 1, payload: 'a', fin: false }, { opcode: 1, payload: 'b' });
    assert.deepEqual(everySplit(interrupted), [['error', 1002]], 'a new message inside a fragmented one');
  });

  it('refuses invalid UTF-8 with 1007', () => {
    const bad = Buffer.from([0x68, 0xc3, 0x28]);
    assert.deepEqual(everySplit(frames({ opcode: 1, payload: bad })), [['error', 1007]]);
    assert.deepEqual(everySplit(frames({ opcode: 1, payload: Buffer.from([0xc3]), fin: false }, { opcode: 0, payload: 'x' })), [['error', 1007]]);
    assert.deepEqual(everySplit(frames({ opcode: 8, payload: closePayload(1000, Buffer.from([0xff])) })), [['error', 1007]]);
    assert.deepEqual(everySplit(frames({ opcode: 2, payload: bad })), [['message', '68c328', true]], 'binary is not checked');
  });

  it('refuses a message over the limit with 1009 from its header alone', () => {
    assert.deepEqual(everySplit(frames({ opcode: 1, payload: 'x'.repeat(10) }), 10), [['message', 'x'.repeat(10), false]]);
    assert.deepEqual(everySplit(frames({ opcode: 1, payload: 'x'.repeat(11) }), 10), [['error', 1009]]);
    const header = clientFrame({ opcode: 2, payload: Buffer.alloc(200_000) }).subarray(0, 14);
    assert.deepEqual(everySplit(header, 100_000), [['error', 1009]], 'before any payload');
    const huge = Buffer.from([0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
    assert.deepEqual(everySplit(huge, 100_000), [['error', 1009]], 'a 64-bit length beyond 2^53');
    const fragments = frames({ opcode: 1, payload: 'x'.repeat(6), fin: false }, { opcode: 0, payload: 'x'.repeat(5) });
    assert.deepEqual(everySplit(fragments, 10), [['error', 1009]], 'fragments adding up');
    assert.deepEqual(everySplit(frames({ opcode: 9, payload: 'x'.repeat(20) }), 10), [['ping', 'x'.repeat(20)]], 'control frames have their own limit');
  });

  it('reports done after a close or an error', () => {
    const receiver = new Receiver(100);
    const sink = new Recorder();
    receiver.push(clientFrame({ opcode: 1, payload: 'a' }), sink);
    assert.equal(receiver.done, false);
    receiver.push(clientFrame({ opcode: 8 }), sink);
    assert.equal(receiver.done, true);
  });
});

/** `text` deflated as a permessage-deflate sender does: raw deflate, sync flush, the last 4 bytes removed. */
function deflated(text: string | Buffer): Buffer {
  const out = deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

describe('Receiver with permessage-deflate', () => {
  const RSV1 = 4;

  it('inflates a message whose first frame has RSV1, and reads plain ones beside it', () => {
    const text = '{"type":"ping","id":1,"pad":"' + 'abc'.repeat(50) + '"}';
    const input = frames({ opcode: 1, payload: deflated(text), rsv: RSV1 }, { opcode: 1, payload: 'plain' }, { opcode: 2, payload: deflated(Buffer.from([1, 2, 3])), rsv: RSV1 });
    assert.deepEqual(everySplit(input, 1000, true), [['message', text, false], ['message', 'plain', false], ['message', '010203', true]]);
  });

  it('inflates a fragmented compressed message (RSV1 on the first frame only) with a ping in between', () => {
    const z = deflated('hello, compressed world '.repeat(20));
    const input = frames(
      { opcode: 1, payload: z.subarray(0, 5), fin: false, rsv: RSV1 },
      { opcode: 9, payload: 'p' },
      { opcode: 0, payload: z.subarray(5, 9), fin: false },
      { opcode: 0, payload: z.subarray(9) },
    );
    assert.deepEqual(everySplit(input, 1000, true), [['ping', 'p'], ['message', 'hello, compressed world '.repeat(20), false]]);
  });

  it('refuses RSV1 when not agreed, on a continuation, on a control frame, and RSV2/RSV3 (1002)', () => {
    const z = deflated('abc');
    assert.deepEqual(run(frames({ opcode: 1, payload: z, rsv: RSV1 }), []), [['error', 1002]], 'not agreed');
    assert.deepEqual(run(frames({ opcode: 1, payload: z.subarray(0, 1), fin: false, rsv: RSV1 }, { opcode: 0, payload: z.subarray(1), rsv: RSV1 }), [], 1000, true),
      [['error', 1002]], 'continuation');
    assert.deepEqual(run(frames({ opcode: 9, payload: 'p', rsv: RSV1 }), [], 1000, true), [['error', 1002]], 'ping');
    assert.deepEqual(run(frames({ opcode: 1, payload: z, rsv: 2 }), [], 1000, true), [['error', 1002]], 'RSV2');
  });

  it('refuses a message over the limit once inflated (1009), and invalid data (1007) or UTF-8 (1007)', () => {
    const bomb = deflated(Buffer.alloc(10_000_000));
    assert.ok(bomb.length < 10_000, `bomb of ${bomb.length} bytes`);
    assert.deepEqual(run(frames({ opcode: 2, payload: bomb, rsv: RSV1 }), [], 10_000, true), [['error', 1009]]);
    assert.deepEqual(run(frames({ opcode: 2, payload: deflated(Buffer.alloc(10_000)), rsv: RSV1 }), [], 10_000, true), [['message', '00'.repeat(10_000), true]], 'exactly at the limit');
    assert.deepEqual(run(frames({ opcode: 1, payload: Buffer.from([0xff, 0xff, 0xff]), rsv: RSV1 }), [], 1000, true), [['error', 1007]], 'not deflate');
    assert.deepEqual(run(frames({ opcode: 1, payload: deflated(Buffer.from([0xc3, 0x28])), rsv: RSV1 }), [], 1000, true), [['error', 1007]], 'not UTF-8');
  });
});
