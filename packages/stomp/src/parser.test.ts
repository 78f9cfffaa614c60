import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { header, type StompFrame } from './frame.js';
import { StompParser } from './parser.js';
import { bytes, parse, plain, split, text } from './testing.js';

describe('StompParser: frames', () => {
  test('a frame with headers and a body up to NUL', () => {
    const { frames, error } = parse(['SEND\ndestination:/queue/a\nreceipt:7\n\nhello\0']);
    assert.equal(error, undefined);
    assert.equal(frames.length, 1);
    const f = frames[0] as StompFrame;
    assert.equal(f.command, 'SEND');
    assert.deepEqual(f.headers, [['destination', '/queue/a'], ['receipt', '7']]);
    assert.equal(text(f.body), 'hello');
  });

  test('a frame without headers or body', () => {
    const { frames } = parse(['DISCONNECT\n\n\0']);
    assert.deepEqual(frames.map(plain), [{ command: 'DISCONNECT', headers: [], body: [] }]);
  });

  test('CRLF line endings', () => {
    const { frames, error } = parse(['SEND\r\ndestination:/a\r\nx:\r\n\r\nbody\0']);
    assert.equal(error, undefined);
    assert.deepEqual(frames[0]?.headers, [['destination', '/a'], ['x', '']]);
    assert.equal(text(frames[0]?.body ?? new Uint8Array()), 'body');
  });

  test('mixed LF and CRLF in one frame', () => {
    const { frames } = parse(['SEND\r\na:1\nb:2\r\n\nx\0']);
    assert.deepEqual(frames[0]?.headers, [['a', '1'], ['b', '2']]);
  });

  test('a content-length body may hold NUL and LF', () => {
    const { frames, error } = parse(['SEND\ncontent-length:5\n\na\0b\nc\0']);
    assert.equal(error, undefined);
    assert.deepEqual([...(frames[0]?.body ?? [])], [97, 0, 98, 10, 99]);
  });

  test('content-length:0 means an empty body', () => {
    const { frames, error } = parse(['SEND\ncontent-length:0\n\n\0']);
    assert.equal(error, undefined);
    assert.equal(frames[0]?.body.length, 0);
  });

  test('binary body bytes are kept exactly', () => {
    const body = Uint8Array.from({ length: 256 }, (_, i) => i);
    const head = bytes('SEND\ncontent-length:256\n\n');
    const { frames } = parse([head, body, new Uint8Array([0])]);
    assert.deepEqual([...(frames[0]?.body ?? [])], [...body]);
  });

  test('repeated headers are kept in order; header() returns the first', () => {
    const { frames } = parse(['MESSAGE\nfoo:1\nbar:x\nfoo:2\n\n\0'], { side: 'client' });
    const f = frames[0] as StompFrame;
    assert.deepEqual(f.headers, [['foo', '1'], ['bar', 'x'], ['foo', '2']]);
    assert.equal(header(f, 'foo'), '1');
    assert.equal(header(f, 'missing'), undefined);
  });

  test('a value is everything after the first colon, spaces kept', () => {
    const { frames } = parse(['CONNECT\nhost: a:b:c \n\n\0']);
    assert.deepEqual(frames[0]?.headers, [['host', ' a:b:c ']]);
  });

  test('the first content-length wins', () => {
    const { frames, error } = parse(['SEND\ncontent-length:2\ncontent-length:9\n\nab\0']);
    assert.equal(error, undefined);
    assert.equal(text(frames[0]?.body ?? new Uint8Array()), 'ab');
  });

  test('UTF-8 headers and BOM-like bytes are decoded exactly', () => {
    const { frames } = parse(['SEND\n\u00e9t\u00e9:\ufeff\u2603 \u{1f600}\n\n\0']);
    assert.deepEqual(frames[0]?.headers, [['\u00e9t\u00e9', '\ufeff\u2603 \u{1f600}']]);
  });

  test('frames do not alias the pushed chunk', () => {
    const chunk = bytes('SEND\ncontent-length:3\n\nabc\0SEND\n\nxyz\0');
    const { frames } = parse([chunk]);
    chunk.fill(0x21);
    assert.deepEqual(frames.map((f) => text(f.body)), ['abc', 'xyz']);
  });
});

describe('StompParser: heartbeats and several frames', () => {
  test('EOLs between frames are heartbeats', () => {
    const { events, error } = parse(['\n\r\n', 'SEND\n\n\0\n\n', '\r', '\nSEND\n\n\0']);
    assert.equal(error, undefined);
    assert.deepEqual(
      events.map((e) => (e.type === 'frame' ? e.frame.command : 'hb')),
      ['hb', 'hb', 'SEND', 'hb', 'hb', 'hb', 'SEND'],
    );
  });

  test('several frames in one chunk', () => {
    const wire = 'SEND\na:1\n\none\0SEND\ncontent-length:3\n\ntwo\0\nSUBSCRIBE\nid:0\ndestination:/t\n\n\0';
    const { frames, error } = parse([wire]);
    assert.equal(error, undefined);
    assert.deepEqual(frames.map((f) => f.command), ['SEND', 'SEND', 'SUBSCRIBE']);
    assert.deepEqual(frames.map((f) => text(f.body)), ['one', 'two', '']);
  });

  test('an empty chunk changes nothing', () => {
    const { frames, error } = parse(['SEND\n', new Uint8Array(0), '\n\0']);
    assert.equal(error, undefined);
    assert.equal(frames.length, 1);
  });
});

