import type { RedisConnectionOptions } from '@herald/redis';

/** Options of {@link ClusterModule}, discriminated on `driver`. */
export type ClusterModuleOptions =
  | { readonly driver: 'local'; readonly instanceId: string }
  | {
      readonly driver: 'redis';
      readonly instanceId: string;
      readonly redis: RedisConnectionOptions;
      readonly keyPrefix: string;
      readonly heartbeatMs?: number;
    };
