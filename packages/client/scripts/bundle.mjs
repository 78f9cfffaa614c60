#!/usr/bin/env node
// Builds the browser bundles, each with its source map, and prints their min+gzip sizes:
//   dist/browser/tidings.min.js                WebSocket only, ES module
//   dist/browser/tidings.iife.min.js           WebSocket only, classic script, global `Tidings`
//   dist/browser/tidings-fallback.min.js       + HTTP streaming, SSE, long polling, ES module
//   dist/browser/tidings-fallback.iife.min.js  + HTTP streaming, SSE, long polling, global `Tidings`
// Run by the root `npm run build` (and so by `npm ci`); `tidings serve` serves them at /client/.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const pkg = new URL('..', import.meta.url).pathname;
const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  platform: 'browser',
  target: 'es2020',
  conditions: ['tidings-source'],
  legalComments: 'none',
  logLevel: 'warning',
};
const outputs = [];
for (const [entry, name] of [['index', 'tidings'], ['fallback', 'tidings-fallback']]) {
  const entryPoints = [`${pkg}src/${entry}.ts`];
  outputs.push({ ...common, entryPoints, format: 'esm', outfile: `${pkg}dist/browser/${name}.min.js` });
  outputs.push({ ...common, entryPoints, format: 'iife', globalName: 'Tidings', outfile: `${pkg}dist/browser/${name}.iife.min.js` });
}
for (const options of outputs) {
  await build(options);
  const bytes = readFileSync(options.outfile);
  const gz = gzipSync(bytes, { level: 9 }).length;
  console.log(`${options.outfile.slice(pkg.length)}: ${(bytes.length / 1024).toFixed(1)} KB min, ${(gz / 1024).toFixed(1)} KB min+gzip (${gz} bytes)`);
}
