import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADMIN_STATS_CHANNEL, ErrorCode, isAdminChannel, isValidChannel } from '@tidings/protocol';
import { ChannelPolicy } from '../channels.js';
import { defaultNamespaces } from '../options.js';
import { AuthError } from './jwt.js';
import { LiveTokens } from './live-token.js';

const T0 = 1_800_000_000_000;

function code(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return (err as AuthError).code;
  }
  return undefined;
}

describe('LiveTokens', () => {
  it('makes credentials that receive the admin stats and nothing else, until the expiry', () => {
    const tokens = new LiveTokens();
    const { token, expiresAt } = tokens.issue(60, T0);
    assert.equal(expiresAt, T0 / 1000 + 60);
    assert.deepEqual(tokens.verify(token, T0), { user: '', expires: expiresAt, subs: [ADMIN_STATS_CHANNEL], admin: true });
    assert.equal(code(() => tokens.verify(token, expiresAt * 1000)), ErrorCode.TokenExpired);
  });

  it('refuses a forged, altered or other node\'s token, and leaves other tokens to the JWT check', () => {
    const tokens = new LiveTokens();
    const { token, expiresAt } = tokens.issue(60, T0);
    const later = token.replace(`.${expiresAt}.`, `.${expiresAt + 3600}.`);
    for (const bad of [later, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, new LiveTokens().issue(60, T0).token, 'tidings-admin-live.', 'tidings-admin-live.1.2']) {
      assert.equal(code(() => tokens.verify(bad, T0)), ErrorCode.Unauthorized, bad);
    }
    assert.equal(tokens.verify('eyJhbGciOiJIUzI1NiJ9.e30.x', T0), undefined);
  });
});

describe('the admin namespace', () => {
  it('is no valid channel name, and resolves only for an admin live token\'s server-side subscription', () => {
    assert.ok(isAdminChannel(ADMIN_STATS_CHANNEL));
    assert.ok(!isValidChannel(ADMIN_STATS_CHANNEL));
    for (const name of ['$admin', '$admin:', '$admin:Stats', '$subs:alice', 'admin:stats', '$admin:stats:x']) assert.ok(!isAdminChannel(name), name);
    const policy = new ChannelPolicy({ ...defaultNamespaces(), $admin: defaultNamespaces()['']! });
    assert.throws(() => policy.resolve(ADMIN_STATS_CHANNEL), (err: AuthError) => err.code === ErrorCode.InvalidChannel);
    assert.equal(policy.resolve(ADMIN_STATS_CHANNEL, true).historySize, 0);
    assert.throws(() => policy.checkSubscribe(policy.resolve('news'), 'news', { user: '', admin: true }), (err: AuthError) => err.code === ErrorCode.PermissionDenied);
  });
});
