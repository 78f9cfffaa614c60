import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { RawStomp, StompitInbox, header, startStompTidings, stompit, type StompTidings } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MAX = 4096;

/** Sends `bytes` (after CONNECT when `connected`) and expects ERROR with a `message` header, then the close. */
async function expectError(port: number, bytes: string | Buffer, connected: boolean, message: RegExp): Promise<void> {
  const raw = await RawStomp.tcp(port);
  if (connected) await raw.connect();
  raw.send(bytes);
  const error = await raw.errorThenClose();
  const text = header(error, 'message') ?? '';
  assert.match(text, message, `ERROR message ${JSON.stringify(text)}`);
  assert.equal(header(error, 'content-type'), 'text/plain');
  assert.ok(header(error, 'x-code'));
}

describe('STOMP bad input: ERROR with a message, then close; everyone else goes on', () => {
  let s: StompTidings;
  let bystander: Awaited<ReturnType<typeof stompit>>;
  const seen = new StompitInbox();

  before(async () => {
    s = await startStompTidings(['--max-message-size', String(MAX)]);
    bystander = await stompit(s.stompPort);
    bystander.subscribe({ destination: '/topic/bystander' }, seen.listener);
    await sleep(100);
  });
  after(async () => {
    await new Promise<void>((resolve) => bystander.disconnect(() => resolve()));
    await s.t.stop();
  });

  const cases: Array<[string, string | Buffer, boolean, RegExp]> = [
    ['an unknown command', 'HELLO\n\n\0', false, /unknown client command/],
    ['a server command from a client', 'MESSAGE\n\n\0', true, /unknown client command/],
    ['a frame before CONNECT', 'SUBSCRIBE\nid:1\ndestination:/topic/x\n\n\0', false, /CONNECT first/],
    ['SEND without destination', 'SEND\n\nbody\0', true, /SEND needs a 'destination' header/],
    ['SUBSCRIBE without id (1.2)', 'SUBSCRIBE\ndestination:/topic/x\n\n\0', true, /SUBSCRIBE needs a 'id' header/],
    ['ACK without id (1.2)', 'ACK\n\n\0', true, /ACK needs a 'id' header/],
    ['BEGIN without transaction', 'BEGIN\n\n\0', true, /BEGIN needs a 'transaction' header/],
    ['an undefined escape', 'SEND\ndestination:/topic/x\\t\n\n\0', true, /escape/],
    ['a header without a colon', 'SEND\ndestination\n\n\0', true, /header/],
    ['an oversized frame', `SEND\ndestination:/topic/x\n\n${'x'.repeat(MAX + 10)}\0`, true, /larger than/],
    ['an oversized content-length', `SEND\ndestination:/topic/x\ncontent-length:${MAX * 10}\n\n`, true, /larger than/],
    ['an oversized header line', `SEND\ndestination:/topic/x\nx-big:${'y'.repeat(9000)}\n\n\0`, true, /header|long|limit|large/i],
    ['too many headers', `SEND\ndestination:/topic/x\n${Array.from({ length: 70 }, (_, i) => `h${i}:v`).join('\n')}\n\n\0`, true, /headers/],
    ['a bad content-length', 'SEND\ndestination:/topic/x\ncontent-length:abc\n\n\0', true, /content-length/],
    ['ACK for an unknown id', 'ACK\nid:12345\n\n\0', true, /ACK for an unknown message/],
    ['NACK for an unknown id', 'NACK\nid:nope\n\n\0', true, /NACK for an unknown message/],
    ['an unknown destination', 'SUBSCRIBE\nid:1\ndestination:/exchange/x\n\n\0', true, /unknown destination/],
    ['an invalid channel name', 'SUBSCRIBE\nid:1\ndestination:/topic/bad name\n\n\0', true, /invalid destination/],
    ['an unknown ack mode', 'SUBSCRIBE\nid:1\ndestination:/topic/x\nack:sometimes\n\n\0', true, /ack mode/],
    ['a duplicate subscription id', 'SUBSCRIBE\nid:1\ndestination:/topic/x\n\n\0SUBSCRIBE\nid:1\ndestination:/topic/y\n\n\0', true, /already in use/],
    ['UNSUBSCRIBE of an unknown id', 'UNSUBSCRIBE\nid:9\n\n\0', true, /no subscription/],
    ['COMMIT of an unknown transaction', 'COMMIT\ntransaction:t\n\n\0', true, /unknown transaction/],
    ['CONNECT twice', 'CONNECT\naccept-version:1.2\n\n\0', true, /already connected/],
    ['an unsupported version', 'CONNECT\naccept-version:2.0\n\n\0', false, /unsupported protocol version/],
    ['a malformed heart-beat', 'CONNECT\naccept-version:1.2\nheart-beat:fast\n\n\0', false, /heart-beat/],
    ['x-since-offset without x-epoch', 'SUBSCRIBE\nid:1\ndestination:/topic/x\nx-since-offset:3\n\n\0', true, /x-epoch/],
    ['CR without LF between frames', '\r\r', true, /CR/],
  ];

  for (const [name, bytes, connected, message] of cases) {
    it(`answers ${name}`, async () => {
      await expectError(s.stompPort, bytes, connected, message);
    });
  }

  it('answers bad input over WebSocket the same way, and closes with 3501 at once', async () => {
    const raw = await RawStomp.ws(s.t.wsUrl);
    await raw.connect();
    const started = Date.now();
    raw.send('SEND\ndestination:/topic/x\\q\n\n\0SEND\n');
    raw.send('more garbage after the error');
    const error = await raw.errorThenClose();
    assert.match(header(error, 'message') ?? '', /escape/);
    assert.equal(raw.closeCode, 3501);
    assert.ok(Date.now() - started < 1000, `closed after ${Date.now() - started} ms`);
  });

  it('puts receipt-id on the ERROR for a frame that asked for a receipt', async () => {
    const raw = await RawStomp.tcp(s.stompPort);
    await raw.connect();
    raw.send('SEND\ndestination:/nowhere\nreceipt:r-9\n\nx\0');
    const error = await raw.errorThenClose();
    assert.equal(header(error, 'receipt-id'), 'r-9');
  });

  it('drops a connection that never sends CONNECT within the connect timeout', async () => {
    const quick = await startStompTidings(['--connect-timeout', '1']);
    try {
      const raw = await RawStomp.tcp(quick.stompPort);
      const error = await raw.errorThenClose(4000);
      assert.match(header(error, 'message') ?? '', /no CONNECT/);
    } finally {
      await quick.t.stop();
    }
  });

  it('survives random bytes (property-based), and every connection ends with ERROR or stays usable', async () => {
    await fc.assert(fc.asyncProperty(
      fc.boolean(),
      fc.array(fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('SEND\n', 'SUBSCRIBE\n', 'ACK\n', 'destination:/topic/fuzz\n', 'id:1\n', 'content-length:3\n', '\n', '\0', '\\', ':', '\r\n')
          .map((t) => new TextEncoder().encode(t)),
      ), { maxLength: 12 }),
      async (connected, chunks) => {
        const raw = await RawStomp.tcp(s.stompPort);
        if (connected) await raw.connect();
        for (const c of chunks) raw.send(Buffer.from(c));
        raw.send('DISCONNECT\nreceipt:end\n\n\0');
        await raw.until(() => raw.closed || raw.frames.some((f) => f.command === 'ERROR' || f.command === 'RECEIPT'), 3000, 'an answer');
        raw.destroy();
      },
    ), { numRuns: 60 });
  });

  it('and after all that, the server and the bystander are fine', async () => {
    const health = await fetch(`${s.t.url}/healthz`);
    assert.equal(health.status, 200);
    await s.t.publish('bystander', 'still listening');
    const [m] = await seen.until(1);
    assert.equal(m!.body.toString(), '"still listening"');
  });
});
