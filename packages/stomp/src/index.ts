export * from './frame.js';
export { StompParseError, type StompParseErrorCode } from './errors.js';
export { escapeHeader, unescapeHeader } from './escape.js';
export * from './parser.js';
export * from './serializer.js';
export * from './negotiate.js';
