/**
 * Starts a real PostgreSQL from Debian's packages for tests: `initdb` into a temporary folder (as
 * the `postgres` user when running as root), `postgres` on a free port of 127.0.0.1 with its unix
 * socket in that folder, stopped by PID (SIGINT: fast shutdown) and removed afterwards.
 * Without the binaries the PostgreSQL tests are skipped loudly; under CI=true their absence is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './tidings.js';

/** The newest `/usr/lib/postgresql/<version>/bin` holding initdb and postgres, if any. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(base, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

/** `{skip}` option for node:test: skips (saying why) without PostgreSQL, fails under CI. */
export function postgresAvailability(): { skip: string | false } {
  if (postgresBinDir()) return { skip: false };
  if (process.env.CI === 'true') throw new Error('PostgreSQL is required under CI=true (apt-get install -y postgresql)');
  const why = 'SKIPPED: PostgreSQL not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install -y postgresql); the PostgreSQL tests did not run';
  process.stderr.write(`\n*** ${why} ***\n\n`);
  return { skip: why };
}

const asRoot = userInfo().uid === 0;

/** Runs a PostgreSQL binary, as the `postgres` user when we are root (PostgreSQL refuses to run as root). */
function command(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

export class PostgresProcess {
  private child: ChildProcess | undefined;
  /** Connection URL of the `tidings` database (user `postgres`, trust authentication on 127.0.0.1). */
  readonly url: string;

  private constructor(readonly port: number, private readonly dir: string, private readonly bin: string, private readonly fsync: boolean) {
    this.url = `postgres://postgres@127.0.0.1:${port}/tidings`;
  }

  /**
   * initdb, start, and create the `tidings` database. `fsync: false` (the default, for tests)
   * skips flushing to disk: what is committed survives any crash of a client, not of the machine.
   * Benchmarks pass `fsync: true`.
   */
  static async start(options: { fsync?: boolean } = {}): Promise<PostgresProcess> {
    const bin = postgresBinDir();
    if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql/*/bin');
    const dir = mkdtempSync(join(tmpdir(), 'tidings-pg-'));
    if (asRoot) {
      const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
      chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
    }
    const [cmd, args] = command(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
    const init = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stdout}${init.stderr}`);
    const p = new PostgresProcess(await freePort(), dir, bin, options.fsync ?? false);
    await p.start();
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${p.port}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE tidings');
    await admin.end();
    return p;
  }

  /** Starts the server on its data folder and resolves once it accepts connections. */
  async start(): Promise<void> {
    const [cmd, args] = command(join(this.bin, 'postgres'), ['-D', join(this.dir, 'data'), '-p', String(this.port), '-c', 'listen_addresses=127.0.0.1',
      '-c', `unix_socket_directories=${this.dir}`, '-c', 'max_connections=200', '-c', 'shared_buffers=32MB', '-c', `fsync=${this.fsync ? 'on' : 'off'}`]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let output = '';
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}: ${output}`);
      const probe = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${this.port}/postgres`, connectionTimeoutMillis: 1000 });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.query('SELECT 1');
        await probe.end();
        return;
      } catch {
        await probe.end().catch(() => {});
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`postgres did not start within 30 s: ${output}`);
  }

  /**
   * Stops the server: SIGINT is PostgreSQL's fast shutdown (clients are disconnected, everything
   * committed is kept). Sent to the postgres process itself (runuser passes it on), awaited.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const pid = this.postmasterPid();
    if (pid !== undefined) process.kill(pid, 'SIGINT');
    else child.kill('SIGINT');
    await exited;
  }

  /** Stops the server and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A client on the `tidings` database, for a test to look inside. */
  async client(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: this.url });
    c.on('error', () => {});
    await c.connect();
    return c;
  }

  /** The database a test gets to itself: a fresh one on this server. Returns its URL. */
  async freshDatabase(name: string): Promise<string> {
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${this.port}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  private postmasterPid(): number | undefined {
    const file = join(this.dir, 'data', 'postmaster.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }
}
