import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { STOMP_VERSIONS, type StompCommand } from './frame.js';
import { serializeFrame, type OutgoingFrame } from './serializer.js';
import { bytes, parse, text } from './testing.js';

function wire(frame: OutgoingFrame, version = '1.2' as const): string {
  return text(serializeFrame(frame, version));
}

describe('serializeFrame', () => {
  test('command, headers, blank line, NUL', () => {
    assert.equal(wire({ command: 'SUBSCRIBE', headers: [['id', '0'], ['destination', '/t']] }), 'SUBSCRIBE\nid:0\ndestination:/t\n\n\0');
  });

  test('a frame with no headers and no body', () => {
    assert.equal(wire({ command: 'DISCONNECT' }), 'DISCONNECT\n\n\0');
  });

  test('content-length is the UTF-8 byte length of a string body', () => {
    assert.equal(wire({ command: 'SEND', body: 'h\u00e9\u2603' }), 'SEND\ncontent-length:6\n\nh\u00e9\u2603\0');
  });

  test('a binary body is copied byte for byte, NUL included', () => {
    const body = Uint8Array.from([0, 1, 0, 255, 10]);
    const out = serializeFrame({ command: 'MESSAGE', body }, '1.2');
    assert.deepEqual([...out], [...bytes('MESSAGE\ncontent-length:5\n\n'), 0, 1, 0, 255, 10, 0]);
  });

  test('a caller content-length is replaced by the true one, or dropped for an empty body', () => {
    assert.equal(wire({ command: 'SEND', headers: [['content-length', '99'], ['a', 'b']], body: 'xy' }), 'SEND\na:b\ncontent-length:2\n\nxy\0');
    assert.equal(wire({ command: 'SEND', headers: [['content-length', '3']] }), 'SEND\n\n\0');
  });

  test('repeated headers are written in order', () => {
    assert.equal(wire({ command: 'SEND', headers: [['a', '1'], ['a', '2']] }), 'SEND\na:1\na:2\n\n\0');
  });

  test('unknown commands are refused', () => {
    assert.throws(() => serializeFrame({ command: 'HELLO' as StompCommand }, '1.2'), TypeError);
  });

  test('empty header names are refused', () => {
    assert.throws(() => serializeFrame({ command: 'SEND', headers: [['', 'x']] }, '1.2'), /cannot be empty/);
  });
});

describe('serializeFrame: escaping per version', () => {
  const headers: [string, string][] = [['k:\\', 'a\rb\nc:d\\e']];

  test('1.2 escapes \\r \\n : \\', () => {
    assert.equal(wire({ command: 'SEND', headers }, '1.2'), 'SEND\nk\\c\\\\:a\\rb\\nc\\cd\\\\e\n\n\0');
  });

  test('1.1 escapes \\n : \\ and leaves CR', () => {
    assert.equal(text(serializeFrame({ command: 'SEND', headers }, '1.1')), 'SEND\nk\\c\\\\:a\rb\\nc\\cd\\\\e\n\n\0');
  });

  test('1.0 escapes nothing and refuses what it cannot carry', () => {
    assert.equal(text(serializeFrame({ command: 'SEND', headers: [['k', 'a:b\\c\rd']] }, '1.0')), 'SEND\nk:a:b\\c\rd\n\n\0');
    assert.throws(() => serializeFrame({ command: 'SEND', headers: [['k', 'a\nb']] }, '1.0'), TypeError);
    assert.throws(() => serializeFrame({ command: 'SEND', headers: [['k:', 'v']] }, '1.0'), TypeError);
  });

  test('1.0 and 1.1 refuse a value ending with CR', () => {
    assert.throws(() => serializeFrame({ command: 'SEND', headers: [['k', 'v\r']] }, '1.1'), /trailing CR|ends with CR/);
    assert.throws(() => serializeFrame({ command: 'SEND', headers: [['k', 'v\r']] }, '1.0'), TypeError);
  });

  for (const version of STOMP_VERSIONS) {
    test(`${version}: CONNECT, STOMP and CONNECTED are written unescaped`, () => {
      for (const command of ['CONNECT', 'STOMP', 'CONNECTED'] as const) {
        const out = text(serializeFrame({ command, headers: [['passcode', 'a\\b:c']] }, version));
        assert.equal(out, `${command}\npasscode:a\\b:c\n\n\0`);
      }
      assert.throws(() => serializeFrame({ command: 'CONNECT', headers: [['login', 'a\nb']] }, version), TypeError);
    });
  }
});

describe('serialize then parse', () => {
  const headers: [string, string][] = [
    ['destination', '/queue/a'],
    ['x', ''],
    ['\u00e9', '\u{1f600} \\ : \n'],
    ['x', 'repeat'],
  ];
  for (const version of STOMP_VERSIONS) {
    test(`${version}: every command round-trips`, () => {
      const safe: [string, string][] =
        version === '1.0' ? headers.map(([n, v]) => [n, v.replace('\n', ' ')]) : headers;
      const clientCommands = ['SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT'] as const;
      for (const command of clientCommands) {
        const body = Uint8Array.from([104, 0, 105]);
        const { frames, error } = parse([serializeFrame({ command, headers: safe, body }, version)], { version });
        assert.equal(error, undefined);
        assert.deepEqual(frames, [{ command, headers: [...safe, ['content-length', '3']], body }]);
      }
      for (const command of ['MESSAGE', 'RECEIPT', 'ERROR'] as const) {
        const { frames } = parse([serializeFrame({ command, headers: safe }, version)], { version, side: 'client' });
        assert.deepEqual(frames, [{ command, headers: safe, body: new Uint8Array(0) }]);
      }
    });
  }
});
