import { Cluster, Redis } from 'ioredis';
import { RedisEngine, RedisQueueLog } from '@tidings/redis';
import { join } from 'node:path';
import { PinoPretty } from 'pino-pretty';
import { LOG_LEVELS, SqliteStore, TidingsNode, createLogger, type Engine, type Logger, type NotificationStore, type SharedQueueLog } from '@tidings/server';
import { bannerText, startupReport } from './banner.js';
import { readTlsPair, type ServeConfig, type TlsFiles } from './config.js';
import { VERSION } from './version.js';

interface EngineSetup { engine?: Engine; queueLog?: SharedQueueLog; close(): void }

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
  // STOMP queues on Streams, read on their own duplicated connection (blocking XREADGROUP)
  const queueLog = new RedisQueueLog({ client, prefix: config.redisPrefix });
  return { engine: new RedisEngine({ client, prefix: config.redisPrefix }), queueLog, close: () => client.disconnect() };
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


/**
 * SIGHUP: rereads the certificate and key and serves new TLS connections with them; open ones keep
 * theirs. A pair that cannot be read or does not fit keeps the old certificate and logs an error
 * (file names and OpenSSL's reason; never the key).
 */
function reloadCertificate(node: TidingsNode, files: TlsFiles, log: Logger): void {
  try {
    node.setCertificate(readTlsPair(files));
    log.info('certificate reloaded', { cert: files.cert });
  } catch (err) {
    log.error('certificate reload failed: keeping the previous certificate', { cert: files.cert, keyFile: files.key, err: (err as Error).message });
  }
}

/** Starts a node and wires SIGTERM/SIGINT to a graceful shutdown and SIGHUP to a certificate reload (with TLS). Resolves once listening. */
export async function serve(config: ServeConfig): Promise<TidingsNode> {
  const log = config.logFormat === 'pretty'
    ? createLogger(config.logLevel, PinoPretty({ destination: 2, sync: true, colorize: process.stderr.isTTY, translateTime: 'SYS:HH:MM:ss.l' }))
    : createLogger(config.logLevel);
  const engine = createEngine(config, log);
  const { store, where } = await createStore(config, log);
  const node = new TidingsNode({ ...config.server, logger: log, ...(engine.engine ? { engine: engine.engine } : {}),
    ...(engine.queueLog ? { queueLog: engine.queueLog } : {}), ...(store ? { store } : {}) });
  const addr = await node.listen(config.port, config.host);
  const report = startupReport(config, { http: addr, stomp: node.stomp.address(), metrics: node.metricsAddress() }, VERSION);
  if (config.logFormat === 'pretty') {
    // a banner for a person at a terminal, when the level would show the `listening` line
    const level = LOG_LEVELS.indexOf(config.logLevel);
    if (level <= LOG_LEVELS.indexOf('info')) process.stderr.write(bannerText(report));
    else if (level <= LOG_LEVELS.indexOf('warn')) for (const w of report.warnings) log.warn(w.message, { setting: w.setting });
  } else {
    log.info('listening', {
      node: node.id, host: addr.address, port: addr.port, tls: node.secure, engine: node.engine.name, store: where, version: VERSION,
      endpoints: Object.fromEntries(report.endpoints.map((e) => [e.name, e.url])),
    });
    for (const w of report.warnings) log.warn(w.message, { setting: w.setting });
  }

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
  const tlsFiles = config.tlsFiles;
  if (tlsFiles) process.on('SIGHUP', () => reloadCertificate(node, tlsFiles, log));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return node;
}
