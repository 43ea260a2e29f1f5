import { InMemoryBroker } from './adapters/in-memory.broker';
import { RedisBroker } from './adapters/redis/redis.broker';
import type { Broker } from './broker.port';
import type { BrokerModuleOptions } from './broker.options';

/** Builds the adapter named by `options.driver`. */
export function createBroker(options: BrokerModuleOptions): Broker {
  switch (options.driver) {
    case 'memory':
      return new InMemoryBroker({
        historySize: options.historySize,
        historyTtlMs: options.historyTtlMs,
        historyPolicies: options.historyPolicies,
        maxIdempotencyKeys: options.maxIdempotencyKeys,
      });
    case 'redis':
      return new RedisBroker({
        redis: options.redis,
        keyPrefix: options.keyPrefix,
        minReplicasAck: options.minReplicasAck,
        replicasAckTimeoutMs: options.replicasAckTimeoutMs,
        partitions: options.partitions,
        historySize: options.historySize,
        historyTtlMs: options.historyTtlMs,
        historyPolicies: options.historyPolicies,
      });
  }
}
