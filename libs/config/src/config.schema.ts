import { hostname } from 'node:os';
import { z } from 'zod';
import { parseHistoryPolicies } from './history-policies';
import { parseTrustProxy } from './trust-proxy';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Comma-separated list; blanks are dropped. */
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/**
 * Every environment variable Herald reads (CONTRACT section 6), with its default.
 * `.env.example` lists exactly these keys; a test keeps the two equal.
 */
export const configSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  BROKER: z.enum(['memory', 'redis']).default('memory'),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' })
    .default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: list.default([]),
  REDIS_SENTINELS: list.default([]),
  REDIS_SENTINEL_NAME: optionalText,
  REDIS_USERNAME: optionalText,
  REDIS_PASSWORD: optionalText,
  REDIS_MIN_REPLICAS_ACK: int(0, 16).default(0),
  REDIS_PARTITIONS: int(1, 16).default(1),
  REDIS_MIN_REPLICAS_ACK_TIMEOUT_MS: int(1, 60_000).default(1000),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{0,64}$/, 'must be 0-64 characters of [A-Za-z0-9._:-]')
    .default('herald:'),
  INGEST_STREAM: z.string().min(1).default('herald:ingest'),
  INGEST_CLAIM_IDLE_MS: int(100, 3_600_000).default(15000),
  INGEST_DEAD_MAXLEN: int(1, 100_000_000).default(10000),
  HISTORY_SIZE: int(1, 1_000_000).default(1000),
  HISTORY_TTL_S: int(1).default(3600),
  HISTORY_POLICIES: z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return parseHistoryPolicies(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    }),
  IDEMPOTENCY_MAX_KEYS: int(1, 100_000_000).default(100000),
  JWT_SECRET: optionalText,
  JWT_PUBLIC_KEY: optionalText,
  JWT_ALGORITHMS: list.default(['HS256']),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  JWT_PERMISSIONS_CLAIM: z.string().min(1).default('herald'),
  AUTH_COOKIE_NAME: z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a valid cookie name')
    .default('herald_token'),
  AUTH_QUERY_TOKEN: bool.default(true),
  ANONYMOUS_TOPICS: list.default([]),
  CORS_ORIGINS: list.default([]),
  PRESENCE_TOPICS: list.default([]),
  PRESENCE_LEASE_TTL_MS: int(1000, 3_600_000).default(30000),
  HEARTBEAT_MS: int(100, 3_600_000).default(15000),
  RETRY_MS: int(0, 3_600_000).default(3000),
  TOKEN_EXPIRY_WARNING_MS: int(0).default(30000),
  MAX_CONNECTIONS: int(1).default(10000),
  MAX_CONNECTIONS_PER_USER: int(1).default(16),
  MAX_CONNECTIONS_PER_IP: int(1).default(64),
  MAX_TOPICS_PER_CONNECTION: int(1, 1024).default(32),
  MAX_EVENT_BYTES: int(16, 16 * 1024 * 1024).default(65536),
  MAX_EVENT_DEPTH: int(1, 1000).default(64),
  MAX_BUFFERED_BYTES: int(1024).default(1048576),
  CONNECT_RATE_PER_S: z.coerce.number().positive().default(10),
  CONNECT_BURST: int(1).default(50),
  PUBLISH_RATE_PER_S: z.coerce.number().positive().default(1000),
  PUBLISH_BURST: int(1).default(2000),
  SHED_MODE: z.enum(['retry', 'status']).default('retry'),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(30000),
  COMPRESSION: z.enum(['off', 'gzip']).default('off'),
  BATCH_LINGER_MS: int(0, 1000).default(0),
  TLS_CERT_FILE: optionalText,
  TLS_KEY_FILE: optionalText,
  REQUIRE_HTTPS: bool.default(false),
  TRUST_PROXY: z
    .string()
    .superRefine((value, ctx) => {
      try {
        parseTrustProxy(value);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `must be false, true, a hop count or a comma-separated list of IPs/CIDRs (${(err as Error).message})`,
        });
      }
    })
    .default('false'),
  HSTS_MAX_AGE_S: int(0).default(31536000),
  REDACT_KEYS: list.default([
    'password',
    'secret',
    'token',
    'authorization',
    'api_key',
    'credit_card',
    'card_number',
    'cvv',
    'ssn',
  ]),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Unset: `json` when NODE_ENV is `production`, else `pretty` (see {@link withDerivedDefaults}). */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  METRICS_TOKEN: optionalText,
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9._:-]')
    .default(
      () =>
        `${hostname()
          .replace(/[^A-Za-z0-9._:-]/g, '-')
          .slice(0, 48)}-${process.pid}`,
    ),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText,
  MERCURE: z.enum(['on', 'off']).default('off'),
  MERCURE_PROTOCOL: z.enum(['v1', 'legacy', 'both']).default('both'),
  MERCURE_PUBLISHER_JWT_KEY: optionalText,
  MERCURE_SUBSCRIBER_JWT_KEY: optionalText,
  MERCURE_JWT_ALGORITHMS: list.default(['HS256']),
  MERCURE_ISSUER: optionalText,
  MERCURE_AUDIENCE: optionalText,
  MERCURE_ANONYMOUS: bool.default(false),
  MERCURE_SUBSCRIPTIONS: bool.default(false),
  /** Unset: HISTORY_SIZE. */
  MERCURE_HISTORY_SIZE: int(1, 1_000_000).optional(),
});

/** Herald's validated configuration values. */
export type HeraldConfigValues = Omit<z.output<typeof configSchema>, 'LOG_FORMAT'> & {
  readonly LOG_FORMAT: 'json' | 'pretty';
};

/** Fills the defaults that depend on other keys: LOG_FORMAT is `json` in production, else `pretty`. */
export function withDerivedDefaults(values: z.output<typeof configSchema>): HeraldConfigValues {
  return {
    ...values,
    LOG_FORMAT: values.LOG_FORMAT ?? (values.NODE_ENV === 'production' ? 'json' : 'pretty'),
  };
}

/** The keys of the schema, in declaration order. */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof HeraldConfigValues)[];
