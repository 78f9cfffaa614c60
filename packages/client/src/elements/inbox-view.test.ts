import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Notification } from '@tidings/protocol';
import { ago, defaultFormat } from './inbox-view.js';

const note = (payload: unknown, type = 'alert'): Notification => ({ id: 'n1', user: 'u', type, payload, createdAt: 0 });

test('an item says the payload\'s title (else text, message, a string payload, the type) and its body', () => {
  assert.deepEqual(defaultFormat(note({ title: 'T', text: 'X', body: 'B' })), { title: 'T', body: 'B' });
  assert.deepEqual(defaultFormat(note({ text: 'X', message: 'M' })), { title: 'X' });
  assert.deepEqual(defaultFormat(note({ message: 'M', title: '' })), { title: 'M' });
  assert.deepEqual(defaultFormat(note('plain words')), { title: 'plain words' });
  assert.deepEqual(defaultFormat(note({ title: 42, body: { html: '<b>' } })), { title: 'alert' });
  assert.deepEqual(defaultFormat(note(null, '<img src=x>')), { title: '<img src=x>' });
});

test('times are relative to now, in the largest whole unit', () => {
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const now = 1_800_000_000_000;
  assert.equal(ago(now - 20_000, now), rtf.format(0, 'second'));
  assert.equal(ago(now - 5 * 60_000, now), rtf.format(-5, 'minute'));
  assert.equal(ago(now - 3 * 3_600_000, now), rtf.format(-3, 'hour'));
  assert.equal(ago(now - 86_400_000, now), rtf.format(-1, 'day'));
  assert.equal(ago(now + 2 * 604_800_000, now), rtf.format(2, 'week'));
});
