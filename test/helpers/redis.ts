/**
 * Starts a real redis-server (no persistence) on a free port for tests. Without the binary the
 * Redis tests are skipped loudly; under CI=true its absence is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './tidings.js';

export function redisServerPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return path === '' ? undefined : path;
}

/** `{skip}` option for node:test: skips (saying why) without redis-server, fails under CI. */
export function redisAvailability(): { skip: string | false } {
  if (redisServerPath()) return { skip: false };
  if (process.env.CI === 'true') throw new Error('redis-server is required under CI=true (apt-get install -y redis-server)');
  const why = 'SKIPPED: redis-server not installed (apt-get install -y redis-server); the Redis tests did not run';
  process.stderr.write(`\n*** ${why} ***\n\n`);
  return { skip: why };
}

export class RedisProcess {
  private child: ChildProcess | undefined;
  readonly url: string;

  private constructor(readonly port: number) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(): Promise<RedisProcess> {
    const r = new RedisProcess(await freePort());
    await r.start();
    return r;
  }

  async start(): Promise<void> {
    const bin = redisServerPath();
    if (!bin) throw new Error('redis-server not found');
    this.child = spawn(bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const probe = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => { /* not up yet */ });
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error('redis-server did not start');
  }

  /** Kills the server (SIGKILL: no persistence, everything is lost). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  client(): Redis {
    return new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 50, 500) });
  }
}
