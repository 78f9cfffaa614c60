#!/usr/bin/env node
// Builds every page: each folder src/<page>/ with index.html and main.ts becomes dist/<page>/
// with index.html, main.js (ES module, minified, with its source map) and every .css, .svg and
// .png of the folder. The pages load the SDK the server serves instead of carrying their own copy:
// imports of @tidings/client stay imports of /client/tidings.min.js, and of @tidings/client/fallback
// of /client/tidings-fallback.min.js.
// Third-party browser scripts a page loads are copied from node_modules (VENDOR).
// Run by the root `npm run build` (and so by `npm ci`); `tidings serve` serves dist/<page>/ at /<page>/.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const pkg = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const SDK = { '@tidings/client': '/client/tidings.min.js', '@tidings/client/fallback': '/client/tidings-fallback.min.js' };
/** Files copied into dist/<page>/ from installed packages: page → name → module path. */
const VENDOR = {
  demo: { 'sockjs.min.js': 'sockjs-client/dist/sockjs.min.js' },
};
const ASSETS = /\.(html|css|svg|png)$/;

/** Writes beside the target and renames, so a server reading the build meanwhile sees whole files. */
function writeAtomic(file, contents) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp-${process.pid}`, contents);
  renameSync(`${file}.tmp-${process.pid}`, file);
}

const sdkExternal = {
  name: 'served-sdk',
  setup(b) {
    b.onResolve({ filter: /^@tidings\/client(\/fallback)?$/ }, (args) => ({ path: SDK[args.path], external: true }));
  },
};

const pages = readdirSync(join(pkg, 'src'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(pkg, 'src', e.name, 'index.html')) && existsSync(join(pkg, 'src', e.name, 'main.ts')))
  .map((e) => e.name);
for (const page of pages) {
  const src = join(pkg, 'src', page);
  const out = join(pkg, 'dist', page);
  const { outputFiles } = await build({
    entryPoints: [join(src, 'main.ts')],
    outfile: join(out, 'main.js'),
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    conditions: ['tidings-source'],
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [sdkExternal],
    write: false,
  });
  for (const file of outputFiles) writeAtomic(file.path, file.contents);
  for (const name of readdirSync(src)) if (ASSETS.test(name)) copyFileSync(join(src, name), join(out, name));
  for (const [name, from] of Object.entries(VENDOR[page] ?? {})) copyFileSync(require.resolve(from), join(out, name));
  const js = outputFiles.find((f) => f.path.endsWith('main.js'));
  console.log(`dist/${page}/: main.js ${((js?.contents.length ?? 0) / 1024).toFixed(1)} KB min`);
}
