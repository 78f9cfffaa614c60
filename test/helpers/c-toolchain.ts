/**
 * Whether the benchmark's C programs can be built here, as a node:test `skip` value: `false` when
 * they can, else the reason (what to install, Debian package names).
 */
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function has(cmd: string): boolean {
  try {
    execSync(`command -v ${cmd}`, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** gcc, for bench/peers/writer.c and the load generator. */
export const gccSkip: false | string = has('gcc') ? false : 'gcc is not installed';

/** gcc and zlib's headers, for the load generator (it inflates permessage-deflate frames). */
export const zlibSkip: false | string = gccSkip || (existsSync('/usr/include/zlib.h') ? false : "zlib's headers are not installed (apt-get install -y zlib1g-dev)");
