import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bannerText, startupReport } from './banner.js';
import { loadConfig } from './config.js';

const at = (address: string, port: number) => ({ address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' });

describe('startup banner', () => {
  it('names every endpoint with the bound port, and localhost for all interfaces', () => {
    const config = loadConfig(['--api-key', 'k', '--jwt-secret', 's', '--allowed-origins', 'https://app.example', '--stomp-port', '0'], {});
    const r = startupReport(config, { http: at('0.0.0.0', 4711), stomp: at('0.0.0.0', 4712) }, '9.9.9');
    assert.deepEqual(r.endpoints.map((e) => [e.name, e.url]), [
      ['WebSocket', 'ws://localhost:4711/ws'],
      ['SSE', 'http://localhost:4711/sse'],
      ['Streaming', 'http://localhost:4711/stream'],
      ['Polling', 'http://localhost:4711/poll'],
      ['Emulation', 'http://localhost:4711/emulation'],
      ['SockJS', 'http://localhost:4711/sockjs'],
      ['Server API', 'http://localhost:4711/api/'],
      ['Metrics', 'http://localhost:4711/metrics'],
      ['Admin', 'off'],
      ['SDK', 'http://localhost:4711/client/tidings.min.js'],
      ['Health', 'http://localhost:4711/healthz'],
      ['STOMP TCP', 'stomp://localhost:4712'],
    ]);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.engine.name, 'memory');
    assert.match(r.engine.note, /single node/);
    assert.deepEqual(r.store, { name: 'sqlite', note: 'data/tidings.db' });
    const text = bannerText(r);
    assert.match(text, /^Tidings 9\.9\.9 is listening\n/);
    assert.match(text, /^ {2}STOMP TCP +stomp:\/\/localhost:4712$/m);
    assert.doesNotMatch(text, /warning/);
  });

  it('shows the metrics port, SockJS aliases, IPv6 hosts, and what is off', () => {
    const config = loadConfig(['--metrics-port', '0', '--sockjs-aliases', '/ws-stomp', '--store', 'memory', '--engine', 'redis'], {});
    const r = startupReport(config, { http: at('::1', 80), metrics: at('127.0.0.1', 9100) }, '1');
    const byName = new Map(r.endpoints.map((e) => [e.name, e]));
    assert.equal(byName.get('WebSocket')?.url, 'ws://[::1]:80/ws');
    assert.equal(byName.get('Metrics')?.url, 'http://127.0.0.1:9100/metrics');
    assert.equal(byName.get('SockJS')?.note, 'also /ws-stomp');
    assert.equal(byName.get('Server API')?.note, 'disabled: no API key');
    assert.equal(byName.has('STOMP TCP'), false);
    assert.match(r.store.note, /gone when the process exits/);
    const off = startupReport(loadConfig(['--metrics', 'off'], {}), { http: at('127.0.0.1', 1) }, '1');
    assert.equal(off.endpoints.find((e) => e.name === 'Metrics')?.url, 'off');
    assert.match(off.endpoints.find((e) => e.name === 'Admin')?.note ?? '', /set --admin-password/);
    const admin = startupReport(loadConfig(['--admin-password', 'pw'], {}), { http: at('127.0.0.1', 1) }, '1');
    assert.equal(admin.endpoints.find((e) => e.name === 'Admin')?.url, 'http://127.0.0.1:1/admin/');
  });

  it('warns about settings that refuse browsers, the API, users or a shared inbox', () => {
    const bare = startupReport(loadConfig(['--engine', 'redis'], {}), { http: at('127.0.0.1', 1) }, '1');
    assert.deepEqual(bare.warnings.map((w) => w.setting), ['allowed-origins', 'api-key', 'jwt-secret', 'store']);
    assert.match(bare.warnings[0]!.message, /every browser page is refused/);
    const text = bannerText(bare);
    assert.equal(text.split('\n').filter((l) => l.startsWith('  warning: ')).length, 4);
    const jwks = startupReport(loadConfig(['--jwks', 'https://id.example/jwks.json', '--allowed-origins', '*'], {}), { http: at('127.0.0.1', 1) }, '1');
    assert.deepEqual(jwks.warnings.map((w) => w.setting), ['api-key']);
  });

  it('--demo: the demo page among the endpoints and a loud warning first, naming the secret the tokens are signed with', () => {
    const ephemeral = startupReport(loadConfig(['--demo'], {}), { http: at('0.0.0.0', 8080) }, '1');
    assert.equal(ephemeral.endpoints.find((e) => e.name === 'Demo')?.url, 'http://localhost:8080/demo/');
    assert.deepEqual(ephemeral.warnings.map((w) => w.setting), ['demo', 'allowed-origins', 'api-key']);
    assert.match(ephemeral.warnings[0]!.message, /^DEMO MODE \(--demo\): NOT FOR PRODUCTION\. .*ephemeral secret/);
    assert.match(bannerText(ephemeral), /^ {2}warning: DEMO MODE/m);
    const configured = startupReport(loadConfig(['--demo', 'on', '--jwt-secret', 's'], {}), { http: at('0.0.0.0', 8080) }, '1');
    assert.match(configured.warnings[0]!.message, /with your --jwt-secret: anyone who reaches this port can act as any user/);
    const off = startupReport(loadConfig(['--demo', 'off', '--api-key', 'k'], {}), { http: at('0.0.0.0', 8080) }, '1');
    assert.equal(off.endpoints.some((e) => e.name === 'Demo'), false);
    assert.deepEqual(off.warnings.map((w) => w.setting), ['allowed-origins', 'jwt-secret']);
  });
});
