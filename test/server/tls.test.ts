import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import type { ServerMessage } from '@tidings/protocol';
import { freePort, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { hasOpenssl, httpsRequest, selfSigned, verifyingFetch, type Certificate } from '../helpers/tls.js';
import { WsClient } from '../helpers/ws-client.js';
import { RawStomp, text } from '../stomp/helpers.js';

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The fingerprint of the certificate a fresh TLS connection to `port` is shown (verified against `ca`). */
function presented(port: number, ca: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', ca }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('TLS: HTTPS, WSS and STOMP over TLS with a certificate made at run time', { skip: hasOpenssl() ? false : 'openssl is not installed' }, () => {
  let first: Certificate;
  let second: Certificate;
  let t: TidingsProcess;
  let stompPort: number;

  before(async () => {
    first = selfSigned(undefined, 'first');
    second = selfSigned(undefined, 'second');
    stompPort = await freePort();
    t = await startTidings({
      tls: { certFile: first.certFile, keyFile: first.keyFile, ca: [first.cert, second.cert] },
      args: ['--stomp-port', String(stompPort), '--stomp-tls', 'on'],
      env: { TIDINGS_LOG_LEVEL: 'info' },
    });
  });
  after(async () => {
    await t?.stop();
  });

  it('refuses clients that do not trust the certificate, and plain HTTP on the port', async () => {
    const untrusted = await new Promise<Error>((resolve) => get(`${t.url}/healthz`, { agent: false }, () => resolve(new Error('answered'))).on('error', resolve));
    assert.match(untrusted.message, /self[- ]signed/);
    await assert.rejects(fetch(`http://127.0.0.1:${t.port}/healthz`));
  });

  it('serves the server API over HTTPS', async () => {
    const health = await httpsRequest(`${t.url}/healthz`, first.cert);
    assert.equal(health.status, 200);
    assert.equal(health.fingerprint, first.fingerprint);
    const pub = await t.publish('tls-api', { over: 'https' });
    assert.equal(pub.offset, 1);
    const history = await t.api('GET', '/api/history?channel=tls-api');
    assert.equal(history.status, 200);
    assert.match(JSON.stringify(history.body), /"over":"https"/);
  });

  it('serves polling, NDJSON streaming, SockJS and /metrics over HTTPS too', async () => {
    const poll = await httpsRequest(`${t.url}/poll?channel=tls-poll`, first.cert);
    assert.equal(poll.status, 200);
    assert.match(poll.body, /"cursor"/);
    const firstLine = await new Promise<string>((resolve, reject) => {
      get(`${t.url}/stream?channel=tls-stream`, { ca: first.cert, agent: false }, (res) => {
        res.setEncoding('utf8');
        let buffered = '';
        res.on('data', (c: string) => {
          buffered += c;
          if (buffered.includes('\n')) {
            resolve(buffered.slice(0, buffered.indexOf('\n')));
            res.destroy();
          }
        });
      }).on('error', reject);
    });
    assert.equal((JSON.parse(firstLine) as ServerMessage).type, 'connected');
    const info = await httpsRequest(`${t.url}/sockjs/info`, first.cert);
    assert.equal(info.status, 200);
    assert.match(info.body, /"websocket":true/);
    const metrics = await httpsRequest(`${t.url}/metrics`, first.cert);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /tidings_connections/);
  });

  it('carries the JSON protocol over WSS', async () => {
    const c = await WsClient.open(t.wsUrl, { ca: first.cert });
    await c.command('connect');
    await c.command('subscribe', { channel: 'tls-ws' });
    await t.publish('tls-ws', { n: 1 });
    await c.until(() => c.pushes('publication').length === 1, 5000, 'the publication over WSS');
    assert.deepEqual(c.pushes('publication')[0]!.data, { n: 1 });
    c.close();
  });

  it('streams SSE over HTTPS to the eventsource package with a verifying fetch', async () => {
    const messages: ServerMessage[] = [];
    const es = new EventSource(`${t.url}/sse?channel=tls-sse`, { fetch: verifyingFetch(first.cert) });
    es.onmessage = (e) => { messages.push(JSON.parse(e.data as string) as ServerMessage); };
    try {
      await waitFor(() => messages.some((m) => m.type === 'connected'), 'connected over SSE');
      await t.publish('tls-sse', 'hello');
      await waitFor(() => messages.some((m) => m.type === 'publication'), 'the publication over SSE');
      const pub = messages.find((m) => m.type === 'publication');
      assert.equal(pub?.type === 'publication' ? pub.data : undefined, 'hello');
    } finally {
      es.close();
    }
  });

  it('serves STOMP over TLS on the STOMP port', async () => {
    const stomp = await RawStomp.tls(stompPort, first.cert);
    const connected = await stomp.connect();
    assert.equal(connected.command, 'CONNECTED');
    stomp.frame('SUBSCRIBE', [['id', '1'], ['destination', '/topic/tls-stomp'], ['receipt', 'sub']]);
    await stomp.next('RECEIPT');
    await t.publish('tls-stomp', { over: 'stomp+tls' });
    const message = await stomp.next('MESSAGE');
    assert.deepEqual(JSON.parse(text(message)), { over: 'stomp+tls' });
    stomp.end();
  });

  it('reloads the certificate on SIGHUP: open connections go on, new ones see the new certificate; a bad pair keeps it', async () => {
    const ws = await WsClient.open(t.wsUrl, { ca: first.cert });
    await ws.command('connect');
    await ws.command('subscribe', { channel: 'tls-reload' });
    const stomp = await RawStomp.tls(stompPort, first.cert);
    await stomp.connect();
    stomp.frame('SUBSCRIBE', [['id', '1'], ['destination', '/topic/tls-reload'], ['receipt', 'sub']]);
    await stomp.next('RECEIPT');
    const ca = [first.cert, second.cert];
    assert.equal(await presented(t.port, ca), first.fingerprint);

    copyFileSync(second.certFile, first.certFile);
    copyFileSync(second.keyFile, first.keyFile);
    t.signal('SIGHUP');
    await waitFor(() => t.output.includes('certificate reloaded'), 'the reload log line');
    assert.equal(await presented(t.port, ca), second.fingerprint, 'HTTPS/WSS: the new certificate');
    assert.equal(await presented(stompPort, ca), second.fingerprint, 'STOMP over TLS: the new certificate');
    assert.equal((await httpsRequest(`${t.url}/healthz`, second.cert)).status, 200);

    await t.publish('tls-reload', 'after reload');
    await ws.until(() => ws.pushes('publication').length === 1, 5000, 'a publication on the WSS connection opened before the reload');
    assert.equal(ws.pushes('publication')[0]!.data, 'after reload');
    assert.equal(ws.closeCode, undefined);
    assert.equal(JSON.parse(text(await stomp.next('MESSAGE'))), 'after reload');

    // a key that does not fit the certificate: the node keeps serving the second one and says why
    const third = selfSigned(undefined, 'third');
    copyFileSync(third.keyFile, first.keyFile);
    t.signal('SIGHUP');
    await waitFor(() => t.output.includes('certificate reload failed'), 'the failed reload log line');
    assert.equal(await presented(t.port, ca), second.fingerprint);
    writeFileSync(first.certFile, 'not a certificate');
    t.signal('SIGHUP');
    await waitFor(() => t.output.split('certificate reload failed').length === 3, 'the second failed reload');
    assert.equal(await presented(t.port, ca), second.fingerprint);
    assert.ok(!t.output.includes('PRIVATE KEY'), 'no key material in the log');
    const failure = t.output.split('\n').find((l) => l.includes('certificate reload failed'))!;
    assert.match(failure, /"level":"error"/);

    ws.close();
    stomp.end();
  });

  it('refuses to start with a key that does not belong to the certificate', async () => {
    const other = selfSigned(undefined, 'other');
    const t2 = startTidings({ tls: { certFile: second.certFile, keyFile: other.keyFile, ca: second.cert } });
    await assert.rejects(t2, /exited with 2[^]*--tls-cert, --tls-key: .* are not a usable PEM certificate and key/);
  });

  it('counts an https:// page on the same host and port as same-origin, an http:// one not', async () => {
    const open = (origin: string): Promise<number> => new Promise((resolve, reject) => {
      const ws = new WebSocket(t.wsUrl, { ca: [first.cert, second.cert], origin });
      ws.once('open', () => { resolve(101); ws.close(); });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', reject);
    });
    assert.equal(await open(`https://127.0.0.1:${t.port}`), 101);
    assert.equal(await open(`http://127.0.0.1:${t.port}`), 403);
    const sse = await httpsRequest(`${t.url}/poll?channel=news&wait=0`, [first.cert, second.cert], { headers: { origin: `http://127.0.0.1:${t.port}` } });
    assert.equal(sse.status, 403);
  });

  it('a WSS client that does not trust the certificate is refused before any upgrade', async () => {
    const ws = new WebSocket(t.wsUrl);
    const err = await new Promise<Error>((resolve) => ws.on('error', resolve));
    assert.match(err.message, /self[- ]signed|certificate/);
  });
});
