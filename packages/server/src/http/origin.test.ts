import assert from 'node:assert/strict';
import { it } from 'node:test';
import { originAllowed } from './origin.js';

it('allows same origin by default, listed origins, * and non-browser clients', () => {
  assert.equal(originAllowed(undefined, 'a.com', []), true);
  assert.equal(originAllowed('https://a.com', 'a.com', []), true);
  assert.equal(originAllowed('https://evil.com', 'a.com', []), false);
  assert.equal(originAllowed('https://app.com', 'api.com', ['https://app.com']), true);
  assert.equal(originAllowed('https://a.com', 'a.com', ['https://app.com']), false);
  assert.equal(originAllowed('https://x.com', 'a.com', ['*']), true);
  assert.equal(originAllowed('not a url', 'a.com', []), false);
});
