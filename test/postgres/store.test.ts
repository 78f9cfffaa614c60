import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresStore, MIGRATIONS } from '@tidings/postgres';
import { StoreUnavailableError } from '@tidings/server';
import { digestConformance } from '@tidings/server/digest-conformance';
import { storeConformance } from '@tidings/server/store-conformance';
import { PostgresProcess, postgresAvailability } from '../helpers/postgres.js';

const availability = postgresAvailability();
let server: PostgresProcess | undefined;
let databases = 0;

/** A store on a database of its own, migrated. */
async function freshStore(): Promise<{ store: PostgresStore; url: string }> {
  const url = await server!.freshDatabase(`conformance_${++databases}`);
  return { store: await PostgresStore.open({ url, poolSize: 8 }), url };
}

describe('PostgreSQL store', { skip: availability.skip }, () => {
  before(async () => {
    server = await PostgresProcess.start();
  });
  after(async () => {
    await server?.destroy();
  });

  const postgres = async () => {
    const { store, url } = await freshStore();
    return { store, second: () => PostgresStore.open({ url, poolSize: 8 }), cleanup: async () => {} };
  };
  storeConformance('postgres', postgres);
  digestConformance('postgres', postgres);

  it('migrates once when three stores start at once on an empty database', async () => {
    const url = await server!.freshDatabase('migrate_race');
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open({ url })));
    assert.deepEqual(stores.map((s) => s.migrationsApplied.length).sort(), [0, 0, MIGRATIONS.length], 'one store applied every migration, the others none');
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const versions = (await check.query<{ version: number }>('SELECT version FROM tidings_migrations ORDER BY version')).rows.map((r) => r.version);
    await check.end();
    assert.deepEqual(versions, MIGRATIONS.map((_, i) => i + 1));
    const again = await PostgresStore.open({ url });
    assert.deepEqual(again.migrationsApplied, [], 'a restart finds nothing to do');
    await Promise.all([...stores, again].map((s) => s.close()));
  });

  it('cancels a statement over the statement timeout with StoreUnavailableError, and the pool goes on', async () => {
    const url = await server!.freshDatabase('slow');
    const store = await PostgresStore.open({ url, statementTimeout: 300 });
    const { notifications } = await store.create(['s'], { type: 't', payload: 1 }, { now: 1000 });
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT * FROM notifications FOR UPDATE');
    const started = Date.now();
    await assert.rejects(store.mark('s', [notifications[0]!.id], { read: true }, 2000), StoreUnavailableError);
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 3000, `cancelled after the timeout, not before or much later: ${waited} ms`);
    await locker.query('ROLLBACK');
    await locker.end();
    assert.equal((await store.mark('s', [notifications[0]!.id], { read: true }, 2000)).length, 1);
    await store.close();
  });

  it('answers StoreUnavailableError while PostgreSQL is stopped, and works again when it returns', async () => {
    const url = await server!.freshDatabase('outage');
    const changes: boolean[] = [];
    const watched = await PostgresStore.open({ url, connectTimeout: 1000, onStatus: (up) => changes.push(up) });
    await watched.create(['d'], { type: 't', payload: 1 }, { now: 1000 });
    await server!.stop();
    await assert.rejects(watched.unreadCount('d', 2000), StoreUnavailableError);
    await assert.rejects(watched.create(['d'], { type: 't', payload: 2 }, { now: 1000 }), StoreUnavailableError);
    await server!.start();
    assert.equal(await watched.unreadCount('d', 2000), 1, 'the pool reconnected by itself');
    assert.deepEqual(changes, [false, true]);
    await watched.close();
  });
});
