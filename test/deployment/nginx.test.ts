/**
 * A real nginx (Debian's package) in front of a Tidings node, with the configuration docs/deployment.md
 * gives (read from the page), on free ports: every transport through it, SSE and streaming unbuffered.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import type { ServerMessage } from '@tidings/protocol';
import { API_KEY, freePort, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const NGINX = '/usr/sbin/nginx';
const DOC = new URL('../../docs/deployment.md', import.meta.url);

/** The nginx block of docs/deployment.md, with the node's and nginx's addresses put in. */
export function documentedConfig(nodePort: number, nginxPort: number): string {
  const m = /<!-- nginx:start[^>]*-->\s*```nginx\n([^]*?)```\s*<!-- nginx:end -->/.exec(readFileSync(DOC, 'utf8'));
  assert.ok(m, 'docs/deployment.md has the nginx block between its markers');
  const block = m[1]!;
  assert.ok(block.includes('server 127.0.0.1:8080;') && block.includes('listen 80;'), 'the block names the upstream and listen addresses the test replaces');
  return block.replace('server 127.0.0.1:8080;', `server 127.0.0.1:${nodePort};`).replace('listen 80;', `listen 127.0.0.1:${nginxPort};`);
}

class Nginx {
  private constructor(private readonly child: ChildProcess, readonly dir: string) {}

  static async start(config: string, port: number): Promise<Nginx> {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-nginx-'));
    chmodSync(dir, 0o755); // workers drop to an unprivileged user when nginx starts as root
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((n) => `${n}_temp_path ${dir}/${n};`).join('\n  ');
    writeFileSync(join(dir, 'nginx.conf'), `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  ${temp}
${config}
}
`);
    const child = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    const nginx = new Nginx(child, dir);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${output}${nginx.errorLog()}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return nginx;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await nginx.stop();
        throw new Error(`nginx did not answer: ${output}${nginx.errorLog()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  errorLog(): string {
    const file = join(this.dir, 'error.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Stops the master (and with it the workers) by its process id. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.pid === undefined) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    process.kill(this.child.pid, 'SIGTERM');
    await exited;
  }
}

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An NDJSON stream read with fetch, each line stamped with its arrival time. */
function ndjson(url: string, abort: AbortSignal): Array<{ at: number; msg: ServerMessage }> {
  const lines: Array<{ at: number; msg: ServerMessage }> = [];
  void fetch(url, { signal: abort }).then(async (res) => {
    let rest = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      const parts = (rest + Buffer.from(chunk).toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) if (p !== '') lines.push({ at: performance.now(), msg: JSON.parse(p) as ServerMessage });
    }
  }).catch(() => { /* aborted */ });
  return lines;
}

describe('behind nginx, configured as docs/deployment.md says', { skip: existsSync(NGINX) ? false : 'nginx is not installed' }, () => {
  let t: TidingsProcess;
  let nginx: Nginx;
  let base: string;

  /** POST /api/publish through nginx. */
  async function publish(channel: string, data: unknown): Promise<void> {
    const res = await fetch(`${base}/api/publish`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ channel, data }) });
    assert.equal(res.status, 200, await res.text());
  }

  /**
   * Publishes `n` times, 50 ms apart, after one unmeasured publication (warming the connections and
   * code paths); returns each publish → receive time in ms (publish taken just before the API request).
   */
  async function latencies(channel: string, received: () => number[], n = 5): Promise<number[]> {
    const out: number[] = [];
    const warm = received().length;
    await publish(channel, 'warm-up');
    await waitFor(() => received().length > warm, `the warm-up publication on ${channel}`);
    for (let i = 0; i < n; i++) {
      const before = received().length;
      const start = performance.now();
      await publish(channel, { i });
      await waitFor(() => received().length > before, `publication ${i} on ${channel}`);
      out.push(received()[before]! - start);
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  }

  before(async () => {
    t = await startTidings({ args: ['--trust-proxy', '127.0.0.1/32'], env: { TIDINGS_LOG_LEVEL: 'info' } });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    nginx = await Nginx.start(documentedConfig(t.port, port), port);
  });
  after(async () => {
    await nginx?.stop();
    await t?.stop();
  });

  it('passes the server API and health checks, and keeps /metrics inside', async () => {
    await publish('nginx-api', { via: 'nginx' });
    const history = await fetch(`${base}/api/history?channel=nginx-api`, { headers: { 'x-api-key': API_KEY } });
    assert.equal(history.status, 200);
    assert.match(await history.text(), /"via":"nginx"/);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.equal((await fetch(`${base}/metrics`)).status, 404);
    assert.equal((await fetch(`${t.url}/metrics`)).status, 200, 'the node itself still serves it');
  });

  it('upgrades WebSocket connections and carries the JSON protocol both ways', async () => {
    const c = await WsClient.open(`ws://127.0.0.1:${new URL(base).port}/ws`);
    await c.command('connect');
    await c.command('subscribe', { channel: 'nginx-ws' });
    await publish('nginx-ws', 'through nginx');
    await c.until(() => c.pushes('publication').length === 1, 5000, 'the publication');
    assert.equal(c.pushes('publication')[0]!.data, 'through nginx');
    assert.equal((await c.command<{ ok?: boolean }>('ping')) !== undefined, true);
    c.close();
  });

