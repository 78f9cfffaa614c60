import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';

/** Leaves every module outside src/elements/ (the SDK and its protocol) out of the bundle, as imports. */
const sdkExternal: Plugin = {
  name: 'sdk-external',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const inElements = args.path.startsWith('./') && args.resolveDir.endsWith('/src/elements');
      return inElements ? undefined : { path: args.path, external: true };
    });
  },
};

async function bundle(entry: string, plugins: Plugin[] = []): Promise<{ code: string; gzipped: number }> {
  const result = await build({
    plugins,
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

test('the <tidings-inbox> element adds at most 8 KB min+gzip on top of the SDK, and never parses HTML', async () => {
  // measured as the element alone: its bundle with the SDK (../*.js, @tidings/protocol) left as imports
  const element = await bundle('./elements/tidings-inbox.ts', [sdkExternal]);
  assert.ok(element.gzipped <= 8 * 1024, `${element.gzipped} bytes min+gzip`);
  assert.match(element.code, /from\s*"\.\.\/client\.js"/, 'the SDK is left out');
  assert.doesNotMatch(element.code, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser/);
  // and the served bundle (the SDK + the element) costs the same over the SDK's own bundle
  const [whole, sdk] = await Promise.all([bundle('./elements/tidings-inbox.ts'), bundle('./index.ts')]);
  assert.ok(whole.gzipped - sdk.gzipped <= 8 * 1024, `${whole.gzipped} - ${sdk.gzipped} bytes min+gzip`);
  assert.doesNotMatch(whole.code, /\bimport\s*[{*"]|\brequire\(/, 'imports nothing');
});
