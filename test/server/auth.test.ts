import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type { ConnectResult, SubscribeResult } from '@tidings/protocol';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { ReplyError, WsClient } from '../helpers/ws-client.js';

describe('JWT authentication and channel permissions', () => {
  let t: TidingsProcess;
  let rsa: TidingsProcess;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-'));
    const pem = join(dir, 'public.pem');
    writeFileSync(pem, publicKey.export({ type: 'spki', format: 'pem' }));
    const config = join(dir, 'tidings.json');
    writeFileSync(config, JSON.stringify({ namespaces: { private: { subscribe: 'authenticated' } } }));
    [t, rsa] = await Promise.all([
      startTidings({ args: ['--token-refresh-lead', '2', '--config', config] }),
      startTidings({ args: ['--jwt-public-key', pem] }),
    ]);
  });
  after(async () => {
    await Promise.all([t.stop(), rsa.stop()]);
  });

  it('lets user 42 subscribe user:42 and refuses user:43', async () => {
    const c = await WsClient.open(t.wsUrl);
    const res = await c.command<ConnectResult>('connect', { token: await makeToken('42') });
    assert.equal(res.user, '42');
    const ok = await c.command<SubscribeResult>('subscribe', { channel: 'user:42' });
    assert.equal(ok.position.offset, 0);
    await assert.rejects(c.command('subscribe', { channel: 'user:43' }), (e: ReplyError) => e.error.code === 103);
    await t.publish('user:42', { hello: 42 });
    await c.until(() => c.pushes('publication').length === 1);
    c.close();
  });

  it('gives an identity-provider subject such as auth0|42 its user: and inbox: channels', async () => {
    const c = await WsClient.open(t.wsUrl);
    const res = await c.command<ConnectResult>('connect', { token: await makeToken('auth0|42') });
    assert.equal(res.user, 'auth0|42');
    await c.command<SubscribeResult>('subscribe', { channel: 'user:auth0|42' });
    await c.command<SubscribeResult>('subscribe', { channel: 'inbox:auth0|42' });
    await assert.rejects(c.command('subscribe', { channel: 'user:auth0|43' }), (e: ReplyError) => e.error.code === 103);
    await t.publish('user:auth0|42', { hello: 'auth0' });
    await c.until(() => c.pushes('publication').length === 1);
    c.close();
  });

  it('refuses anonymous connections on owner and authenticated namespaces, allows the default one', async () => {
    const c = await WsClient.connect(t.wsUrl);
    await assert.rejects(c.command('subscribe', { channel: 'user:42' }), (e: ReplyError) => e.error.code === 103);
    await assert.rejects(c.command('subscribe', { channel: 'private:x' }), (e: ReplyError) => e.error.code === 103);
    await assert.rejects(c.command('subscribe', { channel: 'nosuchns:x' }), (e: ReplyError) => e.error.code === 102);
    await c.command('subscribe', { channel: 'news' });
    c.close();
  });

  it('grants channels listed in the token\'s `channels` claim', async () => {
    const c = await WsClient.connect(t.wsUrl, await makeToken('7', { channels: ['user:8'] }));
    await c.command('subscribe', { channel: 'user:8' });
    await assert.rejects(c.command('subscribe', { channel: 'user:9' }), (e: ReplyError) => e.error.code === 103);
    c.close();
  });

  it('accepts the token at the handshake (query or Authorization header) and refuses a bad one with 401', async () => {
    const token = await makeToken('alice');
    const byQuery = await WsClient.open(`${t.wsUrl}?token=${token}`);
    assert.equal((await byQuery.command<ConnectResult>('connect')).user, 'alice');
    byQuery.close();
    const byHeader = await WsClient.open(t.wsUrl, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await byHeader.command<ConnectResult>('connect')).user, 'alice');
    byHeader.close();
    await assert.rejects(WsClient.open(`${t.wsUrl}?token=garbage`), /handshake refused: 401/);
  });

  it('closes with 3500 (no reconnect) for a bad token in connect, 3005 for an expired one', async () => {
    const bad = await WsClient.open(t.wsUrl);
    await assert.rejects(bad.command('connect', { token: await makeToken('x', { secret: 'another-secret-another-secret-another' }) }), (e: ReplyError) => e.error.code === 101);
    assert.equal(await bad.closed(), 3500);
    assert.equal(bad.pushes('disconnect')[0]?.reconnect, false);

    const expired = await WsClient.open(t.wsUrl);
    await assert.rejects(expired.command('connect', { token: await makeToken('x', { expiresIn: -10 }) }), (e: ReplyError) => e.error.code === 109);
    assert.equal(await expired.closed(), 3005);
    assert.equal(expired.pushes('disconnect')[0]?.reconnect, true);
  });

  it('asks for a refresh before expiry, keeps the connection when refreshed, closes with 3005 when not', async () => {
    const refreshed = await WsClient.connect(t.wsUrl, await makeToken('r', { expiresIn: 3 }));
    const lazy = await WsClient.connect(t.wsUrl, await makeToken('l', { expiresIn: 3 }));
    await refreshed.until(() => refreshed.pushes('refresh_required').length === 1, 4000, 'refresh_required');
    const res = await refreshed.command<{ expires: number }>('refresh', { token: await makeToken('r', { expiresIn: 60 }) });
    assert.ok(res.expires > Date.now() / 1000 + 30);
    await assert.rejects(refreshed.command('refresh', { token: await makeToken('someone-else', { expiresIn: 60 }) }), (e: ReplyError) => e.error.code === 103);
    assert.equal(await lazy.closed(6000), 3005);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(refreshed.closeCode, undefined);
    assert.deepEqual(await refreshed.command('ping'), {});
    refreshed.close();
  });

  it('verifies RS256 tokens with a configured public key and refuses algorithms it has no key for', async () => {
    const rs = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('rsa-user').sign(privateKey);
    const c = await WsClient.open(rsa.wsUrl);
    assert.equal((await c.command<ConnectResult>('connect', { token: rs })).user, 'rsa-user');
    c.close();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const es = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('ec-user').sign(ec.privateKey);
    const other = await WsClient.open(rsa.wsUrl);
    await assert.rejects(other.command('connect', { token: es }), (e: ReplyError) => e.error.code === 101 && /ES256/.test(e.error.message));
    assert.equal(await other.closed(), 3500);
  });
});
