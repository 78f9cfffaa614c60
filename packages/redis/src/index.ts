export { RedisEngine, type RedisEngineOptions, type RedisClient } from './engine.js';
export { Sequencer, type GapReader } from './sequencer.js';
