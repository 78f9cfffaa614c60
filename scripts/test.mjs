#!/usr/bin/env node
// Runs the test suites with Node's test runner and tsx, from TypeScript sources.
//   node scripts/test.mjs              unit + integration
//   node scripts/test.mjs unit         *.test.ts beside the sources (packages/*/src)
//   node scripts/test.mjs integration  test/**/*.test.ts (real servers, real clients)
//   node scripts/test.mjs <file...>    just these files
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function find(dir, out = []) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const mode = args[0] ?? 'all';
let files;
if (mode === 'unit') files = find(join(root, 'packages'));
else if (mode === 'integration') files = find(join(root, 'test'));
else if (mode === 'all') files = [...find(join(root, 'packages')), ...find(join(root, 'test'))];
else files = args;

if (files.length === 0) {
  console.error(`no test files for ${mode}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--conditions=tidings-source', '--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, NODE_OPTIONS: '' },
});
process.exit(r.status ?? 1);