  it('delivers SSE events unbuffered: each within 100 ms of publishing', async () => {
    const arrivals: number[] = [];
    let connected = false;
    const es = new EventSource(`${base}/sse?channel=nginx-sse`);
    es.onmessage = (e) => {
      const msg = JSON.parse(e.data as string) as ServerMessage;
      if (msg.type === 'connected') connected = true;
      if (msg.type === 'publication') arrivals.push(performance.now());
    };
    try {
      await waitFor(() => connected, 'connected over SSE');
      const ms = await latencies('nginx-sse', () => arrivals);
      assert.ok(Math.max(...ms) < 100, `publish → receive over SSE through nginx: ${ms.map((x) => x.toFixed(1)).join(', ')} ms`);
    } finally {
      es.close();
    }
  });

  it('delivers NDJSON streaming unbuffered: each line within 100 ms of publishing', async () => {
    const abort = new AbortController();
    const lines = ndjson(`${base}/stream?channel=nginx-stream`, abort.signal);
    try {
      await waitFor(() => lines.some((l) => l.msg.type === 'connected'), 'connected over the stream');
      const ms = await latencies('nginx-stream', () => lines.filter((l) => l.msg.type === 'publication').map((l) => l.at));
      assert.ok(Math.max(...ms) < 100, `publish → receive over /stream through nginx: ${ms.map((x) => x.toFixed(1)).join(', ')} ms`);
    } finally {
      abort.abort();
    }
  });

  it('holds a long poll until a publication comes, and answers it at once', async () => {
    const first = await (await fetch(`${base}/poll?channel=nginx-poll`)).json() as { cursor: string };
    const start = performance.now();
    const held = fetch(`${base}/poll?cursor=${encodeURIComponent(first.cursor)}&wait=20`);
    await new Promise((r) => setTimeout(r, 300));
    const publishedAt = performance.now();
    await publish('nginx-poll', 'late');
    const res = await held;
    const answeredAt = performance.now();
    const body = await res.json() as { messages: ServerMessage[] };
    assert.ok(publishedAt - start >= 290, 'the poll was held');
    assert.ok(answeredAt - publishedAt < 1000, `answered ${(answeredAt - publishedAt).toFixed(1)} ms after publishing, not at the wait's end`);
    assert.deepEqual(body.messages.filter((m) => m.type === 'publication').map((m) => m.type === 'publication' && m.data), ['late']);
  });

  it('serves SockJS under its prefix', async () => {
    const info = await fetch(`${base}/sockjs/info`);
    assert.equal(info.status, 200);
    assert.equal((await info.json() as { websocket: boolean }).websocket, true);
  });

  it('the node logs the client address nginx forwards (--trust-proxy is nginx), not a spoofed one', async () => {
    const mark = t.output.length;
    // from 127.0.0.2, which nginx appends to the client's own (spoofed) X-Forwarded-For
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/sse?channel=news`, { localAddress: '127.0.0.2', headers: { origin: 'https://evil.example', 'x-forwarded-for': '6.6.6.6' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
    await waitFor(() => t.output.slice(mark).includes('"msg":"refused"'), 'the refusal log line');
    const line = t.output.slice(mark).split('\n').find((l) => l.includes('"msg":"refused"'))!;
    assert.equal((JSON.parse(line) as { remote: string }).remote, '127.0.0.2', line);
  });
});
