import { join } from 'node:path';
import { buildC } from './cbuild.js';
import { spawnPinned } from './peers.js';

/** Compiles bench/loadgen/loadgen.c when the binary is missing or older than the source. */
export function buildLoadgen(root: string, outDir: string): string {
  return buildC(join(root, 'bench/loadgen/loadgen.c'), join(outDir, 'loadgen'), ['-lz']);
}

/** Loadgen output: one JSON object (fields documented in loadgen.c). */
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
