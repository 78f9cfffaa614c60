import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_NAMESPACE, optionProblems, resolveOptions } from './options.js';
import { problemLine } from './validation.js';

const lines = (input: unknown): string[] => optionProblems(input).map(problemLine);

describe('server options schema', () => {
  it('names the path and the wrong type or value of every bad option', () => {
    const cases: Array<[unknown, string]> = [
      [{ namespaces: { chat: { publish: 'false' } } }, 'namespaces.chat.publish: expected boolean, got string'],
      [{ namespaces: { chat: { presence: 1 } } }, 'namespaces.chat.presence: expected boolean, got number'],
      [{ namespaces: { chat: { joinLeave: null } } }, 'namespaces.chat.joinLeave: expected boolean, got null'],
      [{ namespaces: { chat: { histroySize: 5 } } }, 'namespaces.chat.histroySize: unknown key'],
      [{ namespaces: { 'bad ns': {} } }, 'namespaces["bad ns"]: invalid namespace name "bad ns"'],
      [{ namespaces: { 'a:b': {} } }, 'namespaces["a:b"]: invalid namespace name "a:b"'],
      [{ namespaces: { chat: { historySize: -1 } } }, 'namespaces.chat.historySize: expected an integer ≥ 0, got -1'],
      [{ namespaces: { chat: { historySize: 1.5 } } }, 'namespaces.chat.historySize: expected an integer ≥ 0, got 1.5'],
      [{ namespaces: { chat: { historySize: '10' } } }, 'namespaces.chat.historySize: expected an integer ≥ 0, got string'],
      [{ namespaces: { chat: { historyTtl: 0 } } }, 'namespaces.chat.historyTtl: expected a number of seconds > 0, got 0'],
      [{ namespaces: { chat: { subscribe: 'everyone' } } }, 'namespaces.chat.subscribe: expected one of anyone, authenticated, owner, got "everyone"'],
      [{ namespaces: { chat: true } }, 'namespaces.chat: expected an object, got boolean'],
      [{ namespaces: { '': { publish: 'yes' } } }, 'namespaces[""].publish: expected boolean, got string'],
      [JSON.parse('{"namespaces":{"__proto__":{"subscribe":"owner"}}}'), 'namespaces.__proto__: namespace name "__proto__" is reserved'],
      [{ limits: { maxDepth: 0 } }, 'limits.maxDepth: expected an integer from 1 to 1000, got 0'],
      [{ limits: { maxDepth: 1001 } }, 'limits.maxDepth: expected an integer from 1 to 1000, got 1001'],
      [{ bodyTimeout: 3601 }, 'bodyTimeout: expected a number of seconds > 0 and ≤ 3600, got 3601'],
      [{ limits: { maxDepht: 3 } }, 'limits.maxDepht: unknown key'],
      [{ jwt: { secert: 'x' } }, 'jwt.secert: unknown key'],
      [{ jwt: { secret: 42 } }, 'jwt.secret: expected a string, got number'],
      [{ allowedOrigins: 'https://a.example' }, 'allowedOrigins: expected an array of strings, got string'],
      [{ allowedOrigins: ['https://a.example', 3] }, 'allowedOrigins[1]: expected a string, got number'],
      [{ stompPort: 70000 }, 'stompPort: expected an integer from 0 to 65535, got 70000'],
      [{ pingInterval: '25' }, 'pingInterval: expected a number of seconds > 0, got string'],
      [{ shutdownTimeout: -1 }, 'shutdownTimeout: expected a number of seconds ≥ 0, got -1'],
      [{ prot: 1 }, 'prot: unknown key'],
    ];
    for (const [input, line] of cases) {
      const got = lines(input);
      assert.equal(got.length, 1, `${JSON.stringify(input)} → ${got.join(' | ')}`);
      assert.ok(got[0]!.startsWith(line), `${JSON.stringify(input)}: ${got[0]} should start with ${line}`);
    }
  });

  it('names the length of a bad admin secret, never its text', () => {
    const problems = optionProblems({ adminKey: 'hunter2-short', adminPassword: '' });
    assert.deepEqual(problems.map((p) => p.path).sort(), ['adminKey', 'adminPassword']);
    assert.ok(!JSON.stringify(problems).includes('hunter2'), JSON.stringify(problems));
    assert.match(problems.find((p) => p.path === 'adminKey')!.message, /expected 16 to 1024 characters, got 13/);
  });

  it('reports every problem at once', () => {
    assert.deepEqual(lines({ namespaces: { chat: { publish: 'false', histroySize: 1 } }, port: 1 }), [
      'namespaces.chat.publish: expected boolean, got string',
      'namespaces.chat.histroySize: unknown key',
      'port: unknown key',
    ]);
  });

  it('resolveOptions throws a TypeError with the problems and fills defaults otherwise', () => {
    assert.throws(() => resolveOptions({ namespaces: { chat: { publish: 'false' as unknown as boolean } } }),
      { name: 'TypeError', message: 'namespaces.chat.publish: expected boolean, got string' });
    const o = resolveOptions({ apiKey: undefined, stompPort: undefined, namespaces: { chat: { publish: true, historySize: undefined } }, limits: { maxDepth: 8 } });
    assert.deepEqual(o.namespaces.chat, { ...DEFAULT_NAMESPACE, publish: true });
    assert.equal(o.limits.maxDepth, 8);
    assert.equal(o.limits.maxMessageSize, 64 * 1024);
    assert.equal(o.namespaces.user?.subscribe, 'owner');
    assert.equal(o.apiKey, undefined);
  });

  it('takes TLS as PEM text, STOMP over TLS only with it, and trusted proxies as CIDRs; never quotes a key', () => {
    assert.deepEqual(lines({ stompTls: true }), ['stompTls: STOMP over TLS needs a certificate (tls)']);
    const secret = '-----BEGIN NOT A KEY-----c2VjcmV0';
    const bad = lines({ tls: { cert: 'cert text', key: secret } });
    assert.deepEqual(bad, ['tls.cert: expected PEM text with a CERTIFICATE block', 'tls.key: expected PEM text with a PRIVATE KEY block']);
    assert.ok(!bad.join().includes('c2VjcmV0'));
    assert.deepEqual(lines({ trustProxy: ['10.0.0.0/8', '10.0.0.0/40'] }), ['trustProxy[1]: expected a CIDR like 10.0.0.0/8 or an IP address, got "10.0.0.0/40"']);
    assert.deepEqual(resolveOptions({}).trustProxy, []);
    assert.equal(resolveOptions({}).tls, undefined);
  });
});
