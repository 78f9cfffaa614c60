import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { streamBody } from './http-stream.js';

describe('streamBody', () => {
  const a = Buffer.from('{"a":1}');
  const b = Buffer.from('{"b":"é"}');

  it('writes SSE events with their ids, and NDJSON lines', () => {
    assert.equal(streamBody([a, b], ['x~1~e', 'x~2~e'], false).toString(), 'id: x~1~e\ndata: {"a":1}\n\nid: x~2~e\ndata: {"b":"é"}\n\n');
    assert.equal(streamBody([a, b], [], false).toString(), '{"a":1}\n{"b":"é"}\n');
  });

  it('writes no id line for an empty id, and counts the chunk size without it', () => {
    assert.equal(streamBody([a, b], ['', 'x~2~e'], false).toString(), 'data: {"a":1}\n\nid: x~2~e\ndata: {"b":"é"}\n\n');
    const payload = Buffer.from('data: {"a":1}\n\n');
    assert.equal(streamBody([a], [''], true).toString('latin1'), `${payload.length.toString(16)}\r\n${payload.toString('latin1')}\r\n`);
  });

  it('wraps the body in one HTTP/1.1 chunk whose size counts bytes', () => {
    const body = streamBody([b], [], true).toString('latin1');
    const payload = Buffer.from('{"b":"é"}\n');
    assert.equal(body, `${payload.length.toString(16)}\r\n${payload.toString('latin1')}\r\n`);
  });

  it('reuses the bytes for the same messages and ids only', () => {
    const first = streamBody([a], ['x~1~e'], true);
    assert.equal(streamBody([a], ['x~1~e'], true), first);
    assert.notEqual(streamBody([a], ['x~2~e'], true), first);
    assert.notEqual(streamBody([a], ['x~2~e'], false), streamBody([a], ['x~2~e'], true));
  });
});
