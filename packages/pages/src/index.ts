/**
 * Where the built pages are. Each page is a folder `dist/<page>/` holding `index.html` and its
 * assets (`main.js`, `*.css`, source maps); `tidings serve` serves `dist/demo/` at `/demo/`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The directory holding one folder per built page (this package's `dist/`). */
export const pagesDir: string = fileURLToPath(new URL('.', import.meta.url)).replace(/[/\\]src[/\\]$/, '/dist/');

/** The pages built into `pagesDir`: the folders that hold an `index.html`. */
export function builtPages(): string[] {
  try {
    return readdirSync(pagesDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(`${pagesDir}${e.name}/index.html`))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}
