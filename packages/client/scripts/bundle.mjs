#!/usr/bin/env node
// Builds the browser bundles and prints their min+gzip sizes:
//   dist/tidings.min.js                WebSocket only, ES module
//   dist/tidings.iife.min.js           WebSocket only, classic script, global `Tidings`
//   dist/tidings-fallback.min.js       + HTTP streaming, SSE, long polling, ES module
//   dist/tidings-fallback.iife.min.js  + HTTP streaming, SSE, long polling, global `Tidings`
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const pkg = new URL('..', import.meta.url).pathname;
const common = {
  bundle: true,
  minify: true,
  platform: 'browser',
  target: 'es2020',
  conditions: ['tidings-source'],
  legalComments: 'none',
  logLevel: 'warning',
};
const outputs = [];
for (const [entry, name] of [['index', 'tidings'], ['fallback', 'tidings-fallback']]) {
  const entryPoints = [`${pkg}src/${entry}.ts`];
  outputs.push({ ...common, entryPoints, format: 'esm', outfile: `${pkg}dist/${name}.min.js` });
  outputs.push({ ...common, entryPoints, format: 'iife', globalName: 'Tidings', outfile: `${pkg}dist/${name}.iife.min.js` });
}
for (const options of outputs) {
  await build(options);
  const bytes = readFileSync(options.outfile);
  const gz = gzipSync(bytes, { level: 9 }).length;
  console.log(`${options.outfile.slice(pkg.length)}: ${(bytes.length / 1024).toFixed(1)} KB min, ${(gz / 1024).toFixed(1)} KB min+gzip (${gz} bytes)`);
}
