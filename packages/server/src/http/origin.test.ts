import assert from 'node:assert/strict';
import { it } from 'node:test';
import { originAllowed } from './origin.js';

it('allows same origin by default, listed origins, * and non-browser clients', () => {
  assert.equal(originAllowed(undefined, 'a.com', []), true);
  assert.equal(originAllowed('http://a.com', 'a.com', []), true);
  assert.equal(originAllowed('https://evil.com', 'a.com', []), false);
  assert.equal(originAllowed('https://app.com', 'api.com', ['https://app.com']), true);
  assert.equal(originAllowed('https://a.com', 'a.com', ['https://app.com']), false);
  assert.equal(originAllowed('https://x.com', 'a.com', ['*']), true);
  assert.equal(originAllowed('not a url', 'a.com', []), false);
});

it('same origin means the same scheme, host and port, default ports filled in', () => {
  assert.equal(originAllowed('https://a.com:8080', 'a.com:8080', []), false, 'https page, http request');
  assert.equal(originAllowed('https://a.com', 'a.com', [], 'https'), true);
  assert.equal(originAllowed('https://a.com', 'a.com:443', [], 'https'), true);
  assert.equal(originAllowed('http://a.com:80', 'a.com', []), true);
  assert.equal(originAllowed('http://a.com:8081', 'a.com:8080', []), false, 'other port');
  assert.equal(originAllowed('http://a.com', 'a.com:8080', []), false, 'default port against 8080');
  assert.equal(originAllowed('http://A.com:8080', 'a.COM:8080', []), true, 'host names ignore case');
  assert.equal(originAllowed('http://a.com', undefined, []), false);
  assert.equal(originAllowed('http://a.com', 'a.com/x', []), false);
  assert.equal(originAllowed('null', 'a.com', []), false);
});
