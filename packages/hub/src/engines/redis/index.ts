export {redisEngine} from './redis-engine.js';
export type {RedisEngine, RedisEngineOptions} from './redis-engine.js';
export {RedisTopicLog} from './redis-topic-log.js';
export type {RedisTopicLogOptions} from './redis-topic-log.js';
export {RedisBackplane} from './redis-backplane.js';
export type {OutboxOptions, RedisBackplaneOptions} from './redis-backplane.js';
export {RedisConnection} from './redis-connection.js';
export type {Listener, RedisConnectionOptions} from './redis-connection.js';
export {RedisKeys} from './keys.js';
