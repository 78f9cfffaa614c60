/**
 * The SDK served by `tidings serve` at /client/: the bundles `npm run build` put in
 * packages/client/dist/browser, with their types, validators, cache lifetimes and source maps,
 * and nothing else under /client/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { RawConnection } from '../helpers/raw-http.js';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';

const clientDir = fileURLToPath(new URL('../../packages/client/', import.meta.url));
const { version } = JSON.parse(readFileSync(`${clientDir}package.json`, 'utf8')) as { version: string };
const BUNDLES = ['tidings.min.js', 'tidings.iife.min.js', 'tidings-fallback.min.js', 'tidings-fallback.iife.min.js', 'tidings-inbox.min.js'];
const built = (name: string): Buffer => readFileSync(`${clientDir}dist/browser/${name}`);

describe('GET /client/*', () => {
  let t: TidingsProcess;
  before(async () => {
    t = await startTidings();
  });
  after(async () => {
    await t?.stop();
  });

  for (const name of BUNDLES) {
    it(`serves ${name} as JavaScript with a strong ETag, short-cached, pointing to its source map`, async () => {
      const res = await fetch(`${t.url}/client/${name}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.match(res.headers.get('etag') ?? '', /^"[\w-]{16,}"$/);
      const body = Buffer.from(await res.arrayBuffer());
      assert.ok(body.equals(built(name)), 'the bytes npm run build wrote');
      assert.match(body.toString(), new RegExp(`\\n//# sourceMappingURL=${name.replace(/\./g, '\\.')}\\.map\\n?$`));

      const map = await fetch(`${t.url}/client/${name}.map`);
      assert.equal(map.status, 200);
      assert.equal(map.headers.get('content-type'), 'application/json');
      const parsed = (await map.json()) as { version: number; sources: string[]; sourcesContent: string[] };
      assert.equal(parsed.version, 3);
      assert.ok(parsed.sources.some((s) => s.endsWith('src/client.ts')), parsed.sources.join(' '));
      assert.equal(parsed.sourcesContent.length, parsed.sources.length);
    });
  }

  it('the IIFE bundles define the global Tidings with its Client', async () => {
    for (const name of ['tidings.iife.min.js', 'tidings-fallback.iife.min.js']) {
      const context: { Tidings?: { Client?: unknown } } = {};
      runInNewContext(await (await fetch(`${t.url}/client/${name}`)).text(), context);
      assert.equal(typeof context.Tidings?.Client, 'function', name);
    }
  });

  it('answers 304 to If-None-Match with the ETag (strong or weak form, or among others), 200 to another', async () => {
    const first = await fetch(`${t.url}/client/tidings.min.js`);
    const etag = first.headers.get('etag') ?? '';
    await first.arrayBuffer();
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await fetch(`${t.url}/client/tidings.min.js`, { headers: { 'if-none-match': ifNoneMatch } });
      assert.equal(res.status, 304, ifNoneMatch);
      assert.equal(res.headers.get('etag'), etag);
      assert.equal(await res.text(), '');
    }
    const other = await fetch(`${t.url}/client/tidings.min.js`, { headers: { 'if-none-match': '"not-it"' } });
    assert.equal(other.status, 200);
    assert.equal((await other.arrayBuffer()).byteLength, built('tidings.min.js').length);
    const fallback = await fetch(`${t.url}/client/tidings-fallback.min.js`, { headers: { 'if-none-match': etag } });
    assert.equal(fallback.status, 200, 'each file has its own ETag');
    await fallback.arrayBuffer();
  });

  it(`serves /client/${version}/<file> immutable, the same bytes, its map beside it; another version is 404`, async () => {
    const plain = await fetch(`${t.url}/client/tidings-fallback.min.js`);
    const res = await fetch(`${t.url}/client/${version}/tidings-fallback.min.js`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(res.headers.get('etag'), plain.headers.get('etag'));
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(await plain.arrayBuffer())));
    const map = await fetch(`${t.url}/client/${version}/tidings-fallback.min.js.map`);
    assert.equal(map.status, 200);
    assert.equal(map.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    await map.arrayBuffer();

    const old = await fetch(`${t.url}/client/0.0.1/tidings.min.js`);
    assert.equal(old.status, 404);
    const body = (await old.json()) as { error: { code: number; message: string } };
    assert.equal(body.error.code, 114);
    assert.match(body.error.message, new RegExp(`/client/${version.replace(/\./g, '\\.')}/tidings\\.min\\.js`));
  });

  it('HEAD answers the headers and length of GET without a body', async () => {
    const conn = await RawConnection.open(t.port);
    try {
      conn.send(`HEAD /client/tidings.iife.min.js HTTP/1.1\r\nHost: x\r\n\r\n`);
      const head = await conn.read((text) => text.includes('\r\n\r\n'));
      assert.match(head, /^HTTP\/1\.1 200 /);
      assert.match(head, new RegExp(`\r\ncontent-length: ${built('tidings.iife.min.js').length}\r\n`, 'i'));
      assert.match(head, /\r\ncontent-type: text\/javascript; charset=utf-8\r\n/i);
      assert.ok(head.endsWith('\r\n\r\n'), 'nothing after the head');
      // the next response on the same connection comes right after the head: no body was sent
      conn.get('/healthz');
      const next = await conn.response();
      assert.equal(next.status, 200);
    } finally {
      conn.close();
    }
  });

  it('answers other methods with 405 and Allow', async () => {
    const res = await fetch(`${t.url}/client/tidings.min.js`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    await res.arrayBuffer();
  });

  it('serves only the known names: no directory listing, no other file of the package, no way out by dot segments or encodings', async () => {
    const targets = [
      '/client/', '/client/package.json', '/client/index.js', '/client/browser/tidings.min.js',
      '/client/dist/browser/tidings.min.js', '/client/../package.json', '/client/%2e%2e/package.json',
      '/client/..%2fpackage.json', '/client/%2e%2e%2fpackage.json', `/client/${version}/../../package.json`,
      `/client/${version}/..%2f..%2fpackage.json`, '/client/tidings.min.js/../../../etc/passwd',
      '/client/..%5cpackage.json', '/client/..\\package.json', '/client/tidings.min.js%00.map',
      '/client/TIDINGS.MIN.JS', `/client/a/${version}/tidings.min.js`, '/client/tidings.min.js.map.map',
      '/client/../../../../../../etc/passwd',
    ];
    for (const target of targets) {
      const conn = await RawConnection.open(t.port);
      try {
        conn.get(target);
        const res = await conn.response();
        assert.ok(res.status === 404 || res.status === 400, `${target}: ${res.status}`);
        assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', target);
        assert.doesNotMatch(res.body, /"name"|root:|"version"/, target);
      } finally {
        conn.close();
      }
    }
  });
});
