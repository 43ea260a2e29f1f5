export { Broker } from './broker.port';
export type { BrokerAttachment, BrokerSink, SubscribeOptions } from './broker.port';
export type {
  BrokerEvent,
  BrokerMessage,
  BrokerReset,
  BrokerStats,
  LatestEvents,
  PublishOptions,
  PublishRequest,
  PublishResult,
  ResetReason,
  TopicHistoryInfo,
} from './broker.types';
export { LATEST_MAX_TOPICS } from './broker.types';
export { BrokerError, BrokerErrorCode } from './broker.errors';
export { idempotencyRecordName } from './idempotency.key';
export type { IdempotencyKey, IdempotencyNamespace, IdempotencyScope } from './idempotency.key';
export { BrokerModule, BROKER_MODULE_OPTIONS } from './broker.module';
export type {
  BrokerModuleOptions,
  MemoryBrokerModuleOptions,
  RedisBrokerModuleOptions,
} from './broker.options';
export { createBroker } from './broker.factory';
export { DEFAULT_MAX_IDEMPOTENCY_KEYS, InMemoryBroker } from './adapters/in-memory.broker';
export type { InMemoryBrokerOptions } from './adapters/in-memory.broker';
export { RedisBroker } from './adapters/redis/redis.broker';
export type { RedisBrokerOptions } from './adapters/redis/redis.broker';
export {
  DEFAULT_REDIS_KEY_PREFIX,
  RedisKeys,
  eventIdentity as redisEventIdentity,
} from './adapters/redis/redis.keys';
export {
  MAX_PARTITIONS,
  RedisKeyspace,
  partitionTags,
  slotOf,
} from './adapters/redis/redis.partitions';
export { BrokerHealthIndicator } from './broker.health';
export { HistoryPolicies } from './history.policies';
export type { HistoryPolicy, HistoryPolicyRule } from './history.policies';
