export * from './codes.js';
export * from './channel.js';
export * from './messages.js';
export * from './codec.js';
export * from './cursor.js';
export * from './payload.js';
export * from './inbox.js';
export * from './preferences.js';
