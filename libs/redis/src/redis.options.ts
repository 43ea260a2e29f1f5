/** One `host:port` a client connects to first (a cluster seed or a sentinel). */
export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

/** Credentials and transport shared by every mode. */
interface CommonRedisConnectionOptions {
  /** ACL user for every connection (REDIS_USERNAME); the URL's user wins in `single` mode. */
  readonly username?: string;
  /** Password for every connection (REDIS_PASSWORD); the URL's password wins in `single` mode. */
  readonly password?: string;
}

/** One Redis node (REDIS_URL). */
export interface SingleRedisConnectionOptions extends CommonRedisConnectionOptions {
  readonly mode: 'single';
  /** `redis://` or `rediss://` (TLS) URL. */
  readonly url: string;
}

/** A Redis Cluster reached through seed nodes (REDIS_CLUSTER_NODES). */
export interface ClusterRedisConnectionOptions extends CommonRedisConnectionOptions {
  readonly mode: 'cluster';
  readonly nodes: readonly RedisNodeAddress[];
  /** TLS to every node (seeds written as `rediss://host:port`). */
  readonly tls?: boolean;
}

/** A primary found through Redis Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME). */
export interface SentinelRedisConnectionOptions extends CommonRedisConnectionOptions {
  readonly mode: 'sentinel';
  readonly sentinels: readonly RedisNodeAddress[];
  /** Name of the monitored primary. */
  readonly name: string;
  /** TLS to the sentinels and the data nodes (sentinels written as `rediss://host:port`). */
  readonly tls?: boolean;
}

/** Where Herald's Redis is and how to reach it, discriminated on `mode`. */
export type RedisConnectionOptions =
  SingleRedisConnectionOptions | ClusterRedisConnectionOptions | SentinelRedisConnectionOptions;

/** What a connection is for; each role has its own queueing and retry behaviour. */
export type RedisRole = 'commands' | 'subscriber' | 'blocking';

/** Per-connection settings a caller may choose. */
export interface RedisClientSettings {
  /** CLIENT SETNAME, e.g. `herald-cmd`. */
  readonly name: string;
  /** A command without a reply after this fails (default: none). */
  readonly commandTimeoutMs?: number;
  /**
   * Queue commands while (re)connecting, each bounded by `commandTimeoutMs` (default: false for
   * `commands`, so they fail at once while Redis is away; true for the other roles).
   */
  readonly offlineQueue?: boolean;
  /**
   * `subscriber` only: this connection will SSUBSCRIBE, so on Cluster it keeps one subscriber
   * connection per primary (default false: plain SUBSCRIBE on one node).
   */
  readonly sharded?: boolean;
}

/**
 * Parses `host:port` or `redis[s]://host:port` entries (REDIS_CLUSTER_NODES, REDIS_SENTINELS).
 * @throws Error naming the first malformed entry.
 */
export function parseRedisNodeList(list: readonly string[]): {
  nodes: RedisNodeAddress[];
  tls: boolean;
} {
  let tls = false;
  const nodes = list.map((entry) => {
    const m = /^(?:(rediss?):\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const port = Number(m?.[3]);
    if (!m || port < 1 || port > 65535) {
      throw new Error(`"${entry}" is not host:port (or rediss://host:port)`);
    }
    if (m[1] === 'rediss') tls = true;
    return { host: m[2].replace(/^\[(.*)\]$/, '$1'), port };
  });
  return { nodes, tls };
}
