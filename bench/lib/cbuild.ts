import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Compiles the C file `src`, or the C files of one program (`src` a list), into `bin` with
 * `gcc -O2 -Wall -Wextra` (and the `libs`, e.g. `['-lz']`) when `bin` is missing or older than any
 * of `src` or of `headers` (files the sources include, not compiled themselves); returns `bin`.
 * Throws when gcc fails.
 */
export function buildC(src: string | readonly string[], bin: string, libs: readonly string[] = [], headers: readonly string[] = []): string {
  const sources = typeof src === 'string' ? [src] : src;
  if (existsSync(bin)) {
    const built = statSync(bin).mtimeMs;
    if ([...sources, ...headers].every((file) => statSync(file).mtimeMs <= built)) return bin;
  }
  mkdirSync(dirname(bin), { recursive: true });
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', bin, ...sources, ...libs], { stdio: 'inherit' });
  return bin;
}
