import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildC } from './cbuild.js';
import { spawnPinned } from './peers.js';

/**
 * Compiles every .c of bench/loadgen into `outDir`/loadgen when the binary is missing or older than
 * any .c or .h there; returns the binary's path.
 */
export function buildLoadgen(root: string, outDir: string): string {
  const dir = join(root, 'bench/loadgen');
  const files = readdirSync(dir).sort().map((name) => join(dir, name));
  return buildC(files.filter((f) => f.endsWith('.c')), join(outDir, 'loadgen'), ['-lz'], files.filter((f) => f.endsWith('.h')));
}

/** Loadgen output: one JSON object (fields documented at the top of bench/loadgen/main.c). */
export type LoadgenResult = Record<string, unknown>;

/** Runs the loadgen pinned to `cpu`; resolves with its JSON, rejects with its stderr on failure. */
export function runLoadgen(
  bin: string, args: string[], cpu: number | undefined, cwd: string, timeoutMs: number,
  /** Called with each line the loadgen writes to stderr (progress). */
  onProgress?: (line: string) => void,
): Promise<LoadgenResult> {
  return new Promise((resolve, reject) => {
    const child = spawnPinned([bin, ...args], cpu, { cwd });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (!onProgress) return;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onProgress(line);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          resolve(parsed as LoadgenResult);
          return;
        }
      } catch {
        // fall through
      }
      reject(new Error(`loadgen ${args.join(' ')} failed (${signal ?? code}): ${err.trim().slice(-2000)} ${out.slice(-500)}`));
    });
  });
}
