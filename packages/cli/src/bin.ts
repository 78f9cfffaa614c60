#!/usr/bin/env node
import { EngineUnavailableError, StoreUnavailableError } from '@tidings/server';
import { ConfigError, loadConfig } from './config.js';
import { serve } from './serve.js';
import { helpText } from './settings.js';
import { VERSION } from './version.js';

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
    process.stdout.write(helpText());
    return;
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (command !== 'serve') {
    process.stderr.write(`tidings: unknown command ${JSON.stringify(command)}; try \`tidings serve --help\`\n`);
    process.exit(2);
  }
  let config;
  try {
    config = loadConfig(rest, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) process.stderr.write(`tidings: invalid setting ${problem}\n`);
      process.exit(2);
    }
    throw err;
  }
  try {
    await serve(config);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES') {
      process.stderr.write(`tidings: invalid setting --port: cannot listen on ${config.host}:${config.port} (${e.code})\n`);
      process.exit(2);
    }
    if (err instanceof EngineUnavailableError) {
      process.stderr.write(`tidings: ${err.message} (--redis-url ${withoutPassword(config.redisUrl)})\n`);
      process.exit(1);
    }
    if (err instanceof StoreUnavailableError) {
      process.stderr.write(`tidings: ${err.message} (--postgres-url ${withoutPassword(config.postgres?.url ?? '')})\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** A Redis or PostgreSQL URL fit to print: its password replaced. */
function withoutPassword(url: string): string {
  return url.replace(/\/\/([^/@]*):[^/@]*@/, '//$1:[redacted]@');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`tidings: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
