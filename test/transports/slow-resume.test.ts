/**
 * What a one-way stream resumes from after a slow-consumer cut or a big replay: never past a
 * message the client did not get, and never a replay the connection's queue cannot hold.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { RawStomp, header } from '../stomp/helpers.js';

interface SseEvent { id: string | undefined; data: string }

/** Parses raw SSE bytes (after the response head) into events; comments and `retry:` are skipped. */
function sseEvents(text: string): SseEvent[] {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4).replace(/\r\n[0-9a-f]+\r\n/g, '');
  const events: SseEvent[] = [];
  for (const block of body.split('\n\n')) {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) events.push({ id, data: data.join('\n') });
  }
  return events;
}

function rawGet(t: TidingsProcess, path: string): Socket {
  const socket = connect(t.port, '127.0.0.1');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\n\r\n`);
  return socket;
}

async function readAll(socket: Socket, ms: number): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    socket.once('close', () => { clearTimeout(timer); resolve(); });
  });
  socket.destroy();
  return Buffer.concat(chunks).toString('utf8');
}

describe('one-way streams resume from what they got', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings({ args: ['--max-queue-bytes', '262144', '--history-size', '1000'] });
  });
  after(async () => {
    await t.stop();
  });

  it('an SSE client cut as slow keeps the id of the last event it received, and resumes with nothing lost', async () => {
    const socket = rawGet(t, '/sse?channel=flood');
    const head = await new Promise<string>((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString())));
    assert.match(head, /^HTTP\/1.1 200/);
    socket.pause();
    // the kernel holds a few MB of a paused loopback socket: publish until the node cuts it
    const data = 'x'.repeat(50_000);
    let epoch = '';
    let top = 0;
    let cut = false;
    for (let i = 0; i < 1000 && !cut; i++) {
      ({ epoch, offset: top } = (await t.api('POST', '/api/publish', { channel: 'flood', data })).body as { epoch: string; offset: number });
      if (i % 10 === 9) {
        const { channels } = (await t.api('GET', '/api/channels')).body as { channels: Array<{ channel: string }> };
        cut = !channels.some((c) => c.channel === 'flood');
      }
    }
    assert.ok(cut, 'the paused client was cut as slow');
    socket.resume();
    const events = sseEvents(head + await readAll(socket, 4000));
    const last = events.at(-1)!;
    assert.match(last.data, /"type":"disconnect","code":3001/);
    assert.equal(last.id, undefined, 'the disconnect event carries no id');
    const pubs = events.filter((e) => e.data.includes('"type":"publication"'));
    assert.ok(pubs.length > 0 && pubs.length < top, `some but not all were sent (${pubs.length} of ${top})`);
    const lastId = [...events].reverse().find((e) => e.id !== undefined)!.id!;
    const lastOffset = (JSON.parse(pubs.at(-1)!.data) as { offset: number }).offset;
    assert.equal(lastId, `flood~${lastOffset}~${epoch}`, 'the last id is the last publication received');

    const again = rawGet(t, `/sse?channel=flood&lastEventId=${encodeURIComponent(lastId)}`);
    const resumed = sseEvents(await readAll(again, 1500));
    const subscribed = resumed.find((e) => e.data.includes('"type":"subscribed"'));
    assert.ok(subscribed, 'subscribed');
    const replayed = resumed.filter((e) => e.data.includes('"type":"publication"')).map((e) => (JSON.parse(e.data) as { offset: number }).offset);
    if (subscribed.data.includes('"recovered":true')) {
      assert.equal(replayed[0], lastOffset + 1, 'the replay starts right after the last one received');
    } else {
      assert.equal(replayed.length, 0, 'recovered:false replays nothing (the gap is over half the queue)');
    }
  });

  it('a resume whose replay is over half the queue answers recovered:false instead of being cut as slow', async () => {
    const data = 'y'.repeat(60_000);
    let epoch = '';
    for (let i = 0; i < 10; i++) ({ epoch } = (await t.api('POST', '/api/publish', { channel: 'big', data })).body as { epoch: string });
    // 10 × 60 KB > 128 KiB (half of --max-queue-bytes)
    const lines = (await readAll(rawGet(t, `/stream?channel=big&cursor=big~0~${epoch}`), 1500)).split('\n').filter((l) => l.startsWith('{'));
    const types = lines.map((l) => (JSON.parse(l) as { type: string }).type);
    assert.deepEqual(types.slice(0, 2), ['connected', 'subscribed']);
    assert.ok(!types.includes('disconnect'), `not cut: ${types.join(',')}`);
    assert.match(lines[1]!, /"recovered":false/);
    // a gap that fits is replayed
    const small = (await readAll(rawGet(t, `/stream?channel=big&cursor=big~8~${epoch}`), 1500)).split('\n').filter((l) => l.startsWith('{'));
    assert.match(small[1]!, /"recovered":true/);
    assert.deepEqual(small.slice(2).map((l) => (JSON.parse(l) as { offset: number }).offset), [9, 10]);
  });

  it('a STOMP resume whose replay is over half the queue says x-recovered:false and replays nothing', async () => {
    const data = 'z'.repeat(60_000);
    let epoch = '';
    for (let i = 0; i < 10; i++) ({ epoch } = (await t.api('POST', '/api/publish', { channel: 'bigstomp', data })).body as { epoch: string });
    const c = await RawStomp.ws(t.wsUrl);
    await c.connect();
    c.frame('SUBSCRIBE', [['destination', '/topic/bigstomp'], ['id', 's'], ['x-since-offset', '0'], ['x-epoch', epoch], ['receipt', 'r']]);
    const receipt = await c.next('RECEIPT');
    assert.equal(header(receipt, 'x-recovered'), 'false');
    assert.equal(header(receipt, 'x-offset'), '10');
    c.frame('SUBSCRIBE', [['destination', '/topic/bigstomp'], ['id', 's2'], ['x-since-offset', '8'], ['x-epoch', epoch], ['receipt', 'r2']]);
    const m = await c.next('MESSAGE');
    assert.equal(header(m, 'x-offset'), '9', 'a gap that fits is replayed');
    c.end();
  });
});
