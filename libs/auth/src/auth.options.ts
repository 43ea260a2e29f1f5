import type { RedisConnectionOptions } from '@herald/redis';

/** Where verification keys come from. */
export type AuthKeyOptions =
  /** HS* with a shared secret (JWT_SECRET, at least 32 bytes). */
  | { readonly driver: 'secret'; readonly secret: string }
  /** RS*, PS*, ES* or EdDSA with a PEM public key (JWT_PUBLIC_KEY). */
  | { readonly driver: 'public-key'; readonly publicKeyPem: string }
  /** Development only: a random HS256 secret made at boot; `GET /dev/token` signs with it. */
  | { readonly driver: 'ephemeral' };

/** Where revoked subjects are kept: this process, or Redis shared by every instance. */
export type RevocationOptions =
  | { readonly driver: 'memory' }
  | {
      readonly driver: 'redis';
      readonly redis: RedisConnectionOptions;
      readonly keyPrefix: string;
    };

/** Options of {@link AuthModule}. */
export interface AuthModuleOptions {
  readonly key: AuthKeyOptions;
  /** Accepted `alg` values (JWT_ALGORITHMS); the token's own header never widens them. */
  readonly algorithms: readonly string[];
  /** Expected `iss` (JWT_ISSUER), checked when set. */
  readonly issuer?: string;
  /** Expected `aud` (JWT_AUDIENCE), checked when set. */
  readonly audience?: string;
  /** Claim holding `{subscribe, publish, admin}` (JWT_PERMISSIONS_CLAIM). */
  readonly permissionsClaim: string;
  /** Cookie read for a token (AUTH_COOKIE_NAME). */
  readonly cookieName: string;
  /** Accept `?access_token=` (AUTH_QUERY_TOKEN). */
  readonly queryToken: boolean;
  /** Patterns a token-less client may subscribe to (ANONYMOUS_TOPICS). */
  readonly anonymousTopics: readonly string[];
  /** Allowed clock skew on `exp`/`nbf`/`iat`, in seconds (capped at 60; default 60). */
  readonly clockToleranceS?: number;
  /** Longest accepted token, in characters (default 8192). */
  readonly maxTokenLength?: number;
  /** Revocation store (default in-memory). */
  readonly revocation?: RevocationOptions;
}
