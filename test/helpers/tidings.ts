/**
 * Starts the real `tidings serve` as a child process on a free port, for integration tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { httpsRequest } from './tls.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));

export const API_KEY = 'test-api-key';
/** How long `start()` waits for `/healthz`. */
const START_TIMEOUT_MS = 45_000;
export const JWT_SECRET = 'test-jwt-secret-that-is-long-enough-for-hs256';

/** Writes `settings` to a fresh temporary `tidings.json` and returns its path (for `--config`). */
export function configFile(settings: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tidings-config-')), 'tidings.json');
  writeFileSync(file, JSON.stringify(settings));
  return file;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** Extra command-line arguments after `serve`. */
  args?: string[];
  env?: Record<string, string>;
  port?: number;
  /** The API key; `null` starts the server without one. Default: API_KEY. */
  apiKey?: string | null;
  /** Serve HTTPS and WSS with this certificate (`--tls-cert`, `--tls-key`); the helper's own requests trust `ca` only. */
  tls?: { certFile: string; keyFile: string; ca: string | string[] };
}

export class TidingsProcess {
  readonly url: string;
  readonly wsUrl: string;
  /** The SQLite store's directory: one per process object, kept across restarts. */
  readonly dataDir = mkdtempSync(join(tmpdir(), 'tidings-data-'));
  private child: ChildProcess | undefined;
  output = '';

  constructor(readonly port: number, private readonly options: StartOptions) {
    const secure = options.tls !== undefined;
    this.url = `${secure ? 'https' : 'http'}://127.0.0.1:${port}`;
    this.wsUrl = `${secure ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`;
  }

  /** The running server's process id, for reading its /proc entries. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves once `/healthz` answers. */
  async start(): Promise<void> {
    const args = ['--conditions=tidings-source', '--import', 'tsx', bin, 'serve', '--host', '127.0.0.1', '--port', String(this.port),
      ...(this.options.apiKey === null ? [] : ['--api-key', this.options.apiKey ?? API_KEY]), '--jwt-secret', JWT_SECRET, '--data-dir', this.dataDir,
      ...(this.options.tls ? ['--tls-cert', this.options.tls.certFile, '--tls-key', this.options.tls.keyFile] : []), ...(this.options.args ?? [])];
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', TIDINGS_LOG_LEVEL: 'warn', ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => { this.output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { this.output += d.toString(); });
    // generous: a loaded 2-core machine compiles with tsx slowly; a healthy start ends the wait at once
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`tidings exited with ${child.exitCode}:\n${this.output}`);
      try {
        if (this.options.tls) {
          if ((await httpsRequest(`${this.url}/healthz`, this.options.tls.ca)).status === 200) return;
        } else if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`tidings did not start within ${START_TIMEOUT_MS / 1000} s:\n${this.output}`);
  }

  /** Sends a signal and waits for the process to exit; returns its exit code. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }

  /** Sends a signal without waiting for anything. */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async restart(): Promise<void> {
    await this.kill('SIGKILL');
    await this.start();
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL');
  }

  /** POST /api/publish with the test API key. */
  async publish(channel: string, data: unknown): Promise<{ offset: number; epoch: string }> {
    const res = await this.api('POST', '/api/publish', { channel, data });
    if (res.status !== 200) throw new Error(`publish failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { offset: number; epoch: string };
  }

  async api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
    if (this.options.tls) {
      const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const all = { 'x-api-key': API_KEY, ...(text === undefined ? {} : { 'content-type': 'application/json' }), ...headers };
      const res = await httpsRequest(this.url + path, this.options.tls.ca, { method, headers: all, ...(text === undefined ? {} : { body: text }) });
      let parsed: unknown = res.body;
      try { parsed = JSON.parse(res.body); } catch { /* not JSON */ }
      return { status: res.status, body: parsed };
    }
    const init: RequestInit = { method, headers: { 'x-api-key': API_KEY, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(this.url + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  }
}

export async function startTidings(options: StartOptions = {}): Promise<TidingsProcess> {
  const t = new TidingsProcess(options.port ?? (await freePort()), options);
  await t.start();
  return t;
}

/** An HS256 token for `sub`, signed with the test secret. */
export async function makeToken(sub: string, opts: { expiresIn?: number; channels?: string[]; subs?: string[]; secret?: string } = {}): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (opts.channels) claims.channels = opts.channels;
  if (opts.subs) claims.subs = opts.subs;
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt();
  if (opts.expiresIn !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + opts.expiresIn);
  return jwt.sign(new TextEncoder().encode(opts.secret ?? JWT_SECRET));
}
