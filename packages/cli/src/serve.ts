import { TidingsNode, createLogger } from '@tidings/server';
import type { ServeConfig } from './config.js';

/** Starts a node and wires SIGTERM/SIGINT to a graceful shutdown. Resolves once listening. */
export async function serve(config: ServeConfig): Promise<TidingsNode> {
  const log = createLogger(config.logLevel);
  const node = new TidingsNode({ ...config.server, logger: log });
  const addr = await node.listen(config.port, config.host);
  log.info('listening', { host: addr.address, port: addr.port, engine: node.engine.name, version: '0.1.0' });
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
