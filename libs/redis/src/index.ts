export { RedisConnections } from './redis.connections';
export type { RedisClient } from './redis.connections';
export { parseRedisNodeList } from './redis.options';
export type {
  ClusterRedisConnectionOptions,
  RedisClientSettings,
  RedisConnectionOptions,
  RedisNodeAddress,
  RedisRole,
  SentinelRedisConnectionOptions,
  SingleRedisConnectionOptions,
} from './redis.options';
