import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLogger } from '../log.js';
import { REFUSALS_PER_WINDOW, REFUSAL_WINDOW_MS, Refusals, reasonOf } from './refusals.js';

function setup(): { refusals: Refusals; lines: Array<Record<string, unknown>>; clock: { now: number } } {
  const lines: Array<Record<string, unknown>> = [];
  const clock = { now: 1_000_000 };
  const log = createLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  return { refusals: new Refusals(log, () => clock.now), lines, clock };
}

const who = { transport: '/sse', code: 103, message: 'origin https://x is not allowed' };

it('logs up to the budget per reason and window, then one summary of the rest', () => {
  const { refusals, lines, clock } = setup();
  for (let i = 0; i < 25; i++) refusals.refused('origin', who);
  refusals.refused('auth', { ...who, code: 101 });
  assert.equal(lines.filter((l) => l.reason === 'origin').length, REFUSALS_PER_WINDOW);
  assert.equal(lines.filter((l) => l.reason === 'auth').length, 1, 'each reason has its own budget');
  assert.equal(lines[0]!.level, 'info');
  refusals.flush();
  assert.equal(lines.filter((l) => l.msg === 'refusals suppressed').length, 0, 'not before the window is over');
  clock.now += REFUSAL_WINDOW_MS;
  refusals.flush();
  assert.deepEqual(lines.filter((l) => l.msg === 'refusals suppressed').map((l) => [l.reason, l.suppressed, l.seconds]), [['origin', 15, 10]]);
  refusals.refused('origin', who);
  assert.equal(lines.at(-1)!.msg, 'refused', 'a new window logs again');
});

it('logs the path of a request, never its query, and clips long fields', () => {
  const { refusals, lines } = setup();
  refusals.request('auth', { url: '/sse?token=secret.jwt.value', headers: { 'user-agent': 'x'.repeat(500), cookie: 'tidings_token=abc' } }, 101, 'invalid token');
  assert.equal(lines[0]!.transport, '/sse');
  assert.equal((lines[0]!.userAgent as string).length, 201);
  assert.ok(!JSON.stringify(lines).includes('secret') && !JSON.stringify(lines).includes('abc'));
  refusals.request(reasonOf(100), { url: '/api/publish', headers: {} }, 100, 'internal error');
  assert.equal(lines.length, 1, 'server failures are no refusals');
});
