export { Broker } from './broker.port';
export type { BrokerAttachment, BrokerSink, SubscribeOptions } from './broker.port';
export type {
  BrokerEvent,
  BrokerMessage,
  BrokerReset,
  BrokerStats,
  PublishOptions,
  PublishRequest,
  PublishResult,
  ResetReason,
} from './broker.types';
export { BrokerError, BrokerErrorCode } from './broker.errors';
export { BrokerModule, BROKER_MODULE_OPTIONS } from './broker.module';
export type { BrokerModuleOptions, MemoryBrokerModuleOptions } from './broker.options';
export { createBroker } from './broker.factory';
export { InMemoryBroker } from './adapters/in-memory.broker';
export type { InMemoryBrokerOptions } from './adapters/in-memory.broker';
export { BrokerHealthIndicator } from './broker.health';
