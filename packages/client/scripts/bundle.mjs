#!/usr/bin/env node
// Builds the browser bundles, each with its source map, and prints their min+gzip sizes:
//   dist/browser/tidings.min.js                WebSocket only, ES module
//   dist/browser/tidings.iife.min.js           WebSocket only, classic script, global `Tidings`
//   dist/browser/tidings-fallback.min.js       + HTTP streaming, SSE, long polling, ES module
//   dist/browser/tidings-fallback.iife.min.js  + HTTP streaming, SSE, long polling, global `Tidings`
//   dist/browser/tidings-inbox.min.js          the WebSocket SDK + the <tidings-inbox> element, ES module
// Run by the root `npm run build` (and so by `npm ci`); `tidings serve` serves them at /client/.
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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
outputs.push({ ...common, entryPoints: [`${pkg}src/elements/tidings-inbox.ts`], format: 'esm', outfile: `${pkg}dist/browser/tidings-inbox.min.js` });
// each file is written beside its place and renamed into it, so a server reading the bundles
// while they are rebuilt (tests run side by side) sees the old file or the new one, never half
for (const options of outputs) {
  const { outputFiles } = await build({ ...options, write: false });
  for (const file of outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(`${file.path}.tmp-${process.pid}`, file.contents);
    renameSync(`${file.path}.tmp-${process.pid}`, file.path);
  }
  const bytes = outputFiles.find((f) => f.path === options.outfile).contents;
  const gz = gzipSync(bytes, { level: 9 }).length;
  console.log(`${options.outfile.slice(pkg.length)}: ${(bytes.length / 1024).toFixed(1)} KB min, ${(gz / 1024).toFixed(1)} KB min+gzip (${gz} bytes)`);
}
