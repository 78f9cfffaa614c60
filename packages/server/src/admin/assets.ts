import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One built file of the admin page. */
export interface PageAsset {
  readonly body: Buffer;
  readonly type: string;
}

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'main.js': 'text/javascript; charset=utf-8',
  'main.css': 'text/css; charset=utf-8',
};

/**
 * The admin page as `@tidings/pages` builds it into `dist/admin/` (index.html, main.js, main.css),
 * read once. Never throws: `{missing}` says why the page is not there (no file system paths).
 */
export function loadAdminPage(resolve: (id: string) => string = createRequire(import.meta.url).resolve): Map<string, PageAsset> | { missing: string } {
  let dir: string;
  try {
    dir = join(dirname(resolve('@tidings/pages/package.json')), 'dist', 'admin');
  } catch {
    return { missing: '@tidings/pages is not installed beside @tidings/server: install it to serve the admin page' };
  }
  const out = new Map<string, PageAsset>();
  for (const [name, type] of Object.entries(FILES)) {
    try {
      out.set(name, { body: readFileSync(join(dir, name)), type });
    } catch {
      return { missing: `@tidings/pages has no built admin page (${name}): build it with npm run build -w @tidings/pages` };
    }
  }
  return out;
}
