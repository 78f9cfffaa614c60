import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

test('the browser bundle builds without Node built-ins and stays under 15 KB min+gzip', async () => {
  const result = await build({
    entryPoints: [new URL('./index.ts', import.meta.url).pathname],
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2020',
    conditions: ['source'],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents;
  assert.ok(code);
  const gzipped = gzipSync(code, { level: 9 }).length;
  assert.ok(gzipped < 15 * 1024, `${gzipped} bytes min+gzip`);
  assert.doesNotMatch(Buffer.from(code).toString(), /\brequire\(|from\s*"node:/);
});
