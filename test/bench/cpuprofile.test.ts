// The CPU profile summary of bench/profile.ts (npm run bench:profile): self time by function and
// by category on a small synthetic profile; the profiler itself runs only by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categorize, CATEGORY, renderProfile, shortUrl, summarizeProfile, type CpuProfile } from '../../bench/lib/cpuprofile.js';

const ROOT = '/repo';
const frame = (functionName: string, url = '', lineNumber = -1): { functionName: string; url: string; lineNumber: number } => ({ functionName, url, lineNumber });

/** Node id → frame; two nodes (5 and 13) are the same function reached by two call paths. */
const FRAMES: Record<number, ReturnType<typeof frame>> = {
  1: frame('(root)'),
  2: frame('(idle)'),
  3: frame('(garbage collector)'),
  4: frame('writev'),
  5: frame('flushAll', 'file:///repo/packages/server/dist/transports/transport.js', 3),
  6: frame('parserOnHeadersComplete', 'node:_http_common', 71),
  7: frame('stringify'),
  8: frame('writeOrBuffer', 'node:internal/streams/writable', 547),
  9: frame('deflateRawSync', 'node:zlib', 800),
  10: frame('elsewhere', 'file:///opt/x.js', 0),
  11: frame('observe', 'file:///repo/node_modules/prom-client/lib/histogram.js', 231),
  12: frame('run', 'file:///repo/node_modules/@scope/pkg/index.js', 9),
  13: frame('flushAll', 'file:///repo/packages/server/dist/transports/transport.js', 3),
  14: frame('', 'file:///repo/packages/server/dist/hub.js', 51),
};

/** One sample per entry: [node id, µs since the previous sample]. */
function profile(samples: Array<[number, number]>): CpuProfile {
  return {
    nodes: Object.entries(FRAMES).map(([id, callFrame]) => ({ id: Number(id), callFrame })),
    startTime: 1_000_000, endTime: 1_000_000 + samples.reduce((a, [, d]) => a + d, 0),
    samples: samples.map(([id]) => id), timeDeltas: samples.map(([, d]) => d),
  };
}

// 20 samples 1 ms apart: idle 4, writev 6, flushAll 3 + 2 (two nodes), GC 1, parser 1, stringify 1, hub 1, prom-client 1
const IDS = [2, 2, 4, 4, 4, 5, 5, 5, 13, 13, 4, 4, 4, 3, 6, 7, 14, 11, 2, 2];
const P = profile(IDS.map((id) => [id, 1000]));

