export { ClusterBus } from './cluster.port';
export { ClusterError, ClusterErrorCode } from './cluster.errors';
export type { ClusterAnswer, ClusterResponder } from './cluster.port';
export { ClusterModule, createClusterBus } from './cluster.module';
export type { ClusterModuleOptions } from './cluster.options';
export { LocalClusterBus } from './adapters/local.cluster-bus';
export { RedisClusterBus } from './adapters/redis.cluster-bus';
export type { RedisClusterBusOptions } from './adapters/redis.cluster-bus';
