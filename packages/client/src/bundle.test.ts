import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

async function bundle(entry: string): Promise<{ code: string; gzipped: number }> {
  const result = await build({
    entryPoints: [new URL(entry, import.meta.url).pathname],
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2020',
    conditions: ['tidings-source'],
    write: false,
    logLevel: 'silent',
  });
  const bytes = result.outputFiles[0]?.contents;
  assert.ok(bytes);
  return { code: Buffer.from(bytes).toString(), gzipped: gzipSync(bytes, { level: 9 }).length };
}

test('the WebSocket-only browser bundle builds without Node built-ins, stays under 15 KB min+gzip and carries no HTTP transport', async () => {
  const { code, gzipped } = await bundle('./index.ts');
  assert.ok(gzipped < 15 * 1024, `${gzipped} bytes min+gzip`);
  assert.doesNotMatch(code, /\brequire\(|from\s*"node:/);
  assert.doesNotMatch(code, /\/emulation|\/poll/);
});

test('the fallback bundle (WebSocket, HTTP streaming, SSE, long polling) builds without Node built-ins', async () => {
  const { code, gzipped } = await bundle('./fallback.ts');
  assert.ok(gzipped < 20 * 1024, `${gzipped} bytes min+gzip`);
  assert.doesNotMatch(code, /\brequire\(|from\s*"node:/);
  assert.match(code, /\/emulation/);
});
