export { TidingsNode, type TidingsNodeInit } from './node.js';
export * from './options.js';
export * from './engine/engine.js';
export { MemoryEngine, newEpoch } from './engine/memory.js';
export { TokenVerifier, AuthError, type Credentials } from './auth/jwt.js';
export { ChannelPolicy, type Principal } from './channels.js';
export { TidingsError } from './errors.js';
export { createLogger, LOG_LEVELS, type Logger, type LogLevel } from './log.js';
export type { Transport } from './transports/transport.js';
