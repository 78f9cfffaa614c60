// The benchmark load generator (bench/loadgen/*.c) as the bench builds and runs it: buildC rebuilds a
// program of several C files when any source or header is newer than the binary, and the loadgen
// subscribes to a real Tidings server over its JSON protocol, STOMP and SSE, receives every copy of
// what it publishes, and prints the same JSON fields as before it was split into several files.
// Functional only: no figure is asserted (the benchmarks themselves are not part of the test suite).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { buildC } from '../../bench/lib/cbuild.js';
import { buildLoadgen, runLoadgen } from '../../bench/lib/loadgen.js';
import { gccSkip, zlibSkip } from '../helpers/c-toolchain.js';
import { API_KEY, startTidings, type TidingsProcess } from '../helpers/tidings.js';

const root = fileURLToPath(new URL('../..', import.meta.url));


/** Sets `file`'s modification time `seconds` after `than`'s (file systems may keep whole seconds only). */
function newerThan(file: string, than: string, seconds: number): void {
  const t = statSync(than).mtimeMs / 1000 + seconds;
  utimesSync(file, t, t);
}


describe('bench buildC', { skip: gccSkip }, () => {
  it('compiles several C files into one binary, again only when a source or a header is newer than it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbuild-'));
    const header = join(dir, 'answer.h');
    const answer = join(dir, 'answer.c');
    const main = join(dir, 'main.c');
    writeFileSync(header, '#define ANSWER 1\nint answer(void);\n');
    writeFileSync(answer, '#include "answer.h"\nint answer(void) { return ANSWER; }\n');
    writeFileSync(main, '#include <stdio.h>\n#include "answer.h"\nint main(void) { printf("%d %d\\n", answer(), ANSWER); return 0; }\n');
    const bin = join(dir, 'bin', 'answer');
    const run = (): string => execFileSync(bin, { encoding: 'utf8' }).trim();

    assert.equal(buildC([main, answer], bin, [], [header]), bin);
    assert.equal(run(), '1 1');
    const built = statSync(bin).mtimeMs;
    buildC([main, answer], bin, [], [header]);
    assert.equal(statSync(bin).mtimeMs, built, 'nothing changed: not rebuilt');

    writeFileSync(header, '#define ANSWER 2\nint answer(void);\n');
    newerThan(header, bin, 5);
    buildC([main, answer], bin, [], [header]);
    assert.equal(run(), '2 2', 'a newer header rebuilds every source');

    writeFileSync(answer, '#include "answer.h"\nint answer(void) { return ANSWER + 40; }\n');
    newerThan(answer, bin, 5);
    buildC([main, answer], bin, [], [header]);
    assert.equal(run(), '42 2', 'a newer source rebuilds');
  });
});

describe('bench load generator against Tidings', { skip: zlibSkip }, () => {
  let server: TidingsProcess;
  let loadgen: string;
  const conns = 20;

  before(async () => {
    loadgen = buildLoadgen(root, mkdtempSync(join(tmpdir(), 'loadgen-')));
    server = await startTidings();
  });
  after(async () => {
    await server.stop();
  });

  const common = (): string[] => ['--port', String(server.port), '--pid', String(server.pid), '--conns', String(conns), '--sources', '2',
    '--warmup', '0.2', '--publishers', '2', '--pub-path', '/api/publish', '--pub-key', API_KEY, '--pub-tidings'];
  const PHASE_KEYS = ['seconds', 'published', 'publishLost', 'publishConnectionsLost', 'messages', 'msgsPerSec', 'serverCpu', 'clientCpu',
    'rssEndKb', 'closedByServer', 'drainSeconds', 'subBytesPerMsg', 'calls', 'callMeanMs', 'callMaxMs'];
  const LATENCY_KEYS = [...PHASE_KEYS, 'rate', 'expected', 'samples', 'delivered', 'p50Ms', 'p99Ms', 'p999Ms', 'maxMs', 'p50LowerBound',
    'p99LowerBound', 'p999LowerBound'];

  for (const proto of ['tws', 'stomp', 'tsse']) {
    it(`${proto}: every subscriber gets every copy of the open-loop broadcasts, and the JSON has its fields`, async () => {
      const result = await runLoadgen(loadgen, ['--proto', proto, ...common(), '--phase', 'fanout:0.5', '--phase', 'latency:1', '--rate', '20', '--drain', '5'],
        undefined, root, 60_000);
      assert.deepEqual(Object.keys(result), ['proto', 'conns', 'connected', 'failed', 'connectSeconds', 'fanout', 'latency', 'closedByServer']);
      assert.equal(result.proto, proto);
      assert.equal(result.connected, conns);
      assert.equal(result.failed, 0);
      assert.equal(result.closedByServer, 0);
      const fanout = result.fanout as Record<string, number>;
      assert.deepEqual(Object.keys(fanout), PHASE_KEYS);
      assert.ok(fanout.messages! > 0, `fan-out counted messages: ${JSON.stringify(fanout)}`);
      const latency = result.latency as Record<string, number | boolean>;
      assert.deepEqual(Object.keys(latency), LATENCY_KEYS);
      assert.ok((latency.published as number) > 0);
      assert.equal(latency.publishLost, 0);
      assert.equal(latency.expected, (latency.published as number) * conns);
      assert.equal(latency.samples, latency.expected);
      assert.equal(latency.delivered, 1);
      assert.equal(latency.p99LowerBound, false);
    });
  }

  it('idle: reads the server RSS before and after connecting', async () => {
    const result = await runLoadgen(loadgen, ['--proto', 'tws', ...common(), '--idle', '--settle', '0.2'], undefined, root, 60_000);
    assert.deepEqual(Object.keys(result), ['proto', 'conns', 'connected', 'failed', 'connectSeconds', 'idle', 'closedByServer']);
    const idle = result.idle as Record<string, number>;
    assert.deepEqual(Object.keys(idle), ['rssBeforeKb', 'rssAfterKb', 'live', 'bytesPerConn']);
    assert.equal(idle.live, conns);
    assert.ok(idle.rssBeforeKb! > 0 && idle.rssAfterKb! > 0);
  });
});
