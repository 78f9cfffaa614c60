/**
 * Tokens against the real server (refresh lead 3 s, tokens living 4 s): renewed
 * by getToken() on the same connection; refused tokens stop the client; a token
 * not renewed in time leads to 3005 and a reconnect with a fresh one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client, Publication, SubscribedEvent } from '@tidings/client';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { nodeClient, recordingWebSocket, sleep, waitFor } from './helpers.js';

describe('client tokens', () => {
  let t: TidingsProcess;
  const clients: Client[] = [];

  before(async () => {
    t = await startTidings({ args: ['--token-refresh-lead', '3'] });
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await t.stop();
  });

  function record(client: Client): string[] {
    clients.push(client);
    const events: string[] = [];
    client.on('connecting', (e) => events.push(`connecting ${e.code}`));
    client.on('connected', () => events.push('connected'));
    client.on('disconnected', (e) => events.push(`disconnected ${e.code}`));
    client.on('error', (e) => events.push(`error ${e.code}`));
    return events;
  }

  test('short-lived tokens are renewed through getToken() without a disconnect', async () => {
    let calls = 0;
    const client = nodeClient(t.wsUrl, { getToken: () => { calls++; return makeToken('alice', { expiresIn: 4 }); } });
    const events = record(client);
    const pubs: Publication[] = [];
    client.subscribe('tokens', { publication: (p) => pubs.push(p) });
    client.connect();
    await waitFor('connected', () => client.state === 'connected');
    await sleep(7_000);
    await t.publish('tokens', { alive: true });
    await waitFor('a publication after several token lifetimes', () => pubs.length === 1);
    assert.ok(calls >= 4, `getToken() called ${calls} times`);
    assert.deepEqual(events, ['connecting 0', 'connected']);
  });

  test('a token the server refuses stops the client with an unauthorized error', async () => {
    const attempts: number[] = [];
    const client = nodeClient(t.wsUrl, {
      token: await makeToken('mallory', { secret: 'not-the-secret-not-the-secret-not-the-secret' }),
      WebSocket: recordingWebSocket(attempts),
      minReconnectDelay: 50,
    });
    const events = record(client);
    client.connect();
    await waitFor('disconnected', () => client.state === 'disconnected');
    await sleep(500);
    assert.deepEqual(events, ['connecting 0', 'error 101', 'disconnected 3500']);
    assert.equal(attempts.length, 1);
  });

  test('a fixed token that expires ends the connection with 3005 and a clear error', async () => {
    const client = nodeClient(t.wsUrl, { token: await makeToken('bob', { expiresIn: 3 }) });
    const events = record(client);
    client.connect();
    await waitFor('disconnected', () => client.state === 'disconnected', 6_000);
    assert.deepEqual(events, ['connecting 0', 'connected', 'error 109', 'error 109', 'disconnected 3005']);
  });

  test('a refresh that comes too late: 3005, then a reconnect with a fresh token that recovers', async () => {
    let calls = 0;
    const client = nodeClient(t.wsUrl, {
      minReconnectDelay: 50,
      maxReconnectDelay: 200,
      async getToken() {
        if (++calls === 2) await sleep(5_000);
        return makeToken('carol', { expiresIn: calls === 1 ? 4 : 60 });
      },
    });
    const events = record(client);
    const pubs: Publication[] = [];
    const subscribed: SubscribedEvent[] = [];
    client.subscribe('late', { publication: (p) => pubs.push(p), subscribed: (e) => subscribed.push(e) });
    client.connect();
    await waitFor('subscribed', () => subscribed.length === 1);
    await t.publish('late', 1);
    await waitFor('connecting after expiry', () => client.state === 'connecting', 6_000);
    await t.publish('late', 2);
    await waitFor('resubscribed', () => subscribed.length === 2);
    await waitFor('both publications', () => pubs.length === 2);
    await sleep(5_000);
    assert.deepEqual(events, ['connecting 0', 'connected', 'connecting 3005', 'connected']);
    assert.deepEqual(pubs.map((p) => p.data), [1, 2]);
    assert.deepEqual([subscribed[1]?.recovering, subscribed[1]?.recovered], [true, true]);
    assert.equal(calls, 3);
  });
});
