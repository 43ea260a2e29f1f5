export { ClusterBus } from './cluster.port';
export { ClusterError, ClusterErrorCode } from './cluster.errors';
export type {
  ClusterAnswer,
  ClusterPayload,
  ClusterQueries,
  ClusterQuery,
  ClusterReply,
  ClusterResponder,
} from './cluster.port';
export { ClusterModule } from './cluster.module';
export type { ClusterModuleOptions } from './cluster.options';
export { RedisClusterBus } from './adapters/redis.cluster-bus';
export type { RedisClusterBusOptions } from './adapters/redis.cluster-bus';
