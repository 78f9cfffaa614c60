import assert from 'node:assert/strict';
import { it } from 'node:test';
import { requestUrl } from './target.js';

it('parses origin-form and absolute-form targets', () => {
  assert.equal(requestUrl('/api/publish?x=1')?.pathname, '/api/publish');
  assert.equal(requestUrl('/api/publish?x=1')?.searchParams.get('x'), '1');
  assert.equal(requestUrl('/sse?cursor=a//b')?.searchParams.get('cursor'), 'a//b');
  assert.equal(requestUrl('http://example.com/healthz')?.pathname, '/healthz');
  assert.equal(requestUrl('/')?.pathname, '/');
});

it('refuses empty segments, backslashes and other forms, which could read as another host', () => {
  for (const t of ['//api/publish', '//evil.example/api/publish', '/api//publish', '/\\evil.example/api/publish',
    '/api/publish//', 'api/publish', '*', 'http://evil.example//api', 'javascript:alert(1)', '', undefined]) {
    assert.equal(requestUrl(t), undefined, String(t));
  }
});

it('resolves dot segments, also percent-encoded ones, as URL parsing does, never above the root', () => {
  for (const t of ['/api/./publish', '/api/../api/publish', '/api/%2e%2e/api/publish', '/api/%2E/publish', '/../../api/publish']) {
    assert.equal(requestUrl(t)?.pathname, '/api/publish', t);
  }
  assert.equal(requestUrl('/sse/..?channel=x')?.pathname, '/');
});
