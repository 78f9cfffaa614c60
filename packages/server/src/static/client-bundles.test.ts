import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ClientBundles, findClientPackage, matchesEtag, type ClientPackage } from './client-bundles.js';

async function serving(pkg: ClientPackage): Promise<{ url: string; server: Server }> {
  const bundles = new ClientBundles(pkg);
  const server = createServer((req, res) => bundles.handle(req, res, new URL(req.url ?? '/', 'http://x').pathname));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function fakePackage(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-client-'));
  mkdirSync(join(dir, 'dist', 'browser'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'dist', 'browser', name), text);
  return dir;
}

describe('ClientBundles', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it('finds the workspace @tidings/client with its version, and reports a missing package without throwing', () => {
    const found = findClientPackage();
    assert.ok('dir' in found && /^\d+\.\d+\.\d+/.test(found.version), JSON.stringify(found));
    const missing = findClientPackage(() => {
      throw Object.assign(new Error('Cannot find module'), { code: 'MODULE_NOT_FOUND' });
    });
    assert.ok('missing' in missing);
    assert.match(missing.missing, /@tidings\/client is not installed/);
  });

  it('without the package, every known file is 404 with the reason, and an unknown one lists what is served', async () => {
    const { url, server } = await serving({ missing: '@tidings/client is not installed beside @tidings/server: install it' });
    servers.push(server);
    const res = await fetch(`${url}/client/tidings.min.js`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /not installed/);
    const unknown = await fetch(`${url}/client/other.js`);
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /tidings-fallback\.iife\.min\.js/);
  });

  it('with the package but no built bundles, says to build them', async () => {
    const { url, server } = await serving({ dir: mkdtempSync(join(tmpdir(), 'tidings-client-')), version: '9.9.9' });
    servers.push(server);
    const res = await fetch(`${url}/client/9.9.9/tidings.min.js`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /npm run build/);
  });

  it('serves what the package holds, a file it lacks is 404, and the ETag follows the bytes', async () => {
    const dir = fakePackage({ 'tidings.min.js': 'export const a = 1;\n', 'tidings.min.js.map': '{"version":3}' });
    const { url, server } = await serving({ dir, version: '1.2.3' });
    servers.push(server);
    const js = await fetch(`${url}/client/1.2.3/tidings.min.js`);
    assert.equal(js.status, 200);
    assert.equal(await js.text(), 'export const a = 1;\n');
    const map = await fetch(`${url}/client/tidings.min.js.map`);
    assert.equal(map.headers.get('content-type'), 'application/json');
    assert.notEqual(map.headers.get('etag'), js.headers.get('etag'));
    await map.arrayBuffer();
    const lacking = await fetch(`${url}/client/tidings-fallback.min.js`);
    assert.equal(lacking.status, 404);
    await lacking.arrayBuffer();
  });

  it('If-None-Match: weak comparison over a list, or *', () => {
    assert.equal(matchesEtag(undefined, '"a"'), false);
    assert.equal(matchesEtag('"a"', '"a"'), true);
    assert.equal(matchesEtag('W/"a"', '"a"'), true);
    assert.equal(matchesEtag('"b" , "a"', '"a"'), true);
    assert.equal(matchesEtag('*', '"a"'), true);
    assert.equal(matchesEtag('"ab"', '"a"'), false);
    assert.equal(matchesEtag('a', '"a"'), false);
  });
});
