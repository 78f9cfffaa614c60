import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCommand } from './codec.js';
import { parseInboxFilter, tagsError } from './inbox.js';

const error = (v: unknown): number | undefined => {
  const d = decodeCommand(v);
  return d.ok ? undefined : d.error.code;
};

describe('inbox state on the wire', () => {
  it('decodes archive, snooze, filtered list and count commands', () => {
    assert.deepEqual(decodeCommand({ type: 'inbox.archive', id: 1, ids: ['a'] }), { ok: true, command: { type: 'inbox.archive', id: 1, ids: ['a'], archived: true } });
    assert.deepEqual(decodeCommand({ type: 'inbox.archive', id: 1, all: true, archived: false }), { ok: true, command: { type: 'inbox.archive', id: 1, all: true, archived: false } });
    assert.deepEqual(decodeCommand({ type: 'inbox.snooze', id: 2, ids: ['a'], until: 5 }), { ok: true, command: { type: 'inbox.snooze', id: 2, ids: ['a'], until: 5 } });
    assert.deepEqual(decodeCommand({ type: 'inbox.snooze', id: 2, ids: ['a'], until: null }), { ok: true, command: { type: 'inbox.snooze', id: 2, ids: ['a'], until: null } });
    assert.deepEqual(decodeCommand({ type: 'inbox.list', id: 3, filter: { tags: ['x', 'x'], archived: true } }), { ok: true, command: { type: 'inbox.list', id: 3, filter: { archived: true, tags: ['x'] } } });
    assert.deepEqual(decodeCommand({ type: 'inbox.count', id: 4, filters: [{}, { severity: ['critical'] }] }), { ok: true, command: { type: 'inbox.count', id: 4, filters: [{}, { severity: ['critical'] }] } });
  });

  it('refuses malformed ones with bad_request', () => {
    for (const bad of [
      { type: 'inbox.archive', id: 1 },
      { type: 'inbox.archive', id: 1, ids: [], },
      { type: 'inbox.archive', id: 1, ids: ['a'], all: true },
      { type: 'inbox.archive', id: 1, all: true, archived: 'yes' },
      { type: 'inbox.snooze', id: 1, ids: ['a'] },
      { type: 'inbox.snooze', id: 1, ids: ['a'], until: '2030-01-01' },
      { type: 'inbox.snooze', id: 1, all: true, until: 5 },
      { type: 'inbox.list', id: 1, filter: { read: 'no' } },
      { type: 'inbox.list', id: 1, filter: { color: 'red' } },
      { type: 'inbox.list', id: 1, filter: { severity: ['urgent'] } },
      { type: 'inbox.list', id: 1, filter: { type: [] } },
      { type: 'inbox.count', id: 1, filters: [] },
      { type: 'inbox.count', id: 1, filters: Array.from({ length: 21 }, () => ({})) },
    ]) assert.equal(error(bad), 107, JSON.stringify(bad));
  });

  it('bounds tags: at most 10, each 1 to 64 characters of the documented set', () => {
    assert.equal(tagsError(['a', 'b-c', 'x.y:z/1_2']), undefined);
    assert.equal(tagsError(['x'.repeat(64)]), undefined);
    assert.match(tagsError(['x'.repeat(65)]) ?? '', /1 to 64/);
    assert.match(tagsError(Array.from({ length: 11 }, (_, i) => `t${i}`)) ?? '', /at most 10/);
    assert.ok(tagsError(['has space']));
    assert.ok(tagsError(['']));
    assert.ok(tagsError('a'));
    assert.equal(typeof parseInboxFilter({ tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }), 'string');
  });
});
