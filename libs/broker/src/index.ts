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
export type { IdempotencyKey, IdempotencyNamespace, IdempotencyScope } from './idempotency.key';
export { BrokerModule } from './broker.module';
export type {
  BrokerModuleOptions,
  MemoryBrokerModuleOptions,
  RedisBrokerModuleOptions,
} from './broker.options';
export { BrokerHealthIndicator } from './broker.health';
export { HistoryPolicies } from './history.policies';
export type { HistoryPolicy, HistoryPolicyRule } from './history.policies';
