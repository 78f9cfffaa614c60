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

  private extra: string[] = [];
  private cwd: string | undefined;

  static async start(extra: string[] = [], cwd?: string): Promise<RedisProcess> {
    const r = new RedisProcess(await freePort());
    r.extra = extra;
    r.cwd = cwd;
    await r.start();
    return r;
  }

  async start(): Promise<void> {
    const bin = redisServerPath();
    if (!bin) throw new Error('redis-server not found');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...this.extra];
    this.child = spawn(bin, args, { stdio: 'ignore', ...(this.cwd ? { cwd: this.cwd } : {}) });
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

  /** SIGSTOP: the server keeps its connections open but answers nothing until resume(). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after pause(): the server goes on with what it was sent meanwhile. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  client(): Redis {
    return new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 50, 500) });
  }
}

/** A Redis Cluster of `masters` redis-server processes (no replicas, no persistence). */
export class RedisClusterProcess {
  private constructor(readonly nodes: RedisProcess[], private readonly dir: string) {}

  get seeds(): Array<{ host: string; port: number }> {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  static async start(masters = 3): Promise<RedisClusterProcess> {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/tidings-redis-cluster-`);
    const nodes: RedisProcess[] = [];
    for (let i = 0; i < masters; i++) nodes.push(await RedisProcess.start(['--cluster-enabled', 'yes', '--cluster-config-file', `${dir}/nodes-${i}.conf`, '--cluster-node-timeout', '2000'], dir));
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    const probe = new Redis(nodes[0]!.port, '127.0.0.1');
    probe.on('error', () => {});
    const deadline = Date.now() + 20_000;
    while (!/cluster_state:ok/.test(String(await probe.cluster('INFO')))) {
      if (Date.now() > deadline) throw new Error('the cluster did not become ok');
      await new Promise((r) => setTimeout(r, 100));
    }
    probe.disconnect();
    return new RedisClusterProcess(nodes, dir);
  }

  async kill(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }
}
