import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bodyToData, dataToBody, envelopeOf, isJsonType } from './body.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('STOMP bodies ↔ publication data', () => {
  it('turns canonical JSON with a JSON content type into plain data', () => {
    assert.deepEqual(bodyToData(enc('{"a":1,"b":[true,null]}'), 'application/json', 64), { a: 1, b: [true, null] });
    assert.deepEqual(bodyToData(enc('"hi"'), 'application/json;charset=UTF-8', 64), 'hi');
    assert.deepEqual(bodyToData(enc('42'), 'application/vnd.thing+json', 64), 42);
  });

  it('keeps everything else in an envelope, so nothing is lost', () => {
    assert.deepEqual(bodyToData(enc('{ "a": 1 }'), 'application/json', 64), { $stomp: { text: '{ "a": 1 }', contentType: 'application/json' } });
    assert.deepEqual(bodyToData(enc('1.0'), 'application/json', 64), { $stomp: { text: '1.0', contentType: 'application/json' } });
    assert.deepEqual(bodyToData(enc('{"a":1}'), undefined, 64), { $stomp: { text: '{"a":1}' } });
    assert.deepEqual(bodyToData(enc('hello'), 'text/plain', 64), { $stomp: { text: 'hello', contentType: 'text/plain' } });
    assert.deepEqual(bodyToData(enc(''), 'application/json', 64), { $stomp: { text: '', contentType: 'application/json' } });
    assert.deepEqual(bodyToData(Uint8Array.from([0xff, 0]), undefined, 64), { $stomp: { base64: '/wA=' } });
    const lookalike = '{"$stomp":{"text":"x"}}';
    assert.deepEqual(bodyToData(enc(lookalike), 'application/json', 64), { $stomp: { text: lookalike, contentType: 'application/json' } });
  });

  it('refuses a JSON body nested deeper than maxDepth (107), without overflowing the stack', () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    assert.throws(() => bodyToData(enc(deep), 'application/json', 64), { code: 107, message: 'data nests deeper than 64 levels (maxDepth)' });
    assert.throws(() => bodyToData(enc('[[[]]]'), 'application/json', 2), { code: 107 });
    assert.deepEqual(bodyToData(enc('[[[]]]'), 'application/json', 3), [[[]]]);
    assert.deepEqual(bodyToData(enc(deep), 'text/plain', 64), { $stomp: { text: deep, contentType: 'text/plain' } }, 'not JSON: kept as text');
  });

  it('writes plain data as JSON and envelopes as their bytes', () => {
    const json = dataToBody({ a: 1 });
    assert.equal(Buffer.from(json.bytes).toString(), '{"a":1}');
    assert.equal(json.contentType, 'application/json');
    assert.equal(json.binary, false);
    const bin = dataToBody({ $stomp: { base64: '/wA=', contentType: 'application/octet-stream' } });
    assert.deepEqual([...bin.bytes], [0xff, 0]);
    assert.equal(bin.binary, true);
    assert.equal(dataToBody({ $stomp: { base64: 'aGk=' } }).binary, false);
    assert.equal(dataToBody({ $stomp: { text: 'x', base64: 'eA==' } }).contentType, 'application/json', 'not an envelope: sent as JSON');
  });

  it('round-trips any body and content type byte for byte', () => {
    fc.assert(fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string().map(enc), fc.jsonValue().map((v) => enc(JSON.stringify(v)))),
      fc.option(fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'application/json; charset=utf-8'), { nil: undefined }),
      (bytes, contentType) => {
        const data = JSON.parse(JSON.stringify(bodyToData(bytes, contentType, 64))) as unknown;
        const out = dataToBody(data);
        assert.deepEqual([...out.bytes], [...bytes]);
        if (envelopeOf(data)) assert.equal(out.contentType, contentType);
        else assert.ok(isJsonType(contentType));
      },
    ));
  });
});
