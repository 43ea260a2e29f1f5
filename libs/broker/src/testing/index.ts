export { describeBrokerContract } from './broker.contract';
export type { BrokerFactory, ContractBrokerOptions } from './broker.contract';
export { InMemoryBroker } from '../adapters/in-memory.broker';
export { RedisBroker } from '../adapters/redis/redis.broker';
export type { RedisBrokerOptions } from '../adapters/redis/redis.broker';
export { RedisKeys, eventIdentity as redisEventIdentity } from '../adapters/redis/redis.keys';
export { RedisKeyspace, slotOf } from '../adapters/redis/redis.partitions';
