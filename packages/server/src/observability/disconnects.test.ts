import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CloseCode } from '@tidings/protocol';
import { createLogger } from '../log.js';
import { Disconnects } from './disconnects.js';
import { LINES_PER_WINDOW, LOG_WINDOW_MS } from './log-budget.js';

function setup(): { disconnects: Disconnects; lines: Array<Record<string, unknown>>; clock: { now: number } } {
  const lines: Array<Record<string, unknown>> = [];
  const clock = { now: 5_000_000 };
  const log = createLogger('debug', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  return { disconnects: new Disconnects(log, () => clock.now), lines, clock };
}

const who = { transport: 'websocket', client: 'c1', user: 'u1', reason: 'slow consumer: outbound queue over its limit' };

it('logs slow consumers cut off at info, at most the budget per window, then one summary', () => {
  const { disconnects, lines, clock } = setup();
  for (let i = 0; i < 25; i++) disconnects.closing({ ...who, code: CloseCode.Slow });
  const slow = lines.filter((l) => l.msg === 'slow consumer disconnected');
  assert.equal(slow.length, LINES_PER_WINDOW);
  assert.deepEqual([slow[0]!.level, slow[0]!.transport, slow[0]!.client, slow[0]!.user, slow[0]!.code], ['info', 'websocket', 'c1', 'u1', 3001]);
  disconnects.flush();
  assert.equal(lines.filter((l) => l.msg === 'disconnects suppressed').length, 0, 'not before the window is over');
  clock.now += LOG_WINDOW_MS;
  disconnects.flush();
  assert.deepEqual(lines.filter((l) => l.msg === 'disconnects suppressed').map((l) => [l.kind, l.suppressed, l.seconds]), [['slow', 15, 10]]);
  disconnects.closing({ ...who, code: CloseCode.Slow });
  assert.equal(lines.at(-1)!.msg, 'slow consumer disconnected', 'a new window logs again');
});

it('logs forced disconnects at info under their own budget, other closes at debug', () => {
  const { disconnects, lines } = setup();
  for (let i = 0; i < LINES_PER_WINDOW; i++) disconnects.closing({ ...who, code: CloseCode.Slow });
  disconnects.closing({ ...who, code: CloseCode.ForceDisconnect, reason: 'disconnected by the server' });
  assert.deepEqual([lines.at(-1)!.msg, lines.at(-1)!.level], ['forced disconnect', 'info'], 'slow consumers do not use up its budget');
  disconnects.closing({ ...who, code: CloseCode.Shutdown, reason: 'server shutting down' });
  assert.deepEqual([lines.at(-1)!.msg, lines.at(-1)!.level, lines.at(-1)!.code], ['disconnecting', 'debug', 3000]);
});
