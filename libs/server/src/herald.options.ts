/** Pure mappers from one validated {@link HeraldConfig} to each Herald lib's module options. */
import type { AuthKeyOptions, AuthModuleOptions } from '@herald/auth';
import type { HeraldConfig } from '@herald/config';
import type { BrokerModuleOptions } from '@herald/broker';
import type { ClusterModuleOptions } from '@herald/cluster';
import type { LimitsModuleOptions } from '@herald/limits';
import type { IngestModuleOptions } from '@herald/ingest';
import type { MercureKeyOptions, MercureModuleOptions } from '@herald/mercure';
import type { PresenceModuleOptions } from '@herald/presence';
import type { PublishModuleOptions } from '@herald/publish';
import { parseRedisNodeList, type RedisConnectionOptions } from '@herald/redis';
import type { StreamsModuleOptions } from '@herald/streams';
import type { TelemetryModuleOptions } from '@herald/telemetry';

/**
 * Where Herald's Redis is, for every lib that uses it: a Cluster (REDIS_CLUSTER_NODES), a
 * Sentinel-managed primary (REDIS_SENTINELS + REDIS_SENTINEL_NAME), else one node (REDIS_URL).
 */
export function redisConnectionOptions(config: HeraldConfig): RedisConnectionOptions {
  const credentials = {
    ...(config.REDIS_USERNAME !== undefined ? { username: config.REDIS_USERNAME } : {}),
    ...(config.REDIS_PASSWORD !== undefined ? { password: config.REDIS_PASSWORD } : {}),
  };
  if (config.REDIS_CLUSTER_NODES.length > 0) {
    const { nodes, tls } = parseRedisNodeList(config.REDIS_CLUSTER_NODES);
    return { mode: 'cluster', nodes, tls, ...credentials };
  }
  if (config.REDIS_SENTINELS.length > 0 && config.REDIS_SENTINEL_NAME !== undefined) {
    const { nodes, tls } = parseRedisNodeList(config.REDIS_SENTINELS);
    return {
      mode: 'sentinel',
      sentinels: nodes,
      name: config.REDIS_SENTINEL_NAME,
      tls,
      ...credentials,
    };
  }
  return { mode: 'single', url: config.REDIS_URL, ...credentials };
}

/** The broker: in-process (BROKER=memory) or Redis Streams, with the history policy. */
export function brokerOptions(config: HeraldConfig): BrokerModuleOptions {
  const common = {
    historySize: config.HISTORY_SIZE,
    historyTtlMs: config.HISTORY_TTL_S * 1000,
    historyPolicies: config.HISTORY_POLICIES,
  };
  switch (config.BROKER) {
    case 'memory':
      return { driver: 'memory', maxIdempotencyKeys: config.IDEMPOTENCY_MAX_KEYS, ...common };
    case 'redis':
      return {
        driver: 'redis',
        redis: redisConnectionOptions(config),
        keyPrefix: config.REDIS_KEY_PREFIX,
        minReplicasAck: config.REDIS_MIN_REPLICAS_ACK,
        replicasAckTimeoutMs: config.REDIS_MIN_REPLICAS_ACK_TIMEOUT_MS,
        partitions: config.REDIS_PARTITIONS,
        ...common,
      };
  }
}

/** The stream pipeline: heartbeats, retry, buffers, topics, shed mode, drain, compression. */
export function streamsOptions(config: HeraldConfig): StreamsModuleOptions {
  return {
    heartbeatMs: config.HEARTBEAT_MS,
    retryMs: config.RETRY_MS,
    maxBufferedBytes: config.MAX_BUFFERED_BYTES,
    maxTopicsPerConnection: config.MAX_TOPICS_PER_CONNECTION,
    shedMode: config.SHED_MODE,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    batchLingerMs: config.BATCH_LINGER_MS,
    compression: config.COMPRESSION,
    instanceId: config.INSTANCE_ID,
    tokenExpiryWarningMs: config.TOKEN_EXPIRY_WARNING_MS,
  };
}

/** Publish validation: event size and depth, redacted keys. */
export function publishOptions(config: HeraldConfig): PublishModuleOptions {
  return {
    maxEventBytes: config.MAX_EVENT_BYTES,
    maxEventDepth: config.MAX_EVENT_DEPTH,
    redactKeys: config.REDACT_KEYS,
  };
}

/** Rate limits and caps; counted in Redis (shared by every instance) when BROKER=redis. */
export function limitsOptions(config: HeraldConfig): LimitsModuleOptions {
  const common = {
    connectRatePerS: config.CONNECT_RATE_PER_S,
    connectBurst: config.CONNECT_BURST,
    publishRatePerS: config.PUBLISH_RATE_PER_S,
    publishBurst: config.PUBLISH_BURST,
    maxConnections: config.MAX_CONNECTIONS,
    maxConnectionsPerUser: config.MAX_CONNECTIONS_PER_USER,
    maxConnectionsPerIp: config.MAX_CONNECTIONS_PER_IP,
  };
  switch (config.BROKER) {
    case 'memory':
      return { driver: 'memory', ...common };
    case 'redis':
      return {
        driver: 'redis',
        redis: redisConnectionOptions(config),
        keyPrefix: `${config.REDIS_KEY_PREFIX}limits:`,
        ...common,
      };
  }
}

