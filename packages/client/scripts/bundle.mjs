#!/usr/bin/env node
// Builds the browser bundles and prints their min+gzip sizes:
//   dist/tidings.min.js       ES module
//   dist/tidings.iife.min.js  classic script, global `Tidings`
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const pkg = new URL('..', import.meta.url).pathname;
const common = {
  entryPoints: [`${pkg}src/index.ts`],
  bundle: true,
  minify: true,
  platform: 'browser',
  target: 'es2020',
  conditions: ['tidings-source'],
  legalComments: 'none',
  logLevel: 'warning',
};
const outputs = [
  { ...common, format: 'esm', outfile: `${pkg}dist/tidings.min.js` },
  { ...common, format: 'iife', globalName: 'Tidings', outfile: `${pkg}dist/tidings.iife.min.js` },
];
for (const options of outputs) {
  await build(options);
  const bytes = readFileSync(options.outfile);
  const gz = gzipSync(bytes, { level: 9 }).length;
  console.log(`${options.outfile.slice(pkg.length)}: ${(bytes.length / 1024).toFixed(1)} KB min, ${(gz / 1024).toFixed(1)} KB min+gzip (${gz} bytes)`);
}
