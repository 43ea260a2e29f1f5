import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type {
  RedisClientSettings,
  RedisConnectionOptions,
  RedisNodeAddress,
  RedisRole,
} from './redis.options';

/** A connection to Herald's Redis: one node (or Sentinel's primary), or a Cluster. */
export type RedisClient = Redis | Cluster;

/** Reconnect delay: 100 ms, 200 ms, ... capped at 1 s, forever. */
const retryDelay = (times: number): number => Math.min(100 * times, 1000);

/** A replica that was primary answers READONLY after a failover: reconnect to the new primary. */
const reconnectOnReadonly = (err: Error): 1 | false =>
  err.message.startsWith('READONLY') ? 1 : false;

/**
 * The one place where Herald's Redis connections are made: URL, TLS, credentials, retry policy,
 * offline queue and mode (single node, Cluster, Sentinel). Roles:
 * - `commands`: no offline queue (fails fast while Redis is away), and no automatic resend of a
 *   command whose reply was lost (a write may have run: resending it could store it twice); on
 *   Cluster, no resend after a closed connection either.
 * - `subscriber`: queues while reconnecting and resubscribes (`SUBSCRIBE`, and `SSUBSCRIBE`
 *   through one connection per primary on Cluster).
 * - `blocking`: long reads (`XREADGROUP BLOCK`), queued while reconnecting, never retried.
 * Commands and blocking reads in flight when a connection closes fail at once
 * (`maxRetriesPerRequest: 0`): without a resend, ioredis would otherwise drop them on the
 * reconnect and leave their promises pending forever.
 */
export class RedisConnections {
  constructor(readonly options: RedisConnectionOptions) {}

  /** True when connected to a Redis Cluster (keys of one command must share a hash slot). */
  get isCluster(): boolean {
    return this.options.mode === 'cluster';
  }

  /** A new client for `role` (connects at once; listen to `error` to keep it from throwing). */
  create(role: RedisRole, settings: RedisClientSettings): RedisClient {
    const node = this.nodeOptions(role, settings);
    const o = this.options;
    switch (o.mode) {
      case 'single':
        return new Redis(o.url, {
          ...this.credentials(),
          ...node,
          ...this.queueing(role, settings),
        });
      case 'sentinel':
        return new Redis({
          ...this.credentials(),
          ...node,
          ...this.queueing(role, settings),
          sentinels: o.sentinels.map(address),
          name: o.name,
          role: 'master',
          sentinelUsername: o.username,
          sentinelPassword: o.password,
          sentinelRetryStrategy: retryDelay,
          enableTLSForSentinelMode: o.tls === true,
          ...(o.tls ? { tls: {} } : {}),
          // Follows +switch-master from the sentinels instead of waiting for the old primary to fail.
          failoverDetector: true,
        });
      case 'cluster': {
        const queueing = this.queueing(role, settings);
        const options: ClusterOptions = {
          redisOptions: {
            ...this.credentials(),
            ...node,
            ...(o.tls ? { tls: {} } : {}),
          },
          enableOfflineQueue: queueing.enableOfflineQueue,
          maxRedirections: 16,
          clusterRetryStrategy: retryDelay,
          // A command refused with CLUSTERDOWN / TRYAGAIN / MOVED did not run: retried. One whose
          // connection closed may have run: only non-command roles retry it.
          retryDelayOnClusterDown: 200,
          retryDelayOnTryAgain: 200,
          retryDelayOnFailover: role === 'commands' ? 0 : 200,
          slotsRefreshTimeout: 2000,
          slotsRefreshInterval: 2000,
          shardedSubscribers: role === 'subscriber' && settings.sharded === true,
        };
        return new Cluster(o.nodes.map(address), options);
      }
    }
  }

  private credentials(): Pick<RedisOptions, 'username' | 'password'> {
    const { username, password } = this.options;
    return {
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    };
  }

  /** Options every node connection of `role` gets (also inside a Cluster). */
  private nodeOptions(role: RedisRole, settings: RedisClientSettings): RedisOptions {
    return {
      connectionName: settings.name,
      connectTimeout: 2000,
      ...(settings.commandTimeoutMs !== undefined
        ? { commandTimeout: settings.commandTimeoutMs }
        : {}),
      maxRetriesPerRequest: role === 'subscriber' ? null : 0,
      autoResendUnfulfilledCommands: role === 'subscriber',
      autoResubscribe: role === 'subscriber',
      reconnectOnError: reconnectOnReadonly,
    };
  }

  private queueing(
    role: RedisRole,
    settings: RedisClientSettings,
  ): Pick<RedisOptions, 'enableOfflineQueue' | 'retryStrategy'> {
    return {
      enableOfflineQueue: settings.offlineQueue ?? role !== 'commands',
      retryStrategy: retryDelay,
    };
  }
}

function address(a: RedisNodeAddress): { host: string; port: number } {
  return { host: a.host, port: a.port };
}
