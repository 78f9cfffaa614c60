import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { MAX_HEADER_CHARS, MAX_HOPS, ProxyTrust, isTrustEntry, parseForwarded, parseXForwarded, plainAddress } from './forwarded.js';

function req(remoteAddress: string, headers: IncomingHttpHeaders = {}, encrypted = false) {
  return { headers, socket: { remoteAddress, encrypted } };
}

describe('forwarded', () => {
  it('takes IP addresses and CIDRs, nothing else', () => {
    for (const ok of ['127.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '::/0', '192.168.1.0/24']) assert.ok(isTrustEntry(ok), ok);
    for (const bad of ['', 'localhost', '10.0.0.0/33', '::/129', '10.0.0/8', '10.0.0.0/', '1.2.3.4/8/8', '300.1.1.1']) assert.ok(!isTrustEntry(bad), bad);
    assert.throws(() => new ProxyTrust(['10.0.0.0/8', 'nginx']), /not an IP address or CIDR: "nginx"/);
  });

  it('reads addresses as sockets and proxies write them', () => {
    assert.equal(plainAddress('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(plainAddress(' 203.0.113.7:4711'), '203.0.113.7');
    assert.equal(plainAddress('[2001:DB8::17]:4711'), '2001:db8::17');
    assert.equal(plainAddress('[2001:db8::17]'), '2001:db8::17');
    assert.equal(plainAddress('fe80::1%eth0'), 'fe80::1');
    for (const no of ['unknown', '_hidden', '', 'evil.example', undefined]) assert.equal(plainAddress(no), undefined);
  });

  it('matches peers against the trusted CIDRs, IPv4-mapped ones as IPv4', () => {
    const trust = new ProxyTrust(['127.0.0.1/32', '10.0.0.0/8', 'fd00::/8']);
    assert.ok(trust.trusts('127.0.0.1'));
    assert.ok(trust.trusts('::ffff:10.200.0.1'));
    assert.ok(trust.trusts('fd12::1'));
    assert.ok(!trust.trusts('127.0.0.2'));
    assert.ok(!trust.trusts('11.0.0.1'));
    assert.ok(!trust.trusts('::1'));
    assert.ok(!trust.trusts(undefined));
    assert.ok(!new ProxyTrust().trusts('127.0.0.1'));
  });

  it('ignores forwarding headers from an untrusted peer', () => {
    const trust = new ProxyTrust(['10.0.0.0/8']);
    const spoofed = { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https', forwarded: 'for=5.6.7.8;proto=https' };
    assert.deepEqual(trust.client(req('203.0.113.9', spoofed)), { address: '203.0.113.9', scheme: 'http' });
    assert.deepEqual(new ProxyTrust().client(req('::ffff:127.0.0.1', spoofed, true)), { address: '127.0.0.1', scheme: 'https' });
  });

  it('walks X-Forwarded-For from the right, skipping trusted hops, and stops at the first untrusted one', () => {
    const trust = new ProxyTrust(['10.0.0.0/8']);
    // the client wrote "6.6.6.6" itself; the edge proxy 10.0.0.2 appended the client's real address
    const headers = { 'x-forwarded-for': '6.6.6.6, 198.51.100.4, 10.0.0.2', 'x-forwarded-proto': 'https' };
    assert.deepEqual(trust.client(req('10.0.0.1', headers)), { address: '198.51.100.4', scheme: 'https' });
    assert.equal(trust.clientAddress(req('10.0.0.1', { 'x-forwarded-for': '10.0.0.3, 10.0.0.2' })), '10.0.0.3', 'all trusted: the leftmost');
    assert.equal(trust.clientAddress(req('10.0.0.1', { 'x-forwarded-for': 'unknown, 10.0.0.2' })), '10.0.0.2', 'a non-address ends the walk');
    assert.equal(trust.clientAddress(req('10.0.0.1', { 'x-forwarded-for': 'garbage' })), '10.0.0.1');
    assert.deepEqual(trust.client(req('10.0.0.1', {}, true)), { address: '10.0.0.1', scheme: 'https' }, 'no header: the peer');
  });

  it('pairs X-Forwarded-Proto with X-Forwarded-For from the right, a single value for every hop', () => {
    assert.deepEqual(parseXForwarded('1.1.1.1, 10.0.0.2', 'https, http'), [{ for: '1.1.1.1', proto: 'https' }, { for: '10.0.0.2', proto: 'http' }]);
    assert.deepEqual(parseXForwarded('1.1.1.1, 10.0.0.2', 'https'), [{ for: '1.1.1.1', proto: 'https' }, { for: '10.0.0.2', proto: 'https' }]);
    assert.deepEqual(parseXForwarded('1.1.1.1', 'gopher'), [{ for: '1.1.1.1', proto: undefined }]);
    assert.deepEqual(parseXForwarded(undefined, 'http, https'), [{ for: undefined, proto: 'https' }], 'no X-Forwarded-For: the last proto, for the peer');
    assert.deepEqual(new ProxyTrust(['10.0.0.0/8']).client(req('10.0.0.1', { 'x-forwarded-proto': 'https' })), { address: '10.0.0.1', scheme: 'https' });
    assert.deepEqual(new ProxyTrust(['10.0.0.0/8']).client(req('10.0.0.1', { forwarded: 'proto=https' })), { address: '10.0.0.1', scheme: 'https' });
    const trust = new ProxyTrust(['10.0.0.0/8']);
    assert.equal(trust.requestScheme(req('10.0.0.1', { 'x-forwarded-for': '1.1.1.1, 10.0.0.2', 'x-forwarded-proto': 'https, http' })), 'https');
    assert.equal(trust.requestScheme(req('10.0.0.1', { 'x-forwarded-for': '1.1.1.1', 'x-forwarded-proto': 'javascript' }, true)), 'https', 'an unknown scheme is ignored');
  });

  it('parses RFC 7239 Forwarded, quoted IPv6 with ports included, and reads it only without X-Forwarded-*', () => {
    assert.deepEqual(parseForwarded('for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711";PROTO=HTTPS'), [
      { for: '192.0.2.60', proto: 'http' }, { for: '[2001:db8:cafe::17]:4711', proto: 'https' },
    ]);
    assert.deepEqual(parseForwarded('for="a,b";proto=https'), [{ for: 'a,b', proto: 'https' }], 'commas inside quotes');
    const trust = new ProxyTrust(['10.0.0.0/8']);
    const forwarded = 'for=6.6.6.6, for="[2001:db8::1]:80";proto=https, for=10.0.0.7;proto=http';
    assert.deepEqual(trust.client(req('10.0.0.1', { forwarded })), { address: '2001:db8::1', scheme: 'https' });
    // an X-Forwarded-For-writing proxy passes on whatever Forwarded the client sent: not believed
    assert.deepEqual(trust.client(req('10.0.0.1', { forwarded, 'x-forwarded-for': '198.51.100.4' })), { address: '198.51.100.4', scheme: 'http' });
    assert.equal(trust.clientAddress(req('10.0.0.1', { forwarded, 'x-forwarded-proto': 'https' })), '10.0.0.1', 'X-Forwarded-Proto alone also means X-Forwarded-*');
    assert.equal(trust.clientAddress(req('10.0.0.1', { forwarded: 'for=_hidden, for=10.0.0.7' })), '10.0.0.7');
  });

  it('reads only the right end of a long header, at most MAX_HOPS hops', () => {
    const trust = new ProxyTrust(['10.0.0.0/8']);
    const many = Array.from({ length: 100 }, () => '10.0.0.9');
    assert.equal(parseXForwarded(many.join(', '), undefined).length, MAX_HOPS);
    assert.equal(trust.clientAddress(req('10.0.0.1', { 'x-forwarded-for': ['1.2.3.4', ...many].join(', ') })), '10.0.0.9', 'hops past MAX_HOPS are not reached');
    const long = `${'1.2.3.4,'.repeat(MAX_HEADER_CHARS)}203.0.113.5`;
    assert.equal(trust.clientAddress(req('10.0.0.1', { 'x-forwarded-for': long })), '203.0.113.5');
    // a huge header costs no more than its right end
    const huge = req('10.0.0.1', { forwarded: 'for=1.1.1.1;'.repeat(100_000) });
    const start = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) trust.client(huge);
    assert.ok(Number(process.hrtime.bigint() - start) / 1e6 < 2000);
  });
});
