import type { RedisConnectionOptions } from '@herald/redis';

/** Which Mercure generations the hub speaks (MERCURE_PROTOCOL). */
export type MercureProtocol = 'v1' | 'legacy' | 'both';

/** A token verification key: Herald's own (JWT_SECRET / JWT_PUBLIC_KEY), a secret or a PEM key. */
export type MercureKeyOptions =
  | { readonly driver: 'herald' }
  | { readonly driver: 'secret'; readonly secret: string }
  | { readonly driver: 'public-key'; readonly publicKeyPem: string };

/** Where publisher ids are mapped to broker cursors: this process, or Redis (every instance). */
export type MercureStoreOptions =
  | { readonly driver: 'memory' }
  | {
      readonly driver: 'redis';
      readonly redis: RedisConnectionOptions;
      /** REDIS_KEY_PREFIX. */
      readonly keyPrefix: string;
    };

/** Options of {@link MercureModule}. */
export interface MercureModuleOptions {
  readonly protocol: MercureProtocol;
  /** Verifies publishers' tokens (MERCURE_PUBLISHER_JWT_KEY). */
  readonly publisherKey: MercureKeyOptions;
  /** Verifies subscribers' tokens (MERCURE_SUBSCRIBER_JWT_KEY). */
  readonly subscriberKey: MercureKeyOptions;
  /** Accepted JWS algorithms (MERCURE_JWT_ALGORITHMS, default HS256). */
  readonly algorithms: readonly string[];
  /** Required `iss` of 1.0 tokens (MERCURE_ISSUER). */
  readonly issuer?: string;
  /** Required `aud` of 1.0 tokens (MERCURE_AUDIENCE). */
  readonly audience?: string;
  /** Subscribers without a token get public updates (MERCURE_ANONYMOUS). */
  readonly anonymous: boolean;
  /** Subscription events and the subscriptions API (MERCURE_SUBSCRIPTIONS). */
  readonly subscriptions: boolean;
  /** Publisher ids kept resumable (MERCURE_HISTORY_SIZE). */
  readonly historySize: number;
  /** HISTORY_TTL_S in ms: how long an id stays resumable at most. */
  readonly historyTtlMs: number;
  /** Largest `data` in bytes (MAX_EVENT_BYTES). */
  readonly maxEventBytes: number;
  /** Most selectors per subscription (MAX_TOPICS_PER_CONNECTION). */
  readonly maxSelectors: number;
  /** Keys redacted in JSON `data` (REDACT_KEYS). */
  readonly redactKeys: readonly string[];
  readonly store: MercureStoreOptions;
  /** INSTANCE_ID: whose subscriptions these are, cluster-wide. */
  readonly instanceId: string;
}
