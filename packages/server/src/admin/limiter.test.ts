import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOGIN_ATTEMPTS, LOGIN_WINDOW_MS, LoginLimiter, MAX_BLOCK_MS } from './limiter.js';
import { AdminSecrets } from './secrets.js';
import { AdminSessions, SESSION_TTL_S, cookieValue } from './sessions.js';

describe('LoginLimiter', () => {
  it('allows LOGIN_ATTEMPTS a window, then blocks for a window, doubling with each block up to MAX_BLOCK_MS', () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter(() => now);
    for (let i = 0; i < LOGIN_ATTEMPTS; i++) assert.equal(limiter.attempt('a'), undefined);
    assert.equal(limiter.attempt('a'), LOGIN_WINDOW_MS / 1000);
    assert.equal(limiter.attempt('b'), undefined, 'other addresses are not blocked');
    now += 30_000;
    assert.equal(limiter.attempt('a'), 30, 'still blocked, with the time left');
    now += 30_000;
    for (let i = 0; i < LOGIN_ATTEMPTS; i++) assert.equal(limiter.attempt('a'), undefined);
    assert.equal(limiter.attempt('a'), (2 * LOGIN_WINDOW_MS) / 1000, 'the second block is twice as long');
    for (let k = 0; k < 12; k++) {
      now += MAX_BLOCK_MS;
      for (let i = 0; i < LOGIN_ATTEMPTS; i++) limiter.attempt('a');
      assert.ok(limiter.attempt('a')! <= MAX_BLOCK_MS / 1000);
    }
  });

  it('forgets an address after a successful login', () => {
    const limiter = new LoginLimiter(() => 0);
    for (let i = 0; i < LOGIN_ATTEMPTS; i++) limiter.attempt('a');
    limiter.succeeded('a');
    assert.equal(limiter.attempt('a'), undefined);
  });
});

describe('AdminSecrets and AdminSessions', () => {
  it('matches the password and the key, nothing else', async () => {
    const secrets = await AdminSecrets.create(['pw', undefined, 'a-key-of-16-chars!']);
    assert.equal(await secrets.matches('pw'), true);
    assert.equal(await secrets.matches('a-key-of-16-chars!'), true);
    assert.equal(await secrets.matches('pw '), false);
    assert.equal(await secrets.matches(''), false);
    assert.equal(await (await AdminSecrets.create([undefined])).matches('anything'), false);
  });

  it('gives 256-bit ids and CSRF tokens that expire after SESSION_TTL_S', () => {
    let now = 0;
    const sessions = new AdminSessions(() => now);
    const s = sessions.create();
    assert.match(s.id, /^[\w-]{43}$/);
    assert.notEqual(s.id, s.csrf);
    assert.equal(sessions.get(s.id), s);
    assert.equal(sessions.checkCsrf(s, s.csrf), true);
    assert.equal(sessions.checkCsrf(s, s.id), false);
    assert.equal(sessions.checkCsrf(s, undefined), false);
    assert.equal(cookieValue(`a=1; tidings_admin=${s.id}; b=2`, 'tidings_admin'), s.id);
    now += SESSION_TTL_S * 1000;
    assert.equal(sessions.get(s.id), undefined);
  });
});