/** Presence of PRESENCE_TOPICS: in process, or shared through Redis with BROKER=redis. */
export function presenceOptions(config: HeraldConfig): PresenceModuleOptions {
  const common = { topics: config.PRESENCE_TOPICS, instanceId: config.INSTANCE_ID };
  switch (config.BROKER) {
    case 'memory':
      return { driver: 'memory', ...common };
    case 'redis':
      return {
        driver: 'redis',
        redis: redisConnectionOptions(config),
        keyPrefix: config.REDIS_KEY_PREFIX,
        leaseTtlMs: config.PRESENCE_LEASE_TTL_MS,
        ...common,
      };
  }
}

/** Ingest stream consumer (BROKER=redis only). */
export function ingestOptions(config: HeraldConfig): IngestModuleOptions {
  return {
    redis: redisConnectionOptions(config),
    stream: config.INGEST_STREAM,
    consumer: config.INSTANCE_ID,
    claimIdleMs: config.INGEST_CLAIM_IDLE_MS,
    deadMaxLen: config.INGEST_DEAD_MAXLEN,
  };
}

/** Auth options: the key from JWT_SECRET / JWT_PUBLIC_KEY, or an ephemeral one in development. */
export function authOptions(config: HeraldConfig): AuthModuleOptions {
  let key: AuthKeyOptions;
  if (config.JWT_SECRET !== undefined) key = { driver: 'secret', secret: config.JWT_SECRET };
  else if (config.JWT_PUBLIC_KEY !== undefined) {
    key = { driver: 'public-key', publicKeyPem: config.JWT_PUBLIC_KEY };
  } else if (config.isAuthDevMode) key = { driver: 'ephemeral' };
  else throw new Error('JWT_SECRET or JWT_PUBLIC_KEY is required in production');
  return {
    key,
    algorithms: config.JWT_ALGORITHMS,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    permissionsClaim: config.JWT_PERMISSIONS_CLAIM,
    cookieName: config.AUTH_COOKIE_NAME,
    queryToken: config.AUTH_QUERY_TOKEN,
    anonymousTopics: config.ANONYMOUS_TOPICS,
    revocation:
      config.BROKER === 'redis'
        ? {
            driver: 'redis',
            redis: redisConnectionOptions(config),
            keyPrefix: config.REDIS_KEY_PREFIX,
          }
        : { driver: 'memory' },
  };
}

/** Readiness fails while the event loop's p99 delay stays above this. */
export const EVENT_LOOP_DELAY_THRESHOLD_MS = 1000;

/** Metrics and tracing (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set). */
export function telemetryOptions(config: HeraldConfig): TelemetryModuleOptions {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return {
    instanceId: config.INSTANCE_ID,
    maxConnections: config.MAX_CONNECTIONS,
    tracing:
      endpoint === undefined
        ? { driver: 'off' }
        : { driver: 'otlp', endpoint, instanceId: config.INSTANCE_ID },
    eventLoopDelayThresholdMs: EVENT_LOOP_DELAY_THRESHOLD_MS,
  };
}

/** The admin API's cluster bus: in-process with one instance, Redis pub/sub with BROKER=redis. */
export function clusterOptions(config: HeraldConfig): ClusterModuleOptions {
  switch (config.BROKER) {
    case 'memory':
      return { driver: 'local', instanceId: config.INSTANCE_ID };
    case 'redis':
      return {
        driver: 'redis',
        instanceId: config.INSTANCE_ID,
        redis: redisConnectionOptions(config),
        keyPrefix: config.REDIS_KEY_PREFIX,
      };
  }
}

/** A Mercure key setting: a PEM public key, an HMAC secret, or (unset) Herald's own key. */
function mercureKey(value: string | undefined): MercureKeyOptions {
  if (value === undefined) return { driver: 'herald' };
  return value.trimStart().startsWith('-----BEGIN')
    ? { driver: 'public-key', publicKeyPem: value }
    : { driver: 'secret', secret: value };
}

/** The Mercure hub (MERCURE=on): keys, dialects, and where ids live (Redis with BROKER=redis). */
export function mercureOptions(config: HeraldConfig): MercureModuleOptions {
  return {
    protocol: config.MERCURE_PROTOCOL,
    publisherKey: mercureKey(config.MERCURE_PUBLISHER_JWT_KEY),
    subscriberKey: mercureKey(config.MERCURE_SUBSCRIBER_JWT_KEY),
    algorithms: config.MERCURE_JWT_ALGORITHMS,
    issuer: config.MERCURE_ISSUER,
    audience: config.MERCURE_AUDIENCE,
    anonymous: config.MERCURE_ANONYMOUS,
    subscriptions: config.MERCURE_SUBSCRIPTIONS,
    // The broker keeps HISTORY_SIZE events per topic, the hub's topic included: at most that.
    historySize: Math.min(config.MERCURE_HISTORY_SIZE ?? config.HISTORY_SIZE, config.HISTORY_SIZE),
    historyTtlMs: config.HISTORY_TTL_S * 1000,
    maxEventBytes: config.MAX_EVENT_BYTES,
    maxSelectors: config.MAX_TOPICS_PER_CONNECTION,
    redactKeys: config.REDACT_KEYS,
    instanceId: config.INSTANCE_ID,
    store:
      config.BROKER === 'redis'
        ? {
            driver: 'redis',
            redis: redisConnectionOptions(config),
            keyPrefix: config.REDIS_KEY_PREFIX,
          }
        : { driver: 'memory' },
  };
}
