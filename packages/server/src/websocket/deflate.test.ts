import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, createInflateRaw, inflateRawSync } from 'node:zlib';
import { DEFLATE_TAIL, MIN_COMPRESS_BYTES, negotiateDeflate, parseExtensions } from './deflate.js';
import { frame } from './frames.js';

const header = (offer: string, mode: 'on' | 'takeover' = 'on'): string | undefined => negotiateDeflate(offer, mode)?.header;

/** A server frame's first byte, and its payload. */
function split(f: Buffer): { b0: number; payload: Buffer } {
  const len7 = f[1]! & 0x7f;
  return { b0: f[0]!, payload: f.subarray(len7 === 126 ? 4 : len7 === 127 ? 10 : 2) };
}

const json = (i: number): string => JSON.stringify({ type: 'notification', id: `n-${i}`, title: 'New comment on your post', body: 'Alice commented: looks good to me, see you on Thursday', link: `https://app.example.com/posts/${i}` });

describe('permessage-deflate negotiation', () => {
  it('parses an extension list with quoted values, skipping malformed elements', () => {
    assert.deepEqual(parseExtensions('permessage-deflate; client_max_window_bits="10"; server_no_context_takeover, x-foo, bad name'), [
      { name: 'permessage-deflate', params: [['client_max_window_bits', '10'], ['server_no_context_takeover', true]] },
      { name: 'x-foo', params: [] },
    ]);
  });

  it('answers with no context takeover both ways by default, and honors server_max_window_bits', () => {
    assert.equal(header('permessage-deflate; client_max_window_bits'), 'permessage-deflate; client_no_context_takeover; server_no_context_takeover');
    assert.equal(header('permessage-deflate; server_max_window_bits=10'), 'permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=10');
    assert.equal(header('permessage-deflate'), 'permessage-deflate; client_no_context_takeover; server_no_context_takeover');
    assert.equal(header('permessage-deflate', 'takeover'), 'permessage-deflate; client_no_context_takeover');
    assert.equal(header('permessage-deflate; server_no_context_takeover', 'takeover'), 'permessage-deflate; client_no_context_takeover; server_no_context_takeover');
  });

  it('declines a bad offer and takes the next one (RFC 7692 §5, §7.1)', () => {
    for (const bad of ['permessage-deflate; foo', 'permessage-deflate; server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=010',
      'permessage-deflate; server_max_window_bits', 'permessage-deflate; client_max_window_bits=7', 'permessage-deflate; server_no_context_takeover=1',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover', 'permessage-deflate; server_max_window_bits=8', 'x-webkit-deflate-frame']) {
      assert.equal(header(bad), undefined, bad);
    }
    assert.equal(header('permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9'),
      'permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=9');
    assert.equal(negotiateDeflate('permessage-deflate', 'off'), undefined);
    assert.equal(negotiateDeflate(undefined, 'on'), undefined);
  });
});

describe('Deflater', () => {
  it('without context: builds the compressed frame once for the same plain frame, per window size', () => {
    const d15 = negotiateDeflate('permessage-deflate', 'on')!.deflater;
    const again = negotiateDeflate('permessage-deflate; client_max_window_bits', 'on')!.deflater;
    const d10 = negotiateDeflate('permessage-deflate; server_max_window_bits=10', 'on')!.deflater;
    assert.equal(d15, again, 'no state per connection');
    const text = json(1).repeat(3);
    const plain = frame(1, Buffer.from(text));
    const a = d15.frame(plain);
    assert.equal(d10.frame(plain) === a, false);
    assert.equal(d15.frame(plain), a, 'the same Buffer again');
    const { b0, payload } = split(a);
    assert.equal(b0, 0x80 | 0x40 | 1, 'FIN, RSV1, text');
    assert.ok(payload.length < text.length / 2);
    const sync = { finishFlush: constants.Z_SYNC_FLUSH };
    assert.equal(inflateRawSync(Buffer.concat([payload, DEFLATE_TAIL]), sync).toString(), text);
    assert.equal(inflateRawSync(Buffer.concat([split(d10.frame(plain)).payload, DEFLATE_TAIL]), { ...sync, windowBits: 10 }).toString(), text);
  });

  it('sends short or incompressible messages as they are (RSV1 clear)', () => {
    const d = negotiateDeflate('permessage-deflate', 'on')!.deflater;
    const short = frame(1, Buffer.from('x'.repeat(MIN_COMPRESS_BYTES - 1)));
    assert.equal(d.frame(short), short);
    const random = frame(2, Buffer.from(Array.from({ length: 300 }, () => Math.floor(Math.random() * 256))));
    assert.equal(d.frame(random), random);
  });

  it('with context: later messages refer back to earlier ones, and a running inflater reads them all', async () => {
    const d = negotiateDeflate('permessage-deflate', 'takeover')!.deflater;
    const other = negotiateDeflate('permessage-deflate', 'takeover')!.deflater;
    assert.notEqual(d, other, 'one per connection');
    const inflater = createInflateRaw();
    const out: Buffer[] = [];
    inflater.on('data', (c: Buffer) => out.push(c));
    const sizes: number[] = [];
    let expected = '';
    for (let i = 0; i < 20; i++) {
      const text = json(i) + (i === 10 ? 'z'.repeat(5000) : '');
      expected += text;
      const { b0, payload } = split(d.frame(frame(1, Buffer.from(text))));
      assert.equal(b0 & 0x40, 0x40);
      sizes.push(payload.length);
      inflater.write(Buffer.concat([payload, DEFLATE_TAIL]));
    }
    await new Promise<void>((resolve) => inflater.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    assert.equal(Buffer.concat(out).toString(), expected);
    assert.ok(sizes[19]! * 3 < sizes[0]!, `sizes ${sizes.join(',')}`);
  });
});
