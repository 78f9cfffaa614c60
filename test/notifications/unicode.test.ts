import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Notification } from '@tidings/protocol';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';

type ErrorBody = { error: { code: number; message: string } };
type Created = { notifications: Notification[]; duplicate: boolean };

/** A lone high surrogate: JSON can carry it (`"\ud800"`), UTF-8 (SQLite, Redis) cannot. */
const LONE = 't\ud800';

describe('strings the server stores outside JSON are well-formed Unicode', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings();
  });
  after(async () => {
    await t.stop();
  });

  it('refuses a lone surrogate in each such field with 400, code 107, naming the field', async () => {
    const cases: Array<[string, string, object]> = [
      ['/api/notifications', 'type', { user: 'carol', type: LONE, payload: 1, idempotencyKey: 'sur1' }],
      ['/api/notifications', 'idempotencyKey', { user: 'carol', type: 't', payload: 1, idempotencyKey: LONE }],
      ['/api/notifications/read', 'ids', { user: 'carol', ids: [LONE] }],
      ['/api/publish', 'idempotencyKey', { channel: 'news', data: 1, idempotencyKey: LONE }],
      ['/api/schedules', 'cron', { cron: `* * * * ${LONE}`, target: { channel: 'news', data: 1 } }],
      ['/api/schedules', 'type', { cron: '* * * * *', target: { notification: { users: ['carol'], type: LONE, payload: 1 } } }],
      ['/api/disconnect', 'user', { user: LONE }],
    ];
    for (const [path, field, body] of cases) {
      const res = await t.api('POST', path, body);
      assert.equal(res.status, 400, `${path} ${field}: ${JSON.stringify(res.body)}`);
      const { error } = res.body as ErrorBody;
      assert.equal(error.code, 107, `${path} ${field}`);
      assert.ok(error.message.includes(`\`${field}\``) && error.message.includes('well-formed'), `${path}: ${error.message}`);
    }
    const list = await t.api('GET', '/api/notifications?user=carol');
    assert.deepEqual((list.body as { notifications: Notification[] }).notifications, [], 'nothing was stored');
  });

  it('stores a type with a (paired) astral character, and a payload with a lone surrogate, unchanged', async () => {
    const type = 'party 🎉';
    const body = { user: 'dana', type, payload: { text: LONE }, idempotencyKey: 'key 🎉' };
    const first = (await t.api('POST', '/api/notifications', body)).body as Created;
    const again = (await t.api('POST', '/api/notifications', body)).body as Created;
    assert.deepEqual([first.duplicate, again.duplicate], [false, true]);
    assert.equal(first.notifications[0]!.type, type);
    assert.equal(again.notifications[0]!.type, type);
    const list = await t.api('GET', '/api/notifications?user=dana');
    assert.deepEqual((list.body as { notifications: Notification[] }).notifications.map((n) => [n.type, n.payload]), [[type, { text: LONE }]]);
    assert.deepEqual(again.notifications[0]!.payload, { text: LONE }, 'a payload is JSON and keeps a lone surrogate');
  });
});
