import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodeCommand } from './codec.js';
import { MAX_PREFERENCE_CHANGES, parsePreferenceChanges } from './preferences.js';

it('decodes inbox.preferences (a read, or changes) and inbox.action, keeping only known fields', () => {
  assert.deepEqual(decodeCommand({ id: 1, type: 'inbox.preferences', extra: 1 }), { ok: true, command: { type: 'inbox.preferences', id: 1 } });
  const changed = decodeCommand({ id: 2, type: 'inbox.preferences', types: { news: true, digest: null, promo: false }, tags: { sports: true } });
  assert.ok(changed.ok && changed.command.type === 'inbox.preferences');
  assert.deepEqual({ ...changed.command.types }, { news: true, digest: null, promo: false });
  assert.deepEqual({ ...changed.command.tags }, { sports: true });
  assert.deepEqual(decodeCommand({ id: 3, type: 'inbox.action', notification: 'abc', action: 'secondary', x: 1 }),
    { ok: true, command: { type: 'inbox.action', id: 3, notification: 'abc', action: 'secondary' } });
});

it('refuses malformed preference changes and actions with bad_request', () => {
  const bad = (m: Record<string, unknown>): number | undefined => {
    const d = decodeCommand({ id: 9, ...m });
    return d.ok ? undefined : d.error.code;
  };
  assert.equal(bad({ type: 'inbox.preferences', types: ['news'] }), 107);
  assert.equal(bad({ type: 'inbox.preferences', types: { news: 'yes' } }), 107);
  assert.equal(bad({ type: 'inbox.preferences', tags: { sports: null } }), 107, 'a tag has no default to return to');
  assert.equal(bad({ type: 'inbox.preferences', types: { '': true } }), 107);
  assert.equal(bad({ type: 'inbox.preferences', types: { ['x'.repeat(101)]: true } }), 107);
  assert.equal(bad({ type: 'inbox.preferences', types: { '\ud800': true } }), 107);
  assert.equal(bad({ type: 'inbox.action', notification: 'abc', action: 'tertiary' }), 107);
  assert.equal(bad({ type: 'inbox.action', action: 'primary' }), 107);
  assert.equal(bad({ type: 'inbox.action', notification: 'x'.repeat(65), action: 'primary' }), 107);
  const many = Object.fromEntries(Array.from({ length: MAX_PREFERENCE_CHANGES + 1 }, (_, i) => [`t${i}`, true]));
  assert.match(String(parsePreferenceChanges({ types: many })), /at most 100/);
  assert.equal(typeof parsePreferenceChanges({ types: { __proto__: true } as unknown as Record<string, boolean> }), 'object');
});