describe('cpu profile summary', () => {
  it('counts self samples by function, merging the call paths of one function, with shares of all and of busy samples', () => {
    const s = summarizeProfile(P, { root: ROOT });
    assert.equal(s.samples, 20);
    assert.equal(s.totalSamples, 20);
    assert.equal(s.idleShare, 0.2);
    assert.equal(s.spanUs, 20_000);
    assert.equal(s.windowMissed, false);
    const f = Object.fromEntries(s.functions.map((r) => [`${r.name} ${r.where ?? ''}`, r]));
    assert.deepEqual(s.functions.slice(0, 3).map((r) => [r.name, r.samples]), [['writev', 6], ['flushAll', 5], ['(idle)', 4]]);
    assert.equal(f['flushAll packages/server/dist/transports/transport.js:4']?.share, 0.25);
    assert.equal(f['flushAll packages/server/dist/transports/transport.js:4']?.busyShare, 5 / 16);
    assert.equal(f['writev native']?.busyShare, 6 / 16);
    assert.equal(f['(idle) native']?.busyShare, 0);
    assert.equal(f['(anonymous) packages/server/dist/hub.js:52']?.samples, 1);
    assert.equal(f['observe node_modules/prom-client/lib/histogram.js:232']?.samples, 1);
    assert.equal(s.functions.reduce((a, r) => a + r.samples, 0), 20);
    assert.equal(summarizeProfile(P, { root: ROOT, top: 2 }).functions.length, 2);
  });

  it('sorts samples into categories, Tidings code by source file', () => {
    const s = summarizeProfile(P, { root: ROOT });
    assert.deepEqual(Object.fromEntries(s.categories.map((r) => [r.name, r.samples])), {
      [CATEGORY.write]: 6,
      'Tidings: packages/server/dist/transports/transport.js': 5,
      [CATEGORY.idle]: 4,
      [CATEGORY.gc]: 1,
      [CATEGORY.http]: 1,
      [CATEGORY.json]: 1,
      'Tidings: packages/server/dist/hub.js': 1,
      'library: prom-client': 1,
    });
    assert.ok(Math.abs(s.categories.reduce((a, r) => a + r.share, 0) - 1) < 1e-9);
    assert.equal(categorize(FRAMES[8]!, ROOT), CATEGORY.streams);
    assert.equal(categorize(frame('onStreamRead', 'node:internal/stream_base_commons', 1), ROOT), CATEGORY.streams);
    assert.equal(categorize(frame('get', 'node:net', 1), ROOT), CATEGORY.streams);
    assert.equal(categorize(FRAMES[9]!, ROOT), CATEGORY.zlib);
    assert.equal(categorize(frame('writeSync'), ROOT), CATEGORY.zlib);
    assert.equal(categorize(frame('randomFillSync', 'node:internal/crypto/random', 1), ROOT), CATEGORY.crypto);
    assert.equal(categorize(frame('writeUtf8String'), ROOT), CATEGORY.write);
    assert.equal(categorize(frame('execute'), ROOT), CATEGORY.http);
    assert.equal(categorize(frame('(program)'), ROOT), CATEGORY.program);
    assert.equal(categorize(frame('runMicrotasks'), ROOT), CATEGORY.async);
    assert.equal(categorize(frame('processTicksAndRejections', 'node:internal/process/task_queues', 1), ROOT), CATEGORY.async);
    assert.equal(categorize(frame('emit', 'node:events', 1), ROOT), CATEGORY.node);
    assert.equal(categorize(FRAMES[10]!, ROOT), CATEGORY.other);
    assert.equal(categorize(frame('RegExp: [?#]'), ROOT), CATEGORY.other);
    assert.equal(categorize(FRAMES[12]!, ROOT), 'library: @scope/pkg');
    assert.equal(shortUrl('file:///repo/packages/cli/dist/bin.js', '/repo/'), 'packages/cli/dist/bin.js');
    assert.equal(shortUrl('file:///opt/x.js', ROOT), '/opt/x.js');
  });

  it('counts only the samples in the load window, and the whole profile when none fall in it', () => {
    // samples at 1.001 s … 1.020 s: the window [1.006, 1.013) holds samples 6–12 (ids 5 5 5 13 13 4 4)
    const s = summarizeProfile(P, { root: ROOT, window: { startUs: 1_006_000, endUs: 1_013_000 } });
    assert.equal(s.samples, 7);
    assert.equal(s.totalSamples, 20);
    assert.equal(s.spanUs, 7000);
    assert.equal(s.idleShare, 0);
    assert.deepEqual(s.functions.map((r) => [r.name, r.samples]), [['flushAll', 5], ['writev', 2]]);
    const missed = summarizeProfile(P, { root: ROOT, window: { startUs: 5_000_000, endUs: 6_000_000 } });
    assert.equal(missed.windowMissed, true);
    assert.equal(missed.samples, 20);
  });

  it('renders both tables', () => {
    const md = renderProfile(summarizeProfile(P, { root: ROOT }), { title: 'T', command: 'c', date: 'd', machine: 'm', notes: ['n'] });
    assert.match(md, /\| write\/writev system calls \| 6 \| 30\.0% \| 37\.5% \|/);
    assert.match(md, /\| idle \| 4 \| 20\.0% \| {2}\|/);
    assert.match(md, /\| `flushAll` \| packages\/server\/dist\/transports\/transport\.js:4 \| 5 \| 25\.0% \| 31\.3% \|/);
    assert.match(md, /20 samples over 0\.0 s in the load window \(of 20 in the whole profile\); the server was idle in 20\.0% of them/);
  });
});
