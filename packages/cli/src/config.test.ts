import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.js';

function configFile(json: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tidings-config-')), 'tidings.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
}

function problems(argv: string[], env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    loadConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('loadConfig', () => {
  it('takes a flag over an env var over the file over the default', () => {
    const file = configFile({ port: 1, host: 'file.example', maxDepth: 3, historySize: 4 });
    const c = loadConfig(['--config', file, '--port', '2'], { TIDINGS_PORT: '3', TIDINGS_HOST: 'env.example', TIDINGS_MAX_DEPTH: '' });
    assert.equal(c.port, 2);
    assert.equal(c.host, 'env.example');
    assert.equal(c.server.limits?.maxDepth, 3);
    assert.equal(c.server.namespaces?.['']?.historySize, 4);
    assert.equal(c.server.limits?.maxMessageSize, 65536);
  });

  it('takes the STOMP queue settings from flags, env and file, with their defaults and bounds', () => {
    assert.deepEqual(loadConfig([], {}).server.stompQueues, { maxLength: 10_000, redeliverAfter: 30_000 });
    const file = configFile({ stompQueueMaxLength: 5 });
    assert.deepEqual(loadConfig(['--config', file, '--stomp-queue-redeliver-after', '1500'], {}).server.stompQueues, { maxLength: 5, redeliverAfter: 1500 });
    assert.equal(loadConfig([], { TIDINGS_STOMP_QUEUE_MAX_LENGTH: '7' }).server.stompQueues?.maxLength, 7);
    assert.match(problems(['--stomp-queue-redeliver-after', '50'])[0]!, /--stomp-queue-redeliver-after: expected an integer ≥ 100/);
    assert.match(problems(['--stomp-queue-max-length', '0'])[0]!, /--stomp-queue-max-length: expected an integer ≥ 1/);
  });

  it('reads a list from an array or a comma-separated string in the file, and from a flag', () => {
    assert.deepEqual(loadConfig(['--config', configFile({ allowedOrigins: ['https://a.example', 'https://b.example'] })], {}).server.allowedOrigins,
      ['https://a.example', 'https://b.example']);
    assert.deepEqual(loadConfig(['--config', configFile({ allowedOrigins: 'https://a.example, https://b.example' })], {}).server.allowedOrigins,
      ['https://a.example', 'https://b.example']);
    assert.deepEqual(loadConfig(['--redis-cluster', 'a:7000,b:7001'], {}).redisCluster, [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }]);
  });

  it('keeps the built-in namespaces and adds the configured ones with their defaults', () => {
    const c = loadConfig(['--config', configFile({ namespaces: { chat: { publish: true } } }), '--history-size', '7'], {});
    assert.deepEqual(c.server.namespaces?.chat, { publish: true });
    assert.equal(c.server.namespaces?.user?.subscribe, 'owner');
    assert.equal(c.server.namespaces?.user?.historySize, 7);
  });

  it('checks an env var a flag overrides, as it checks a file value a flag overrides', () => {
    assert.deepEqual(problems(['--log-level', 'warn', '--port', '2'], { TIDINGS_LOG_LEVEL: 'loud', TIDINGS_PORT: 'x' }), [
      'TIDINGS_PORT: expected an integer from 0 to 65535, got "x"',
      'TIDINGS_LOG_LEVEL: expected one of debug, info, warn, error, silent, got "loud"',
    ]);
    const file = configFile({ logLevel: 'loud' });
    assert.deepEqual(problems(['--config', file, '--log-level', 'warn']), [`${file}: logLevel: expected one of debug, info, warn, error, silent, got "loud"`]);
  });

  it('refuses digits that are not an integer and numbers out of range, naming the source', () => {
    assert.deepEqual(problems(['--port', '8080.0']), ['--port: expected an integer from 0 to 65535, got "8080.0"']);
    assert.deepEqual(problems(['--port', '1e3']), ['--port: expected an integer from 0 to 65535, got "1e3"']);
    assert.deepEqual(problems(['--port', ' 80']), ['--port: expected an integer from 0 to 65535, got " 80"']);
    assert.deepEqual(problems([], { TIDINGS_MAX_CONNECTIONS: '99999999999999999999' }), ['TIDINGS_MAX_CONNECTIONS: expected an integer ≥ 1, got 100000000000000000000']);
    const file = configFile({ maxConnections: 1e20, historyTtl: 0 });
    assert.deepEqual(problems(['--config', file]), [
      `${file}: maxConnections: expected an integer ≥ 1, got 100000000000000000000`,
      `${file}: historyTtl: expected an integer ≥ 1, got 0`,
    ]);
  });

  it('takes --tls-cert and --tls-key together, and STOMP over TLS only with them and a STOMP port', () => {
    assert.match(problems(['--tls-key', '/nonexistent/key.pem'])[0]!, /--tls-key: needs --tls-cert/);
    assert.match(problems(['--tls-cert', '/nonexistent/cert.pem'])[0]!, /--tls-cert: needs --tls-key/);
    assert.match(problems(['--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem'])[0]!, /--tls-cert: cannot read \/nonexistent\/cert.pem/);
    assert.match(problems(['--stomp-tls', 'on', '--stomp-port', '61613'])[0]!, /--stomp-tls: STOMP over TLS needs --tls-cert and --tls-key/);
    const dir = mkdtempSync(join(tmpdir(), 'tidings-tls-'));
    writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
    writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n');
    const bad = problems(['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
    assert.match(bad[0]!, /are not a usable PEM certificate and key/);
    assert.ok(!bad[0]!.includes('c2VjcmV0'), 'the key text is not quoted');
  });

  it('takes --trust-proxy as CIDRs and addresses, and names a bad one', () => {
    assert.deepEqual(loadConfig(['--trust-proxy', '127.0.0.1/32, 10.0.0.0/8,::1'], {}).server.trustProxy, ['127.0.0.1/32', '10.0.0.0/8', '::1']);
    assert.deepEqual(loadConfig([], {}).server.trustProxy, []);
    assert.match(problems([], { TIDINGS_TRUST_PROXY: '10.0.0.0/8,nginx' }).join('\n'), /TIDINGS_TRUST_PROXY: expected CIDRs like 10\.0\.0\.0\/8 or IP addresses, got "nginx"/);
  });

  it('reads the proxies from flags and from the config file\'s `proxy` object, a given flag winning', () => {
    const flags = loadConfig(['--connect-proxy', 'http://app/connect', '--rpc-proxy', 'http://app/rpc', '--proxy-timeout', '700', '--connect-proxy-always', 'on'], {}).server.proxy;
    assert.deepEqual(flags?.connect, { url: 'http://app/connect', always: true });
    assert.equal(flags?.rpc, 'http://app/rpc');
    assert.equal(flags?.timeout, 700);
    assert.deepEqual(flags?.headers, ['cookie', 'authorization', 'origin', 'user-agent', 'x-forwarded-for']);
    const file = configFile({ proxy: { timeout: 900, connect: { url: 'http://file/connect', timeout: 100, headers: ['cookie'] }, rpc: { url: 'http://file/rpc', timeout: 50 } } });
    const fromFile = loadConfig(['--config', file], {}).server.proxy;
    assert.deepEqual(fromFile?.connect, { url: 'http://file/connect', timeout: 100, headers: ['cookie'], always: false });
    assert.deepEqual(fromFile?.rpc, { url: 'http://file/rpc', timeout: 50 });
    assert.equal(fromFile?.timeout, 900);
    const both = loadConfig(['--config', file, '--rpc-proxy', 'http://flag/rpc', '--proxy-timeout', '300'], {}).server.proxy;
    assert.equal(both?.rpc, 'http://flag/rpc');
    assert.equal(both?.timeout, 300);
    assert.ok(problems(['--config', configFile({ proxy: { rpc: 'ftp://x' } })]).some((p) => p.includes('proxy.rpc')));
    assert.ok(problems(['--config', configFile({ namespaces: { chat: { subscribeProxy: true } } })]).some((p) => p.includes('subscribeProxy')));
  });

  it('takes notification types from the file and the flat lists, the action proxy like the others, and refuses a muted critical type', () => {
    const file = configFile({ notificationTypes: { security: { critical: true }, news: { muted: false } }, proxy: { notificationAction: { url: 'http://file/actions', timeout: 80 } } });
    const c = loadConfig(['--config', file, '--muted-notification-types', 'digest,promo'], {}).server;
    assert.deepEqual({ ...c.notificationTypes }, { security: { critical: true }, news: { muted: false }, digest: { muted: true }, promo: { muted: true } });
    assert.deepEqual(c.proxy?.notificationAction, { url: 'http://file/actions', timeout: 80 });
    assert.equal(loadConfig(['--notification-action-proxy', 'http://flag/a'], {}).server.proxy?.notificationAction, 'http://flag/a');
    assert.ok(problems(['--muted-notification-types', 'alarm', '--critical-notification-types', 'alarm']).some((p) => p.includes('notificationTypes.alarm')));
    assert.ok(problems(['--config', configFile({ notificationTypes: { x: { loud: true } } })]).some((p) => p.includes('notificationTypes.x')));
  });

  it('reads the PostgreSQL store settings from flags or env, needs a URL, and never echoes it', () => {
    const c = loadConfig(['--store', 'postgres', '--postgres-pool-size', '4'], { TIDINGS_POSTGRES_URL: 'postgres://u:s3cret@db/tidings', TIDINGS_POSTGRES_STATEMENT_TIMEOUT: '250' });
    assert.deepEqual(c.postgres, { url: 'postgres://u:s3cret@db/tidings', poolSize: 4, statementTimeout: 250 });
    assert.equal(loadConfig([], {}).postgres, undefined);
    assert.deepEqual(problems(['--store', 'postgres']), ['--store: postgres needs --postgres-url (or TIDINGS_POSTGRES_URL)']);
    const bad = problems(['--store', 'postgres', '--postgres-url', 'mysql://u:s3cret@db/x']);
    assert.deepEqual(bad, ['--postgres-url: expected a postgres:// or postgresql:// URL']);
    assert.deepEqual(problems(['--postgres-pool-size', '0']), ['--postgres-pool-size: expected an integer from 1 to 1000, got 0']);
  });

  it('--demo is off by default; a bare off|on flag is on, before another flag or last; env and file say it too', () => {
    assert.equal(loadConfig([], {}).server.demo, false);
    assert.equal(loadConfig(['--demo'], {}).server.demo, true);
    assert.equal(loadConfig(['--demo', '--port', '1'], {}).server.demo, true);
    assert.equal(loadConfig(['--demo', 'off'], {}).server.demo, false);
    assert.equal(loadConfig(['--demo=on'], {}).server.demo, true);
    assert.equal(loadConfig([], { TIDINGS_DEMO: 'on' }).server.demo, true);
    assert.equal(loadConfig(['--config', configFile({ demo: 'on' })], {}).server.demo, true);
    assert.deepEqual(problems(['--demo', 'yes']), ['--demo: expected one of off, on, got "yes"']);
  });

  it('--ws-compression is off by default, on when bare, and takes takeover', () => {
    assert.equal(loadConfig([], {}).server.wsCompression, 'off');
    assert.equal(loadConfig(['--ws-compression'], {}).server.wsCompression, 'on');
    assert.equal(loadConfig(['--ws-compression', '--demo'], {}).server.wsCompression, 'on');
    assert.equal(loadConfig(['--ws-compression', 'takeover'], {}).server.wsCompression, 'takeover');
    assert.equal(loadConfig([], { TIDINGS_WS_COMPRESSION: 'on' }).server.wsCompression, 'on');
    assert.deepEqual(problems(['--ws-compression', 'gzip']), ['--ws-compression: expected one of off, on, takeover, got "gzip"']);
  });
});
