import assert from 'node:assert/strict';
import { it } from 'node:test';
import pg from 'pg';
import { IdempotencyConflict } from '@tidings/server';
import { isUnavailable } from './store.js';

it('tells errors of reaching PostgreSQL from errors of the request', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  assert.equal(isUnavailable(refused), true);
  assert.equal(isUnavailable(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isUnavailable(new Error('timeout exceeded when trying to connect')), true);
  const shutdown = Object.assign(new pg.DatabaseError('terminating connection due to administrator command', 0, 'error'), { code: '57P01' });
  assert.equal(isUnavailable(shutdown), true);
  const canceled = Object.assign(new pg.DatabaseError('canceling statement due to statement timeout', 0, 'error'), { code: '57014' });
  assert.equal(isUnavailable(canceled), true);
  const syntax = Object.assign(new pg.DatabaseError('syntax error at or near "x"', 0, 'error'), { code: '42601' });
  assert.equal(isUnavailable(syntax), false);
  assert.equal(isUnavailable(new IdempotencyConflict('connection-timeout-terminated')), false, 'our own errors, whatever the key says');
  assert.equal(isUnavailable(new SyntaxError('Unexpected token in JSON')), false);
  assert.equal(isUnavailable('connection'), false);
});
