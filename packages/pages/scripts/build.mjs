#!/usr/bin/env node
// Builds every page: src/<page>/ with index.html and main.ts (and any .css) → dist/<page>/
// (index.html and the .css copied, main.ts bundled and minified by esbuild into main.js), and
// dist/index.js, the package's export: the URL of dist/.
//   node scripts/build.mjs
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');
for (const page of readdirSync(src, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
  const dir = join(src, page);
  if (!existsSync(join(dir, 'index.html')) || !existsSync(join(dir, 'main.ts'))) continue;
  const out = join(root, 'dist', page);
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(dir)) if (f === 'index.html' || f.endsWith('.css')) copyFileSync(join(dir, f), join(out, f));
  await build({
    entryPoints: [join(dir, 'main.ts')], outfile: join(out, 'main.js'), bundle: true, minify: true, format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'], conditions: ['tidings-source'], logLevel: 'warning',
  });
}
writeFileSync(join(root, 'dist', 'index.js'), "/** The URL of this package's built pages (`dist/<page>/`). */\nexport const dist = new URL('./', import.meta.url);\n");
writeFileSync(join(root, 'dist', 'index.d.ts'), "/** The URL of this package's built pages (`dist/<page>/`). */\nexport declare const dist: URL;\n");
