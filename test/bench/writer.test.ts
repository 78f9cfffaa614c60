// The C writer peer of the benchmarks (bench/peers/writer.c) speaks real RFC 6455 and the peers'
// `POST /publish`: a stock `ws` client (which checks Sec-WebSocket-Accept) receives every message.
// Functional only; the benchmarks themselves are not part of the test suite.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { buildC } from '../../bench/lib/cbuild.js';
import { gccSkip } from '../helpers/c-toolchain.js';
import { freePort } from '../helpers/tidings.js';

const root = fileURLToPath(new URL('../..', import.meta.url));


describe('bench C writer peer', { skip: gccSkip }, () => {
  it('accepts ws clients and writes each published body to every one of them as a text frame, short and 16-bit lengths', async () => {
    const bin = buildC(join(root, 'bench/peers/writer.c'), join(mkdtempSync(join(tmpdir(), 'writer-')), 'writer'));
    const port = await freePort();
    const child = spawn(bin, ['--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const clients = [new WebSocket(`ws://127.0.0.1:${port}/`), new WebSocket(`ws://127.0.0.1:${port}/any/path`)];
      await Promise.all(clients.map((ws) => new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); })));
      const got: string[][] = clients.map(() => []);
      clients.forEach((ws, i) => ws.on('message', (data: Buffer, binary: boolean) => { if (!binary) got[i]!.push(data.toString()); }));
      const bodies = ['a'.repeat(100), 'b'.repeat(300)];
      for (const body of bodies) {
        const res = await fetch(`http://127.0.0.1:${port}/publish`, { method: 'POST', body });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'ok');
      }
      for (let i = 0; i < 100 && got.some((g) => g.length < bodies.length); i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(got, [bodies, bodies]);
      // a client that leaves is dropped; the others still get what follows
      clients[0]!.terminate();
      await new Promise((r) => setTimeout(r, 100));
      await (await fetch(`http://127.0.0.1:${port}/publish`, { method: 'POST', body: 'c' })).text();
      for (let i = 0; i < 100 && got[1]!.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(got[1], [...bodies, 'c']);
      clients[1]!.close();
    } finally {
      child.kill();
    }
  });
});
