import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseTopicFilter } from '@herald/topics';
import { configSchema, withDerivedDefaults, type HeraldConfigValues } from './config.schema';

/** Thrown at boot when the environment is invalid; the message names every bad variable. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

/** Environment as read from the process or handed in by a test. */
export type Environment = Readonly<Record<string, string | undefined>>;

// Declaration merging gives the class every typed key of the schema.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface HeraldConfig extends Readonly<HeraldConfigValues> {}

/** Typed, validated configuration; inject it as `constructor(private readonly config: HeraldConfig)`. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class HeraldConfig {
  constructor(values: HeraldConfigValues) {
    Object.assign(this, values);
    Object.freeze(this);
  }

  /**
   * Validates `env` against the schema; empty strings count as unset.
   * @throws ConfigValidationError naming every invalid variable at once.
   */
  static from(env: Environment): HeraldConfig {
    const input: Record<string, string> = {};
    for (const key of Object.keys(configSchema.shape)) {
      const value = env[key];
      if (value !== undefined && value !== '') input[key] = value;
    }
    const parsed = configSchema.safeParse(input);
    if (!parsed.success) {
      throw new ConfigValidationError(
        parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
      );
    }
    const values = withDerivedDefaults(parsed.data);
    const problems = crossFieldProblems(values);
    if (problems.length > 0) throw new ConfigValidationError(problems);
    return new HeraldConfig(values);
  }

  /** Validates the process environment (the only place Herald reads it). */
  static fromProcessEnv(): HeraldConfig {
    return HeraldConfig.from(process.env);
  }

  /** True when NODE_ENV is `production`. */
  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }

  /** True when no JWT key is set outside production: Herald makes an ephemeral dev secret. */
  get isAuthDevMode(): boolean {
    return !this.isProduction && this.JWT_SECRET === undefined && this.JWT_PUBLIC_KEY === undefined;
  }
}

/** Algorithms Herald verifies, by key kind. */
const HMAC_ALGORITHMS = new Set(['HS256', 'HS384', 'HS512']);
const KEY_ALGORITHMS: Record<string, ReadonlySet<string>> = {
  rsa: new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']),
  'rsa-pss': new Set(['PS256', 'PS384', 'PS512']),
  ec: new Set(['ES256', 'ES384', 'ES512']),
  ed25519: new Set(['EdDSA']),
  ed448: new Set(['EdDSA']),
};

/** Minimum JWT_SECRET length in bytes (HS256 needs a key at least as long as its hash). */
export const MIN_JWT_SECRET_BYTES = 32;

/**
 * Reads JWT_PUBLIC_KEY as a PEM public key (`\\n` escapes allowed, as env files often carry them).
 * @throws Error when it is not a PEM public key.
 */
export function parsePublicKeyPem(pem: string): KeyObject {
  const text = pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem;
  if (!/-----BEGIN (?:RSA )?PUBLIC KEY-----/.test(text)) throw new Error('not a PEM public key');
  return createPublicKey({ key: text, format: 'pem' });
}

function crossFieldProblems(c: HeraldConfigValues): string[] {
  const problems: string[] = [];
  if ((c.TLS_CERT_FILE === undefined) !== (c.TLS_KEY_FILE === undefined)) {
    problems.push('TLS_CERT_FILE, TLS_KEY_FILE: set both or neither');
  }
  problems.push(...authProblems(c), ...redisProblems(c));
  return problems;
}

/** `host:port` or `redis[s]://host:port`. */
const REDIS_NODE = /^(?:rediss?:\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function redisProblems(c: HeraldConfigValues): string[] {
  const problems: string[] = [];
  for (const key of ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const) {
    const bad = c[key].filter((n) => {
      const m = REDIS_NODE.exec(n);
      return !m || Number(m[2]) < 1 || Number(m[2]) > 65535;
    });
    if (bad.length > 0) {
      problems.push(`${key}: ${bad.join(', ')} not host:port (or rediss://host:port)`);
    }
  }
  if (c.REDIS_CLUSTER_NODES.length > 0 && c.REDIS_SENTINELS.length > 0) {
    problems.push('REDIS_CLUSTER_NODES, REDIS_SENTINELS: set one of them, not both');
  }
  if (c.REDIS_SENTINELS.length > 0 !== (c.REDIS_SENTINEL_NAME !== undefined)) {
    problems.push('REDIS_SENTINELS, REDIS_SENTINEL_NAME: set both or neither');
  }
  return problems;
}

function authProblems(c: HeraldConfigValues): string[] {
  const problems: string[] = [];
  const secret = c.JWT_SECRET;
  const pem = c.JWT_PUBLIC_KEY;
  if (secret !== undefined && pem !== undefined) {
    problems.push('JWT_SECRET, JWT_PUBLIC_KEY: set one of them, not both');
  }
  if (c.NODE_ENV === 'production' && secret === undefined && pem === undefined) {
    problems.push(
      'JWT_SECRET, JWT_PUBLIC_KEY: production needs a key (JWT_SECRET for HS256, or JWT_PUBLIC_KEY PEM)',
    );
  }
  if (c.JWT_ALGORITHMS.length === 0) problems.push('JWT_ALGORITHMS: must list at least one');
  const unknown = c.JWT_ALGORITHMS.filter(
    (a) => !HMAC_ALGORITHMS.has(a) && !Object.values(KEY_ALGORITHMS).some((s) => s.has(a)),
  );
  if (unknown.length > 0) {
    problems.push(`JWT_ALGORITHMS: unsupported ${unknown.join(', ')} (none is never accepted)`);
  }
  if (secret !== undefined) {
    if (Buffer.byteLength(secret, 'utf8') < MIN_JWT_SECRET_BYTES) {
      problems.push(`JWT_SECRET: must be at least ${MIN_JWT_SECRET_BYTES} bytes`);
    }
    const asymmetric = c.JWT_ALGORITHMS.filter((a) => !HMAC_ALGORITHMS.has(a));
    if (asymmetric.length > 0) {
      problems.push(`JWT_ALGORITHMS: ${asymmetric.join(', ')} need JWT_PUBLIC_KEY, not JWT_SECRET`);
    }
  }
  if (pem !== undefined) {
    let key: KeyObject | undefined;
    try {
      key = parsePublicKeyPem(pem);
    } catch {
      problems.push('JWT_PUBLIC_KEY: not a valid PEM public key (SPKI "BEGIN PUBLIC KEY")');
    }
    if (key !== undefined) {
      const allowed = KEY_ALGORITHMS[key.asymmetricKeyType ?? ''] ?? new Set<string>();
      const misfit = c.JWT_ALGORITHMS.filter((a) => !allowed.has(a));
      if (misfit.length > 0) {
        problems.push(
          `JWT_ALGORITHMS: ${misfit.join(', ')} cannot verify with the ${key.asymmetricKeyType ?? 'unknown'} JWT_PUBLIC_KEY (allowed: ${[...allowed].join(', ') || 'none'})`,
        );
      }
    }
  }
  for (const topic of c.ANONYMOUS_TOPICS) {
    try {
      parseTopicFilter(topic);
    } catch (err) {
      problems.push(`ANONYMOUS_TOPICS: ${(err as Error).message}`);
    }
  }
  for (const topic of c.PRESENCE_TOPICS) {
    try {
      parseTopicFilter(topic);
    } catch (err) {
      problems.push(`PRESENCE_TOPICS: ${(err as Error).message}`);
    }
  }
  for (const origin of c.CORS_ORIGINS) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`CORS_ORIGINS: "${origin}" must be an origin like https://app.example.com`);
    }
  }
  return problems;
}
