import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Compiles the C file `src` into `bin` with `gcc -O2` (and the `libs`, e.g. `['-lz']`) when `bin`
 * is missing or older than `src`; returns `bin`.
 */
export function buildC(src: string, bin: string, libs: readonly string[] = []): string {
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return bin;
  mkdirSync(dirname(bin), { recursive: true });
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', bin, src, ...libs], { stdio: 'inherit' });
  return bin;
}
