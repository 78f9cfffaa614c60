import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StompParseError } from './errors.js';
import { escapeHeader, unescapeHeader } from './escape.js';
import type { StompVersion } from './frame.js';

const RAW = 'a\rb\nc:d\\e';

describe('escape table per version', () => {
  const table: [StompVersion, string][] = [
    ['1.2', 'a\\rb\\nc\\cd\\\\e'],
    ['1.1', 'a\rb\\nc\\cd\\\\e'],
    ['1.0', RAW],
  ];
  for (const [version, escaped] of table) {
    test(`${version} escapes`, () => assert.equal(escapeHeader(RAW, version), escaped));
    test(`${version} unescapes`, () => assert.equal(unescapeHeader(escaped, version), RAW));
  }

  test('each 1.2 sequence alone', () => {
    assert.equal(unescapeHeader('\\r', '1.2'), '\r');
    assert.equal(unescapeHeader('\\n', '1.2'), '\n');
    assert.equal(unescapeHeader('\\c', '1.2'), ':');
    assert.equal(unescapeHeader('\\\\', '1.2'), '\\');
    assert.equal(unescapeHeader('\\\\n', '1.2'), '\\n');
  });

  test('text without backslashes is returned as is', () => {
    assert.equal(unescapeHeader('plain: text', '1.2'), 'plain: text');
    assert.equal(escapeHeader('plain text', '1.2'), 'plain text');
  });

  test('1.0 leaves backslashes alone', () => {
    assert.equal(unescapeHeader('\\t\\', '1.0'), '\\t\\');
  });
});

describe('undefined escape sequences', () => {
  const bad: [StompVersion, string][] = [
    ['1.2', '\\t'],
    ['1.2', 'x\\'],
    ['1.2', '\\C'],
    ['1.1', '\\r'],
    ['1.1', '\\t'],
    ['1.1', 'end\\'],
  ];
  for (const [version, input] of bad) {
    test(`${version} rejects ${JSON.stringify(input)}`, () => {
      const r = unescapeHeader(input, version);
      assert.ok(r instanceof StompParseError);
      assert.equal(r.code, 'bad-escape');
      assert.match(r.message, /undefined escape sequence/);
    });
  }
});
