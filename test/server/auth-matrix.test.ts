/**
 * The auth matrix: every kind of credentials (rows) against every client transport (columns).
 * Each cell has one expected outcome, derived by `expected(row, column)` from the rules in
 * docs/security.md; the cell asserts exactly that outcome, and that a client got the publication
 * when allowed and no publication at all when refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import {
  emulationSession, emulationStateless, forgedSession, poll, sse, stompTcp, stompWs, stompWsCookie, stream, wsCommand, wsHandshake,
  type Creds, type Probe, type ProbeResult,
} from '../helpers/auth-probes.js';
import { JWT_SECRET, freePort, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';

const ALLOWED_ORIGIN = 'https://app.example';
const SECRET = new TextEncoder().encode(JWT_SECRET);

interface Column {
  name: string;
  probe: Probe;
  /**
   * Where credentials are checked, which decides how a refusal shows: a JSON command (`ws`), the
   * HTTP handshake of a JSON (`ws-handshake`) or STOMP (`stomp-handshake`) WebSocket, STOMP's
   * CONNECT (`stomp`), the request opening a one-way stream (`stream`), a poll (`poll`), a
   * session-less `/emulation` request (`emulation`), or `/emulation` in a stream's session (`session`).
   */
  kind: 'ws' | 'ws-handshake' | 'stomp' | 'stomp-handshake' | 'stream' | 'poll' | 'emulation' | 'session';
  /** Browsers send Origin here (every transport but STOMP over TCP). */
  origin: boolean;
}

const columns: Column[] = [
  { name: 'ws', probe: wsCommand, kind: 'ws', origin: true },
  { name: 'ws?connect=1', probe: wsHandshake, kind: 'ws-handshake', origin: true },
  { name: 'stomp-ws', probe: stompWs, kind: 'stomp', origin: true },
  { name: 'stomp-ws cookie', probe: stompWsCookie, kind: 'stomp-handshake', origin: true },
  { name: 'stomp-tcp', probe: stompTcp, kind: 'stomp', origin: false },
  { name: 'sse', probe: sse, kind: 'stream', origin: true },
  { name: 'stream', probe: stream, kind: 'stream', origin: true },
  { name: 'poll', probe: poll, kind: 'poll', origin: true },
  { name: 'emulation', probe: emulationStateless, kind: 'emulation', origin: true },
  { name: 'emu+session', probe: emulationSession, kind: 'session', origin: true },
];

/** Why a row is refused; `expiry`: allowed, then cut off when the token expires. */
type Refusal = { token: 101 | 109 } | 'permission' | 'origin' | 'forged' | 'expiry';

interface Row {
  name: string;
  /** The JWT the client presents; none when absent. */
  token?: () => Promise<string>;
  /** The browser Origin the client sends; none when absent. */
  origin?: () => string;
  target: string;
  /** undefined: allowed everywhere. */
  refusal?: Refusal;
  /** The server started with `--allowed-origins` instead of the default (same origin only). */
  allowlist?: boolean;
}

const alice = (): Promise<string> => makeToken('alice');
let mainPort = 0;

const rows: Row[] = [
  { name: 'alice, own channel', token: alice, target: 'user:alice' },
  { name: 'anonymous, open channel', target: 'open:lobby' },
  { name: 'anonymous, auth channel', target: 'private:room', refusal: 'permission' },
  { name: 'expired token', token: () => makeToken('alice', { expiresIn: -60 }), target: 'user:alice', refusal: { token: 109 } },
  { name: 'other secret', token: () => makeToken('alice', { secret: 'another-secret-that-is-long-enough-for-hs256' }), target: 'user:alice', refusal: { token: 101 } },
  { name: 'alg none', token: async () => unsignedToken('alice'), target: 'user:alice', refusal: { token: 101 } },
  { name: 'no sub claim', token: () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(SECRET), target: 'user:alice', refusal: { token: 101 } },
  { name: 'not yet valid (nbf)', token: () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setNotBefore('1 min from now').sign(SECRET), target: 'user:alice', refusal: { token: 101 } },
  { name: 'expires while connected', token: () => makeToken('alice', { expiresIn: 3 }), target: 'user:alice', refusal: 'expiry' },
  { name: "bob, alice's channel", token: () => makeToken('bob'), target: 'user:alice', refusal: 'permission' },
  { name: 'channels claim, granted', token: () => makeToken('carol', { channels: ['user:alice'] }), target: 'user:alice' },
  { name: 'channels claim, other', token: () => makeToken('carol', { channels: ['user:alice'] }), target: 'user:dave', refusal: 'permission' },
  { name: 'same Origin', token: alice, origin: () => `http://127.0.0.1:${mainPort}`, target: 'user:alice' },
  { name: 'foreign Origin', token: alice, origin: () => 'https://evil.example', target: 'user:alice', refusal: 'origin' },
  { name: 'listed Origin', token: alice, origin: () => ALLOWED_ORIGIN, target: 'user:alice', allowlist: true },
  { name: 'unlisted Origin', token: alice, origin: () => 'https://evil.example', target: 'user:alice', refusal: 'origin', allowlist: true },
  { name: 'forged session', target: 'user:alice', refusal: 'forged' },
];

