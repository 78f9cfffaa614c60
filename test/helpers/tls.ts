/**
 * Self-signed certificates made at run time with `openssl`, and HTTPS clients that verify them
 * (the test passes the certificate as the only CA).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { FetchLike, FetchLikeResponse } from 'eventsource';

/** Whether `openssl` runs here (the TLS tests need it; `.ci/run` installs it). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Certificate {
  certFile: string;
  keyFile: string;
  /** PEM text of the certificate (also the CA that verifies it). */
  cert: string;
  /** SHA-256 fingerprint as node:tls reports it (`AB:CD:…`). */
  fingerprint: string;
}

/**
 * A new self-signed EC P-256 certificate for `localhost` and 127.0.0.1, valid for a day, in a fresh
 * temporary directory (or as `cert.pem`/`key.pem` in `dir`, replacing what is there).
 */
export function selfSigned(dir = mkdtempSync(join(tmpdir(), 'tidings-tls-')), name = 'tidings-test'): Certificate {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const cert = readFileSync(certFile, 'utf8');
  return { certFile, keyFile, cert, fingerprint: new X509Certificate(cert).fingerprint256 };
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The SHA-256 fingerprint of the certificate the server presented. */
  fingerprint: string;
}

/** One HTTPS request verifying the server against `ca` only (a fresh connection each time). */
export function httpsRequest(url: string, ca: string | string[], init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, ca, agent: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, fingerprint }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A `fetch` for the `eventsource` package over node:https, trusting only `ca`. */
export function verifyingFetch(ca: string): FetchLike {
  return (url, init) => new Promise<FetchLikeResponse>((resolve, reject) => {
    const req = request(String(url), { method: 'GET', headers: init.headers, ca, agent: false }, (res) => {
      const headers = res.headers;
      resolve({
        url: String(url),
        status: res.statusCode ?? 0,
        redirected: false,
        headers: { get: (name: string) => { const v = headers[name.toLowerCase()]; return Array.isArray(v) ? v.join(', ') : v ?? null; } },
        body: Readable.toWeb(res) as ReadableStream<Uint8Array>,
      });
    });
    const signal = init.signal as AbortSignal | undefined;
    signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
    req.on('error', reject);
    req.end();
  });
}
