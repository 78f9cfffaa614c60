export { RedisEngine, type RedisEngineOptions, type RedisClient } from './engine.js';
export { Sequencer, type GapReader } from './sequencer.js';
export { RedisQueueLog, GROUP as QUEUE_GROUP, type RedisQueueLogOptions } from './queues.js';