/** `alg: none`: header {"alg":"none"}, the claims, an empty signature. */
function unsignedToken(sub: string): string {
  const part = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub, iat: Math.floor(Date.now() / 1000) })}.`;
}

/** A forged session is answered exactly like an unknown one: 404 with code 114, before any command runs. */
const FORGED_REFUSED = 'http 404/114';

/** `allowed`, `n/a` (the row does not apply), an exact refusal outcome, or a pattern of refusals. */
type Expected = string | RegExp;

/** The one rule book: what each row gets on each column. */
function expected(row: Row, col: Column): Expected {
  if (row.refusal === 'forged') return col.kind === 'session' ? FORGED_REFUSED : 'n/a';
  if (row.origin && !col.origin) return 'n/a';
  const refusal = row.refusal;
  if (refusal === undefined) return 'allowed';
  if (refusal === 'origin') return 'http 403/103';
  if (refusal === 'permission') {
    switch (col.kind) {
      case 'ws': case 'emulation': case 'session': return 'error 103';
      case 'stomp': case 'stomp-handshake': return 'ERROR 103, close 3503';
      default: return 'http 403/103';
    }
  }
  if (refusal === 'expiry') {
    switch (col.kind) {
      case 'ws': case 'ws-handshake': return 'allowed, then close 3005';
      case 'stomp': case 'stomp-handshake': return 'allowed, then ERROR 109, close 3005';
      case 'stream': case 'session': return 'allowed, then disconnect 3005';
      case 'poll': return 'allowed, then http 401/109';
      case 'emulation': return 'http 401/109';
    }
  }
  const code = refusal.token;
  const close = code === 109 ? 3005 : 3500;
  switch (col.kind) {
    case 'ws': return `error ${code}, close ${close}`;
    case 'stomp': return `ERROR ${code}, close ${close}`;
    default: return `http 401/${code}`;
  }
}

/** Resolves after the token's `exp` (plus a margin), at once for a token without one. */
async function pastExpiry(token: string | undefined): Promise<void> {
  const payload = token ? JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: number } : {};
  if (payload.exp !== undefined) await new Promise((r) => setTimeout(r, Math.max(0, payload.exp! * 1000 + 400 - Date.now())));
}

interface Cell {
  row: Row;
  col: Column;
  want: Expected;
  got?: ProbeResult;
  failure?: string;
}

function check(cell: Cell, marker: string): string | undefined {
  const { got, want } = cell;
  if (!got) return 'not run';
  const problems: string[] = [];
  const outcomeOk = typeof want === 'string' ? got.outcome === want : want.test(got.outcome);
  if (!outcomeOk) problems.push(`got ${got.outcome}, want ${String(want)}`);
  const delivered = got.received.some((d) => typeof d === 'object' && d !== null && (d as { marker?: unknown }).marker === marker);
  if (want === 'allowed' && !delivered) problems.push('the publication never arrived');
  // Expiry rows were allowed for a while: other cells' publications from then may arrive, the cell's own (after expiry) not.
  const leaked = cell.row.refusal === 'expiry' ? delivered : got.received.length > 0;
  if (want !== 'allowed' && leaked) problems.push(`leaked ${JSON.stringify(got.received).slice(0, 120)}`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** A compact grid: one line per row, one mark per column (✓ pass, ✗ fail, · n/a). */
function summary(cells: Cell[]): string {
  const width = Math.max(...rows.map((r) => r.name.length));
  const head = `${' '.repeat(width)}  ${columns.map((c) => c.name).join(' | ')}`;
  const lines = rows.map((row) => `${row.name.padEnd(width)}  ${columns.map((col) => {
    const cell = cells.find((c) => c.row === row && c.col === col)!;
    const mark = cell.want === 'n/a' ? '·' : cell.failure ? '✗' : '✓';
    return mark.padEnd(col.name.length);
  }).join(' | ')}`);
  const failures = cells.filter((c) => c.failure).map((c) => `  ${c.row.name} × ${c.col.name}: ${c.failure}`);
  return [head, ...lines, ...(failures.length ? ['failures:', ...failures] : [])].join('\n');
}

describe('auth matrix: credentials × transports', () => {
  let main: TidingsProcess;
  let listed: TidingsProcess;
  let stompPort = 0;
  let listedStompPort = 0;
  const cells: Cell[] = rows.flatMap((row) => columns.map((col) => ({ row, col, want: expected(row, col) })));

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-authz-'));
    const config = join(dir, 'tidings.json');
    writeFileSync(config, JSON.stringify({
      namespaces: { private: { subscribe: 'authenticated', publish: true }, open: { subscribe: 'anyone' } },
    }));
    [mainPort, stompPort, listedStompPort] = await Promise.all([freePort(), freePort(), freePort()]);
    [main, listed] = await Promise.all([
      startTidings({ port: mainPort, args: ['--config', config, '--stomp-port', String(stompPort)] }),
      startTidings({ args: ['--config', config, '--stomp-port', String(listedStompPort), '--allowed-origins', ALLOWED_ORIGIN] }),
    ]);
    const todo = cells.filter((c) => c.want !== 'n/a');
    const forged = forgedSession({ token: await alice() }, 'private:room');
    const queue = [...todo];
    // A pool of 8 cells at a time: the slow ones (expiry) do not hold up a batch.
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let cell = queue.shift(); cell; cell = queue.shift()) await runCell(cell, forged);
    }));
  });

  async function runCell(cell: Cell, forged: Probe): Promise<void> {
    const { row } = cell;
    const server = row.allowlist ? listed : main;
    const marker = `${rows.indexOf(row)}x${columns.indexOf(cell.col)}`;
    const creds: Creds = { ...(row.token ? { token: await row.token() } : {}), ...(row.origin ? { origin: row.origin() } : {}) };
    const probe = row.refusal === 'forged' ? forged : cell.col.probe;
    try {
      cell.got = await probe({
        server,
        stompPort: row.allowlist ? listedStompPort : stompPort,
        creds,
        target: row.target,
        marker,
        patience: cell.want === 'allowed' ? 5000 : 300,
        publish: async () => {
          if (row.refusal === 'expiry') await pastExpiry(creds.token);
          await server.publish(row.target, { marker });
        },
      });
    } catch (err) {
      cell.got = { outcome: `threw ${err instanceof Error ? err.message : String(err)}`, received: [] };
    }
    cell.failure = check(cell, marker);
  }
  after(async () => {
    await Promise.all([main?.stop(), listed?.stop()]);
  });

  for (const row of rows) {
    describe(row.name, () => {
      for (const col of columns) {
        const want = expected(row, col);
        const title = `${col.name}: ${want === 'n/a' ? 'n/a' : typeof want === 'string' ? want : 'refused'}`;
        if (want === 'n/a') {
          it(title, { skip: row.refusal === 'forged' ? 'a session id is used on /emulation only' : 'no Origin over TCP' }, () => {});
          continue;
        }
        it(title, () => {
          const cell = cells.find((c) => c.row === row && c.col === col)!;
          assert.equal(cell.failure, undefined, cell.failure);
        });
      }
    });
  }

  it('the whole matrix passes', () => {
    assert.ok(cells.every((c) => !c.failure), `auth matrix:\n${summary(cells)}`);
  });
});
