import { Cluster, Redis } from 'ioredis';
import { RedisEngine } from '@tidings/redis';
import { join } from 'node:path';
import { PinoPretty } from 'pino-pretty';
import { SqliteStore, TidingsNode, createLogger, type Engine, type Logger, type NotificationStore } from '@tidings/server';
import type { ServeConfig } from './config.js';

interface EngineSetup { engine?: Engine; close(): void }

function createEngine(config: ServeConfig, log: Logger): EngineSetup {
  if (config.engine === 'memory') return { close: () => {} };
  // fail fast while Redis is away (the engine answers 503) instead of queueing commands; a command
  // unanswered for commandTimeout ms is an unknown outcome (504) and stalls the engine until a PING is answered
  const options = { maxRetriesPerRequest: 1, commandTimeout: 5000, retryStrategy: (n: number) => Math.min(100 * n, 2000) };
  const client = config.redisCluster.length > 0
    ? new Cluster(config.redisCluster, { shardedSubscribers: true, redisOptions: options, clusterRetryStrategy: options.retryStrategy })
    : new Redis(config.redisUrl, options);
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) log.warn('engine down: redis unavailable', { engine: 'redis', err: err.message });
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info('engine up: redis reconnected', { engine: 'redis' });
    down = false;
  });
  return { engine: new RedisEngine({ client, prefix: config.redisPrefix }), close: () => client.disconnect() };
}

/**
 * The configured store; undefined for `memory` (the node's default). PostgreSQL is connected and
 * migrated first: rejects with StoreUnavailableError when it cannot be reached.
 */
async function createStore(config: ServeConfig, log: Logger): Promise<{ store?: NotificationStore; where: string }> {
  if (config.store === 'sqlite') return { store: new SqliteStore(join(config.dataDir, 'tidings.db')), where: join(config.dataDir, 'tidings.db') };
  if (config.store === 'memory' || !config.postgres) return { where: 'memory' };
  // loaded only when used: nodes on SQLite or memory start without pg
  const { PostgresStore } = await import('@tidings/postgres');
  const store = await PostgresStore.open({
    ...config.postgres,
    onStatus: (up, err) => {
      if (up) log.info('store up: postgres reachable again', { store: 'postgres' });
      else log.warn('store down: postgres unavailable; the notification API answers 503 (120) until it returns', { store: 'postgres', err: err?.message });
    },
  });
  if (store.migrationsApplied.length > 0) log.info('store migrated', { store: 'postgres', versions: store.migrationsApplied });
  return { store, where: 'postgres' };
}

/** Starts a node and wires SIGTERM/SIGINT to a graceful shutdown. Resolves once listening. */
export async function serve(config: ServeConfig): Promise<TidingsNode> {
  const log = config.logFormat === 'pretty'
    ? createLogger(config.logLevel, PinoPretty({ destination: 2, sync: true, colorize: process.stderr.isTTY, translateTime: 'SYS:HH:MM:ss.l' }))
    : createLogger(config.logLevel);
  const engine = createEngine(config, log);
  const { store, where } = await createStore(config, log);
  const node = new TidingsNode({ ...config.server, logger: log, ...(engine.engine ? { engine: engine.engine } : {}), ...(store ? { store } : {}) });
  const addr = await node.listen(config.port, config.host);
  log.info('listening', { node: node.id, host: addr.address, port: addr.port, engine: node.engine.name, store: where, version: '0.1.0' });
  if (!config.server.apiKey) log.warn('the server API is disabled: set --api-key or TIDINGS_API_KEY to enable /api/*');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('shutting down', { signal, connections: node.connections });
    const force = setTimeout(() => {
      log.error('shutdown took too long: exiting');
      process.exit(1);
    }, (node.options.shutdownTimeout + 5) * 1000);
    force.unref();
    node.close().then(
      () => {
        engine.close();
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return node;
}
