import assert from 'node:assert/strict';
import { it } from 'node:test';
import { REDACTED, createLogger } from './log.js';

function capture(level: Parameters<typeof createLogger>[0] = 'debug'): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger(level, (l) => lines.push(l)), lines };
}

it('writes one JSON object per line: level by name, ISO time, msg and the fields', () => {
  const { log, lines } = capture('info');
  log.debug('hidden');
  log.info('listening', { port: 8080 });
  log.error('failed', { err: 'boom' });
  assert.equal(lines.length, 2, 'below the level is dropped');
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  const first = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual([first.level, first.msg, first.port], ['info', 'listening', 8080]);
  assert.match(first.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal((JSON.parse(lines[1]!) as Record<string, unknown>).level, 'error');
});

it('redacts fields named like secrets at any depth it covers, URL queries, and JWT-shaped text', () => {
  const { log, lines } = capture();
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';
  log.info('x', {
    token: 't1', apiKey: 'k1', password: 'p1', passcode: 'p2', secret: 's1', sessionSecret: 's2', key: 'k2',
    adminPassword: 'ap1', settings: { adminKey: 'ak1' },
    headers: { authorization: 'Bearer t2', cookie: 'sid=c1', 'x-api-key': 'k3', 'set-cookie': 'c2' },
    frame: { headers: { passcode: 'p3' } },
    a: { b: { c: { token: 't3' } } },
    url: '/sse?channel=news&token=t4', req: { url: '/ws?token=t5#x' },
    err: `Error: bad ${jwt} seen`, user: 'alice',
    req2: { headers: { Authorization: 'Bearer t6', Cookie: 'c3' } }, stomp: [['login', 'u'], ['passcode', 'p4']], body: Buffer.from('ok'),
  });
  const text = lines.join('');
  for (const secret of ['ap1', 'ak1', 't1', 'k1', 'p1', 'p2', 's1', 's2', 'k2', 'Bearer t2', 'c1', 'k3', 'c2', 'p3', 't3', 't4', 't5', 'Bearer t6', 'c3', 'p4', jwt]) {
    assert.ok(!text.includes(`"${secret}`) && !text.includes(secret === jwt ? jwt : `=${secret}`), `${secret} is redacted: ${text}`);
  }
  const line = JSON.parse(text) as {
    token: string; headers: { authorization: string }; frame: { headers: { passcode: string } }; a: { b: { c: { token: string } } };
    url: string; req: { url: string }; err: string; user: string; stomp: string[][]; body: { type: string };
  };
  assert.equal(line.token, REDACTED);
  assert.equal(line.headers.authorization, REDACTED);
  assert.equal(line.frame.headers.passcode, REDACTED);
  assert.equal(line.a.b.c.token, REDACTED);
  assert.equal(line.url, '/sse');
  assert.equal(line.req.url, '/ws');
  assert.equal(line.err, `Error: bad ${REDACTED} seen`);
  assert.deepEqual(line.stomp, [['login', 'u'], ['passcode', REDACTED]]);
  assert.equal(line.user, 'alice', 'other fields stay');
  assert.equal(line.body.type, 'Buffer', 'a buffer is logged as pino logs it');
});

it('leaves the caller\'s fields as they were', () => {
  const { log } = capture();
  const fields = { token: 't', err: 'eyJa.eyJb.c' };
  log.info('x', fields);
  assert.deepEqual(fields, { token: 't', err: 'eyJa.eyJb.c' });
});

it('redacts PEM private-key blocks in any string field, whole or cut short', () => {
  const { log, lines } = capture();
  const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
  log.error('reload failed', { err: `bad: ${pem} after`, nested: { text: '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIO' } });
  const line = lines[0]!;
  assert.ok(!line.includes('MIIEvQ') && !line.includes('MHcCAQ'), line);
  const fields = JSON.parse(line) as { err: string; nested: { text: string } };
  assert.equal(fields.err, `bad: ${REDACTED} after`);
  assert.equal(fields.nested.text, REDACTED);
});

it('redacts a database URL\'s password and a postgresUrl field', () => {
  const { log, lines } = capture();
  log.warn('store down', { url: 'postgres://tidings:hunter2@db:5432/tidings?sslmode=require', postgresUrl: 'postgres://u:hunter3@db/x', db: { connectionString: 'postgres://u:hunter4@db/x' } });
  const text = lines.join('');
  for (const secret of ['hunter2', 'hunter3', 'hunter4', 'sslmode']) assert.ok(!text.includes(secret), `${secret} is redacted: ${text}`);
  const line = JSON.parse(text) as { url: string; postgresUrl: string };
  assert.equal(line.url, `postgres://tidings:${REDACTED}@db:5432/tidings`);
  assert.equal(line.postgresUrl, REDACTED);
});
