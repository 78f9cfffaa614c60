import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StompParseError, type StompParseErrorCode } from './errors.js';
import { StompParser } from './parser.js';
import { bytes, parse, type ParseOptions } from './testing.js';

function fails(input: string | Uint8Array, code: StompParseErrorCode, pattern: RegExp, options: ParseOptions = {}): void {
  const { error } = parse([input], options);
  assert.ok(error instanceof StompParseError, `expected ${code}, got no error`);
  assert.equal(error.code, code);
  assert.match(error.message, pattern);
}

describe('StompParser: malformed input', () => {
  test('unknown command', () => fails('HELLO\n\n\0', 'unknown-command', /unknown client command "HELLO"/));
  test('lower-case command', () => fails('send\n\n\0', 'unknown-command', /"send"/));
  test('a server command sent to the server', () => fails('MESSAGE\n\n\0', 'unknown-command', /MESSAGE/));
  test('a client command sent to the client', () => {
    fails('SEND\n\n\0', 'unknown-command', /unknown server command "SEND"/, { side: 'client' });
  });
  test('a long command line fails before its EOL arrives', () => {
    fails('SUBSCRIBEXYZW', 'unknown-command', /SUBSCRIBEXYZW/);
  });
  test('NUL where a command should be', () => fails('\0', 'unknown-command', /unknown/));
  test('a partial command line fails at its first impossible byte', () => {
    assert.equal(parse(['SUB', 'SCRIBE\r']).error, undefined);
    fails('SUBX', 'unknown-command', /"SUBX"/);
    fails('SEND\r\r', 'unknown-command', /"SEND\\r\\r"/);
  });
  test('CR not followed by LF between frames', () => fails('\rSEND\n\n\0', 'bad-eol', /CR not followed by LF/));
  test('header line without a colon', () => fails('SEND\nnocolon\n\n\0', 'bad-header', /without ':'.*"nocolon"/));
  test('header with an empty name', () => fails('SEND\n:v\n\n\0', 'bad-header', /empty name/));
  test('header that is not UTF-8', () => fails(Uint8Array.from([...bytes('SEND\na:'), 0xff, 10, 10, 0]), 'bad-utf8', /UTF-8/));
  test('1.2 undefined escape', () => fails('SEND\na:\\t\n\n\0', 'bad-escape', /\\t/, { version: '1.2' }));
  test('1.2 trailing backslash', () => fails('SEND\na\\:v\n\n\0', 'bad-escape', /at end/, { version: '1.2' }));
  test('1.1 has no \\r', () => fails('SEND\na:\\r\n\n\0', 'bad-escape', /\\r/, { version: '1.1' }));
  for (const value of ['abc', '-1', '+1', '1.5', ' 1', '', '1234567890123456']) {
    test(`content-length ${JSON.stringify(value)}`, () => {
      fails(`SEND\ncontent-length:${value}\n\n\0`, 'bad-content-length', /decimal byte count/);
    });
  }
  test('no NUL after a content-length body', () => {
    fails('SEND\ncontent-length:2\n\nabc\0', 'missing-nul', /expected NUL after a content-length body of 2 bytes, got byte 99/);
  });
  test('no NUL after content-length:0', () => fails('SEND\ncontent-length:0\n\nx', 'missing-nul', /0 bytes/));
});

describe('StompParser: limits', () => {
  const limits = { maxFrameSize: 64, maxHeaders: 2, maxHeaderLength: 10 };

  test('a frame of exactly maxFrameSize bytes passes', () => {
    const frame = `SEND\n\n${'x'.repeat(64 - 6)}`;
    assert.equal(parse([`${frame}\0`], { limits }).error, undefined);
    fails(`${frame}x\0`, 'frame-too-large', /larger than 64 bytes/, { limits });
  });
  test('a body without NUL fails once past the limit, without waiting for NUL', () => {
    fails(`SEND\n\n${'x'.repeat(100)}`, 'frame-too-large', /64/, { limits });
  });
  test('a content-length over the limit fails before the body arrives', () => {
    const wide = { ...limits, maxHeaderLength: 100 };
    fails('SEND\ncontent-length:41\n\n', 'frame-too-large', /64/, { limits: wide });
    assert.equal(parse(['SEND\ncontent-length:40\n\n'], { limits: wide }).error, undefined);
  });
  test('headers alone can exceed the frame size', () => {
    const lines = Array.from({ length: 8 }, (_, i) => `h${i}:123456\n`).join('');
    fails(`SEND\n${lines}\n\0`, 'frame-too-large', /64/, { limits: { maxFrameSize: 64 } });
  });
  test('too many headers', () => {
    assert.equal(parse(['SEND\na:1\nb:2\n\n\0'], { limits }).error, undefined);
    fails('SEND\na:1\nb:2\nc:3\n\n\0', 'too-many-headers', /more than 2 headers/, { limits });
  });
  test('a header line longer than maxHeaderLength', () => {
    assert.equal(parse(['SEND\nabcd:12345\r\n\n\0'], { limits }).error, undefined);
    fails('SEND\nabcd:123456\n\n\0', 'header-too-long', /11 bytes, the limit is 10/, { limits });
  });
  test('a long header line fails before its EOL arrives', () => {
    fails('SEND\nabcd:1234567', 'header-too-long', /longer than 10 bytes/, { limits });
  });
  test('limits default to 64 KiB, 64 headers, 8 KiB', () => {
    const parser = new StompParser({ side: 'server', onFrame: () => {} });
    assert.deepEqual(parser.limits, { maxFrameSize: 65536, maxHeaders: 64, maxHeaderLength: 8192 });
    const partial = new StompParser({ side: 'server', limits: { maxHeaders: 3, maxFrameSize: undefined }, onFrame: () => {} });
    assert.deepEqual(partial.limits, { maxFrameSize: 65536, maxHeaders: 3, maxHeaderLength: 8192 });
  });
  test('bad limits are refused', () => {
    assert.throws(() => new StompParser({ side: 'server', limits: { maxHeaders: 0 }, onFrame: () => {} }), RangeError);
    assert.throws(() => new StompParser({ side: 'server', limits: { maxFrameSize: 1.5 }, onFrame: () => {} }), RangeError);
  });
});

describe('StompParser: after an error', () => {
  test('the parser stays failed and delivers nothing more', () => {
    let frames = 0;
    const parser = new StompParser({ side: 'server', onFrame: () => frames++ });
    const first = parser.push(bytes('SEND\n\n\0BOGUS\n\n\0SEND\n\n\0'));
    assert.equal(first?.code, 'unknown-command');
    assert.equal(frames, 1);
    assert.equal(parser.push(bytes('SEND\n\n\0')), first);
    assert.equal(parser.error, first);
    assert.equal(frames, 1);
  });

  test('a throwing handler propagates and leaves the parser failed', () => {
    const boom = new Error('boom');
    const parser = new StompParser({
      side: 'server',
      onFrame: () => {
        throw boom;
      },
    });
    assert.throws(() => parser.push(bytes('SEND\n\n\0SEND\n\n\0')), boom);
    assert.equal(parser.error?.code, 'handler-threw');
    assert.equal(parser.error?.cause, boom);
    assert.equal(parser.push(bytes('SEND\n\n\0'))?.code, 'handler-threw');
  });
});
