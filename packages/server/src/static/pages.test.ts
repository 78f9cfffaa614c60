import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PageAssets, findPagesPackage, type PagesPackage } from './pages.js';

const servers: Server[] = [];

/** `raw`: the request target as it came, not normalized by URL parsing, is the path handed over. */
async function serving(page: string, pkg: PagesPackage, raw = false): Promise<string> {
  const assets = new PageAssets(page, pkg);
  const server = createServer((req, res) => {
    const path = raw ? req.url ?? '/' : new URL(req.url ?? '/', 'http://x').pathname;
    if (assets.owns(path)) assets.handle(req, res, path);
    else res.writeHead(404).end('not the page\'s');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A fake @tidings/pages with `files` under dist/<page>/, plus a secret beside the package. */
function fakePackage(page: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-pages-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, 'dist', page, name, '..'), { recursive: true });
    writeFileSync(join(dir, 'dist', page, name), text);
  }
  writeFileSync(join(dir, 'secret.txt'), 'not to be served');
  writeFileSync(join(dir, 'dist', 'secret.txt'), 'not to be served');
  return dir;
}

describe('PageAssets', () => {
  after(() => {
    for (const s of servers) s.close();
  });

  it('finds the workspace @tidings/pages, and reports a missing one without throwing', () => {
    assert.ok('dir' in findPagesPackage());
    const missing = findPagesPackage(() => {
      throw new Error('Cannot find module');
    });
    assert.ok('missing' in missing && /@tidings\/pages is not installed/.test(missing.missing));
  });

  it('serves the page\'s files with their types, index.html at the prefix, a redirect to it without the slash', async () => {
    const dir = fakePackage('demo', { 'index.html': '<!doctype html><p>hi', 'main.js': 'export {};\n', 'demo.css': 'p{}', 'img/logo.svg': '<svg/>', 'notes.md': '# not served' });
    const url = await serving('demo', { dir });
    const index = await fetch(`${url}/demo/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await index.text(), '<!doctype html><p>hi');
    for (const [path, type] of [['/demo/main.js', 'text/javascript; charset=utf-8'], ['/demo/demo.css', 'text/css; charset=utf-8'], ['/demo/img/logo.svg', 'image/svg+xml']]) {
      const res = await fetch(`${url}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), type, path);
      await res.arrayBuffer();
    }
    const unknownType = await fetch(`${url}/demo/notes.md`);
    assert.equal(unknownType.status, 404);
    await unknownType.arrayBuffer();
    const redirect = await fetch(`${url}/demo`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/demo/');
  });

  it('never leaves the page\'s folder: dot segments, encoded ones and absolute names are 404', async () => {
    const dir = fakePackage('demo', { 'index.html': 'x' });
    const url = await serving('demo', { dir }, true);
    const port = new URL(url).port;
    for (const path of ['/demo/../secret.txt', '/demo/../../secret.txt', '/demo/%2e%2e/secret.txt', '/demo/..%2fsecret.txt', '/demo//etc/passwd', '/demo/./index.html', '/demo/index.html/']) {
      // raw, so nothing normalizes the path first
      const status = await new Promise<number>((resolve, reject) => {
        const req = createRawRequest(port, path, resolve);
        req.on('error', reject);
      });
      assert.equal(status, 404, path);
    }
  });

  it('ETag and 304, HEAD without a body, other methods 405', async () => {
    const url = await serving('demo', { dir: fakePackage('demo', { 'index.html': 'x', 'main.js': 'y' }) });
    const first = await fetch(`${url}/demo/main.js`);
    const etag = first.headers.get('etag') ?? '';
    assert.match(etag, /^"[\w-]{32}"$/);
    await first.arrayBuffer();
    const again = await fetch(`${url}/demo/main.js`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const head = await fetch(`${url}/demo/main.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '1');
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    const post = await fetch(`${url}/demo/main.js`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    await post.arrayBuffer();
  });

  it('without the package or without the page\'s build, 404 with the reason; another page of the package is its own', async () => {
    const gone = await fetch(`${await serving('demo', { missing: '@tidings/pages is not installed beside @tidings/server' })}/demo/`);
    assert.equal(gone.status, 404);
    assert.match(((await gone.json()) as { error: { message: string } }).error.message, /not installed/);
    const dir = fakePackage('admin', { 'index.html': 'admin' });
    const unbuilt = await fetch(`${await serving('demo', { dir })}/demo/`);
    assert.equal(unbuilt.status, 404);
    assert.match(((await unbuilt.json()) as { error: { message: string } }).error.message, /no built demo page in dist\/demo\/: build it with npm run build/);
    const admin = await fetch(`${await serving('admin', { dir })}/admin/`);
    assert.equal(await admin.text(), 'admin');
  });
});

function createRawRequest(port: string, path: string, done: (status: number) => void): Socket {
  const socket = new Socket();
  socket.connect(Number(port), '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
  let head = '';
  socket.on('data', (d: Buffer) => {
    head += d.toString();
    const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
    if (m) {
      done(Number(m[1]));
      socket.destroy();
    }
  });
  return socket;
}