describe('StompParser: every split', () => {
  const streams: [string, Uint8Array][] = [
    ['LF frames', bytes('\nCONNECT\naccept-version:1.2\nhost:h\n\n\0SEND\ndestination:/q\nx:a\\cb\n\nhi\0\n')],
    ['CRLF frames', bytes('\r\nSEND\r\ndestination:/q\r\n\r\nbody\0\r\n\r\nACK\r\nid:1\r\n\r\n\0')],
    ['content-length with NUL', bytes('SEND\ncontent-length:4\n\n\0\n\r\0\0\nSEND\n\n\u2603\0')],
  ];
  for (const [name, wire] of streams) {
    const expected = parse([wire]);
    assert.equal(expected.error, undefined, name);

    test(`${name}: split in two at every byte`, () => {
      for (let i = 0; i <= wire.length; i++) {
        const got = parse(split(wire, [i]));
        assert.deepEqual(got, expected, `split at ${i}`);
      }
    });

    test(`${name}: split in three at every pair of bytes`, () => {
      for (let i = 0; i <= wire.length; i++) {
        for (let j = i; j <= wire.length; j++) assert.deepEqual(parse(split(wire, [i, j])), expected, `split at ${i}, ${j}`);
      }
    });

    test(`${name}: one byte at a time`, () => {
      const cuts = Array.from({ length: wire.length - 1 }, (_, i) => i + 1);
      assert.deepEqual(parse(split(wire, cuts)), expected);
    });
  }
});

describe('StompParser: versions and escaping', () => {
  test('1.2 unescapes names and values of SEND', () => {
    const { frames } = parse(['SEND\na\\cb:c\\rd\\ne\\\\f\n\n\0'], { version: '1.2' });
    assert.deepEqual(frames[0]?.headers, [['a:b', 'c\rd\ne\\f']]);
  });

  test('1.1 unescapes \\n \\c \\\\', () => {
    const { frames } = parse(['SEND\nk:\\n\\c\\\\\n\n\0'], { version: '1.1' });
    assert.deepEqual(frames[0]?.headers, [['k', '\n:\\']]);
  });

  test('1.0 unescapes nothing', () => {
    const { frames, error } = parse(['SEND\nk:\\n\\t\\\n\n\0'], { version: '1.0' });
    assert.equal(error, undefined);
    assert.deepEqual(frames[0]?.headers, [['k', '\\n\\t\\']]);
  });

  for (const version of ['1.1', '1.2'] as const) {
    test(`${version}: CONNECT, STOMP and CONNECTED are never unescaped`, () => {
      const server = parse(['CONNECT\nlogin:a\\b\npasscode:\\t\n\n\0STOMP\nx:\\c\n\n\0'], { version });
      assert.equal(server.error, undefined);
      assert.deepEqual(server.frames.map((f) => f.headers), [[['login', 'a\\b'], ['passcode', '\\t']], [['x', '\\c']]]);
      const client = parse(['CONNECTED\nserver:x\\y\n\n\0'], { version, side: 'client' });
      assert.equal(client.error, undefined);
      assert.deepEqual(client.frames[0]?.headers, [['server', 'x\\y']]);
    });
  }

  test('a version set inside onFrame applies to the next frame of the same chunk', () => {
    const seen: StompFrame[] = [];
    const parser = new StompParser({
      side: 'server',
      onFrame: (frame) => {
        seen.push(frame);
        if (frame.command === 'CONNECT') parser.version = '1.2';
      },
    });
    assert.equal(parser.version, '1.0');
    const error = parser.push(bytes('CONNECT\naccept-version:1.2\n\n\0SEND\nd:a\\cb\n\n\0'));
    assert.equal(error, undefined);
    assert.deepEqual(seen[1]?.headers, [['d', 'a:b']]);
  });

  test('the client side accepts server commands', () => {
    const { frames, error } = parse(['CONNECTED\nversion:1.2\n\n\0MESSAGE\n\n\0RECEIPT\n\n\0ERROR\n\n\0'], { side: 'client' });
    assert.equal(error, undefined);
    assert.deepEqual(frames.map((f) => f.command), ['CONNECTED', 'MESSAGE', 'RECEIPT', 'ERROR']);
  });

  test('the server side accepts every client command', () => {
    const commands = ['CONNECT', 'STOMP', 'SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT'];
    const { frames, error } = parse([commands.map((c) => `${c}\n\n\0`).join('')]);
    assert.equal(error, undefined);
    assert.deepEqual(frames.map((f) => f.command), commands);
  });
});
